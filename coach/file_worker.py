"""Blocking file work of live sessions (audio and journal appends, encoding) off the event loop.

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
import time
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from coach.worker_threads import background_executor

log = logging.getLogger("coach.file_worker")

T = TypeVar("T")

# Work waiting per thread before `busy` says so: at one job a second per session, 2,000 is
# a disk that has stalled for seconds, not a busy one.
BUSY_BACKLOG = 2_000
# A woken thread gathers the jobs of this long before it runs them: at hundreds of sessions
# each writing once a second, waking a thread per job cost the loop a GIL hand-off per job
# (7 % of its time at 200 sessions); gathered, a thread wakes at most 50 times a second.
GATHER_SECONDS = 0.02


class _Lane:
    """One thread and the jobs waiting for it."""

    def __init__(self, name: str) -> None:
        self.executor = background_executor(name)
        self.jobs: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()
        self.scheduled = False  # a run of the thread is queued or running
        self.pending = 0


class FileWorker:
    """A few threads, each running its keys' jobs in the order they were submitted."""

    def __init__(
        self,
        threads: int = 2,
        *,
        busy_backlog: int = BUSY_BACKLOG,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        # below the loop's priority: a burst of file work must not take the CPU from the audio
        self._lanes = [_Lane(f"coach-files-{i}") for i in range(max(1, threads))]
        # seconds of encoding at a session's end must not hold up other sessions' appends
        self._heavy = background_executor("coach-encode")
        self._lock = threading.Lock()
        self._busy_backlog = busy_backlog
        self._gather = gather_seconds
        self._closed = False
        self.failures = 0

    def _lane(self, key: str) -> _Lane:
        # crc32, not hash(): the lane of a key must not change with PYTHONHASHSEED between runs
        return self._lanes[zlib.crc32(key.encode()) % len(self._lanes)]

    def submit(self, key: str, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue `fn(*args)` after every job already queued for `key`; errors are logged."""
        return self._queue(self._lane(key), fn, args)

    def _queue(self, lane: _Lane, fn: Callable[..., T], args: tuple[Any, ...]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the file worker is closed")
            lane.jobs.append((future, fn, args))
            lane.pending += 1
            wake, lane.scheduled = not lane.scheduled, True
        if wake:
            lane.executor.submit(self._run_lane, lane)
        return future

    def _run_lane(self, lane: _Lane) -> None:
        if self._gather > 0 and not self._closed:
            time.sleep(self._gather)
        while True:
            with self._lock:
                if not lane.jobs:
                    lane.scheduled = False
                    return
                batch = list(lane.jobs)
                lane.jobs.clear()
            for future, fn, args in batch:
                self._run(lane, future, fn, args)

    def _run(
        self, lane: _Lane, future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        # counted done before its future says so: whoever waits on it sees `pending` without it
        if not future.set_running_or_notify_cancel():
            with self._lock:
                lane.pending -= 1
            return
        try:
            result = fn(*args)
        except Exception as e:
            with self._lock:
                self.failures += 1
                lane.pending -= 1
            log.error("file work %s failed: %s", getattr(fn, "__qualname__", fn), e)
            future.set_exception(e)
        else:
            with self._lock:
                lane.pending -= 1
            future.set_result(result)

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
        return self._lane(key).pending >= self._busy_backlog

    @property
    def pending(self) -> int:
        """Jobs queued or running on every thread."""
        return sum(lane.pending for lane in self._lanes)

    async def drain(self) -> None:
        """Wait until every job queued so far has run."""
        if self._closed:
            return
        marks = [asyncio.wrap_future(self._queue(lane, _nothing, ())) for lane in self._lanes]
        await asyncio.gather(*marks)

    async def aclose(self) -> None:
        """Run what is queued, then stop the threads."""
        if self._closed:
            return
        with self._lock:
            self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        for lane in self._lanes:
            lane.executor.shutdown(wait=True)
        self._heavy.shutdown(wait=True)

    def close(self) -> None:
        """Synchronous `aclose`, for code with no loop."""
        with self._lock:
            self._closed = True
        self._shutdown()


def _nothing() -> None:
    return None


def wait_for(future: Future[Any] | None) -> None:
    """Block until `future` has run (its error was logged by the worker), if there is one."""
    if future is not None:
        concurrent.futures.wait([future])
