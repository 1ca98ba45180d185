"""What every external provider shares: its error type and one retry policy."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("coach.providers")


class ProviderError(Exception):
    """A failure of an external service, said in coach's words."""

    def __init__(self, provider: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.retryable = retryable


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
) -> T:
    """Run `call`, retrying `ProviderError(retryable=True)` with backoff; others raise at once."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except ProviderError as e:
            if not e.retryable or attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt)
            log.warning(
                "retrying after provider error",
                extra={"provider": provider, "attempt": attempt, "wait": round(wait, 2)},
            )
            await sleep(wait)
