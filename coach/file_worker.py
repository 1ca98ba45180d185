"""Blocking file work of live sessions (Opus encoding, journal appends) off the event loop.

The loop that carries every session's audio must never wait on a disk or an encoder: a slow
`flush()` or a second of Opus encoding there delays every other session's frames. Each piece of
work is keyed (a session's recording, its journal) and runs on one of a few threads chosen by
its key, so one key's work stays in order while different sessions run side by side.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from coach.worker_threads import background_executor

log = logging.getLogger("coach.file_worker")

T = TypeVar("T")

# Work waiting per thread before `busy` says so: at one job a second per session, 2,000 is
# a disk that has stalled for seconds, not a busy one.
BUSY_BACKLOG = 2_000


class FileWorker:
    """A few threads, each running its keys' jobs in the order they were submitted."""

    def __init__(self, threads: int = 2, *, busy_backlog: int = BUSY_BACKLOG) -> None:
        # below the loop's priority: a burst of encoding must not take the CPU from the audio
        self._lanes = [background_executor(f"coach-files-{i}") for i in range(max(1, threads))]
        # seconds of encoding at a session's end must not hold up other sessions' appends
        self._heavy = background_executor("coach-encode")
        self._pending = [0] * len(self._lanes)
        self._lock = threading.Lock()
        self._busy_backlog = busy_backlog
        self._closed = False
        self.failures = 0

    def _lane(self, key: str) -> int:
        # crc32, not hash(): the lane of a key must not change with PYTHONHASHSEED between runs
        return zlib.crc32(key.encode()) % len(self._lanes)

    def submit(self, key: str, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue `fn(*args)` after every job already queued for `key`; errors are logged."""
        if self._closed:
            raise RuntimeError("the file worker is closed")
        lane = self._lane(key)
        with self._lock:
            self._pending[lane] += 1
        future = self._lanes[lane].submit(self._run, lane, fn, *args)
        return future

    def _run(self, lane: int, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except Exception as e:
            with self._lock:
                self.failures += 1
            log.error("file work %s failed: %s", getattr(fn, "__qualname__", fn), e)
            raise
        finally:
            with self._lock:
                self._pending[lane] -= 1

    def submit_heavy(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue long work (a recording's encoding) on a thread of its own, one job at a time."""
        if self._closed:
            raise RuntimeError("the file worker is closed")
        return self._heavy.submit(fn, *args)

    async def run(self, key: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` after every job queued for `key`, awaited."""
        return await asyncio.wrap_future(self.submit(key, fn, *args))

    def busy(self, key: str) -> bool:
        """Whether `key`'s thread is so far behind that optional work should be dropped."""
        return self._pending[self._lane(key)] >= self._busy_backlog

    @property
    def pending(self) -> int:
        """Jobs queued or running on every thread."""
        return sum(self._pending)

    async def drain(self) -> None:
        """Wait until every job queued so far has run."""
        if self._closed:
            return
        marks = [asyncio.wrap_future(lane.submit(_nothing)) for lane in self._lanes]
        await asyncio.gather(*marks)

    async def aclose(self) -> None:
        """Run what is queued, then stop the threads."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        for lane in self._lanes:
            lane.shutdown(wait=True)
        self._heavy.shutdown(wait=True)

    def close(self) -> None:
        """Synchronous `aclose`, for code with no loop."""
        self._closed = True
        self._shutdown()


def _nothing() -> None:
    return None


def wait_for(future: Future[Any] | None) -> None:
    """Block until `future` has run (its error was logged by the worker), if there is one."""
    if future is not None:
        concurrent.futures.wait([future])
