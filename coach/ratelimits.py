"""Rate limits on everything that costs: per client address and per account, with `limits`.

Each action has a limit per client address and one per account (either may be absent), read
from settings in the `limits` notation ("10/minute", several joined with ";"). Counters are
moving windows, kept in this process's memory, or in MongoDB when `MONGODB_URI` is set so
that every instance counts the same requests. A refused request costs nothing: every limit is
tested before any is charged, and the refusal says when to come back (`Retry-After`).

Sign-in counts failures, not attempts, and keys them so that an attacker cannot lock the owner
out: per (account, address), per address over every account (a spray from one place), and per
account over every address — the last applies only to addresses that have already failed on
that account, so the owner's correct password from a new address is never refused by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Literal, get_args

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, MongoDBStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from coach.settings import Settings

log = logging.getLogger("coach.ratelimits")

Action = Literal[
    "register", "ws_ticket", "session", "analyze", "retry", "livekit_token", "password"
]
ACTIONS: tuple[Action, ...] = get_args(Action)


class RateLimited(Exception):
    """Over a limit: `retry_after` whole seconds until the request would be accepted."""

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after, self.what = retry_after, what


@dataclass(frozen=True, slots=True)
class _Limit:
    items: tuple[RateLimitItem, ...]
    scope: str  # part of the counter's key: which action, and keyed by what


def _key(*parts: str) -> str:
    # Counters may sit in MongoDB: they hold a digest, never an email, an address or a user id.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec)) if spec.strip() else ()


_WHAT = {
    "register": "sign-ups",
    "ws_ticket": "WebSocket tickets",
    "session": "interview starts",
    "analyze": "analyses",
    "retry": "retries",
    "livekit_token": "LiveKit tokens",
    "password": "password changes",
}


class RateLimits:
    """The limits of one app instance, on the storage its settings name."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.enabled = settings.rate_limits
        if storage is None:
            storage = _storage(settings)
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_address: dict[Action, _Limit] = {}
        self._per_account: dict[Action, _Limit] = {}
        for action in ACTIONS:
            self._per_address[action] = _Limit(
                _items(getattr(settings, f"rate_limit_{action}_per_address")), f"{action}:addr"
            )
            if action != "register":
                self._per_account[action] = _Limit(
                    _items(getattr(settings, f"rate_limit_{action}_per_account")), f"{action}:acct"
                )
        self._login_pair = _Limit(
            _items(settings.rate_limit_login_failures_per_account_and_address), "login:pair"
        )
        self._login_address = _Limit(
            _items(settings.rate_limit_login_failures_per_address), "login:addr"
        )
        self._login_account = _Limit(
            _items(settings.rate_limit_login_failures_per_account), "login:acct"
        )

    async def _over(self, limit: _Limit, key: str) -> float | None:
        """When the first exhausted item of `limit` for `key` frees up, or None if none is."""
        later: float | None = None
        for item in limit.items:
            if not await self._limiter.test(item, limit.scope, key):
                stats = await self._limiter.get_window_stats(item, limit.scope, key)
                later = max(later or 0.0, stats.reset_time)
        return later

    async def _refuse_if_over(self, checks: list[tuple[_Limit, str]], what: str) -> None:
        resets = [r for limit, key in checks if (r := await self._over(limit, key)) is not None]
        if resets:
            raise RateLimited(max(1, math.ceil(max(resets) - time.time())), what)

    async def _charge(self, checks: list[tuple[_Limit, str]]) -> None:
        for limit, key in checks:
            for item in limit.items:
                await self._limiter.hit(item, limit.scope, key)

    async def hit(self, action: Action, *, address: str, account: str | None = None) -> None:
        """Count one `action`; raises `RateLimited` (counting nothing) when over a limit."""
        if not self.enabled:
            return
        checks = [(self._per_address[action], _key(address))]
        if account is not None and action in self._per_account:
            checks.append((self._per_account[action], _key(account)))
        await self._refuse_if_over(checks, _WHAT[action])
        await self._charge(checks)

    async def _login_checks(self, email: str, address: str) -> list[tuple[_Limit, str]]:
        pair = _key(email, address)
        checks = [(self._login_pair, pair), (self._login_address, _key(address))]
        failed_here = False
        for item in self._login_pair.items:
            stats = await self._limiter.get_window_stats(item, self._login_pair.scope, pair)
            failed_here = failed_here or stats.remaining < item.amount
        if failed_here:
            checks.append((self._login_account, _key(email)))
        return checks

    async def login_allowed(self, email: str, address: str) -> None:
        """Raises `RateLimited` when this address may not try this account now."""
        if self.enabled:
            await self._refuse_if_over(await self._login_checks(email, address), "failed sign-ins")

    async def login_failed(self, email: str, address: str) -> None:
        """Count a wrong password for this account from this address."""
        if self.enabled:
            await self._charge(
                [
                    (self._login_pair, _key(email, address)),
                    (self._login_address, _key(address)),
                    (self._login_account, _key(email)),
                ]
            )

    async def login_succeeded(self, email: str, address: str) -> None:
        """The owner got in from here: their earlier typos from this address are forgiven."""
        if self.enabled:
            for item in self._login_pair.items:
                await self._limiter.clear(item, self._login_pair.scope, _key(email, address))

    async def aclose(self) -> None:
        """Stop the storage's background work."""
        storage = self.storage
        if isinstance(storage, MemoryStorage):
            timer = storage.timer
            if timer is not None and not timer.done():
                timer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timer
        elif isinstance(storage, MongoDBStorage):
            storage.storage.close()


def _storage(settings: Settings) -> Storage:
    if settings.mongodb_uri:
        # Shared counters: every instance on this database refuses the same requests.
        return MongoDBStorage(
            f"async+{settings.mongodb_uri}",
            database_name=settings.mongodb_database,
            counter_collection_name="rateLimitCounters",
            window_collection_name="rateLimitWindows",
            tz_aware=True,
        )
    return MemoryStorage()
