"""How late the event loop runs: the stall every live session's audio feels at once.

A task asks to wake every `interval` seconds and measures how much later it actually woke;
that lateness is the time some callback held the loop. The longest since start and a histogram
are kept (`/metrics`: `coach_event_loop_lag_seconds`), so an operator and the load bench see a
blocking call as soon as it costs a session its real-time pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("coach.loop_lag")

INTERVAL = 0.02
# the window `recent_longest` looks back over, in whole seconds
WINDOW = 60
# worth a line in the log: a stall this long delays every live session's transcript
WARN_SECONDS = 0.25


class LoopLag:
    """Measures the loop's lateness from a task of its own while started."""

    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        observe: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._observe = observe
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.longest = 0.0
        self.samples = 0
        # (second, longest stall in it) for the last WINDOW seconds
        self._seconds: deque[tuple[int, float]] = deque()

    def start(self) -> None:
        """Begin measuring on the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="loop-lag")

    def reset(self) -> float:
        """The longest stall since the last reset (or start), and start again from zero."""
        longest, self.longest = self.longest, 0.0
        return longest

    def record(self, lateness: float) -> None:
        """One measurement: how late the loop woke the watcher."""
        lateness = max(0.0, lateness)
        self.samples += 1
        self.longest = max(self.longest, lateness)
        second = math.floor(self._clock())
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1] = (second, max(self._seconds[-1][1], lateness))
        else:
            self._seconds.append((second, lateness))
        while self._seconds and self._seconds[0][0] <= second - WINDOW:
            self._seconds.popleft()
        if self._observe is not None:
            self._observe(lateness)
        if lateness >= WARN_SECONDS:
            log.warning("the event loop stalled for %.0f ms", lateness * 1000)

    def recent_longest(self) -> float:
        """The longest stall in the last minute (what `/metrics` shows as a gauge)."""
        now = math.floor(self._clock())
        return max((v for t, v in self._seconds if t > now - WINDOW), default=0.0)

    async def _watch(self) -> None:
        while True:
            asked = self._clock()
            await asyncio.sleep(self.interval)
            self.record(self._clock() - asked - self.interval)

    async def aclose(self) -> None:
        """Stop measuring."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
