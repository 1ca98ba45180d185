"""What every external provider shares: its error type and one retry policy."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")

log = logging.getLogger("coach.providers")


class ProviderError(Exception):
    """A failure of an external service, said in coach's words."""

    def __init__(self, provider: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.retryable = retryable


class ProviderObserver(Protocol):
    """Told of every provider call, error and retry (the app's metrics)."""

    def provider_call(self, provider: str, seconds: float, error: ProviderError | None) -> None:
        """One attempt ended, after `seconds`, with `error` or None."""
        ...

    def provider_retry(self, provider: str) -> None:
        """A retryable error is about to be retried."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, for retryable provider errors only."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, ceiling)


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    provider: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    observer: ProviderObserver | None = None,
) -> T:
    """Run `call`, retrying `ProviderError(retryable=True)` with backoff; others raise at once."""
    attempt = 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            result = await call()
        except ProviderError as e:
            if observer is not None:
                observer.provider_call(provider, time.monotonic() - started, e)
            if not e.retryable or attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt)
            log.warning(
                "%s failed (attempt %d of %d), retrying in %.2f s: %s",
                provider, attempt, policy.attempts, wait, e.message,
            )  # fmt: skip
            if observer is not None:
                observer.provider_retry(provider)
            await sleep(wait)
        else:
            if observer is not None:
                observer.provider_call(provider, time.monotonic() - started, None)
            return result
