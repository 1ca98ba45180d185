"""Praat's pitch and intensity trackers in a process of their own.

parselmouth holds the GIL while Praat runs (measured: a thread tracking pitch leaves the event
loop about 40 % of its time), so on a thread every live session's pitch batch stalls the loop
that carries all the sessions' audio. In a process the loop only sends PCM16 and gets back
contours (about 1.2 kB a second of audio). The process starts at the first batch, runs below
the server's priority, and is started again if it dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from coach.audio.prosody import Contours, contours_of_pcm16
from coach.worker_threads import BACKGROUND_NICENESS, lower_priority

log = logging.getLogger("coach.audio.praat_process")


# How often the worker looks for its server: a server killed outright (kill -9, the OOM killer)
# never shuts the pool down, and the worker holds both ends of its own call queue's pipe, so
# it would wait for work for ever, holding its 120 MB.
PARENT_CHECK_SECONDS = 1.0


def _worker_start(niceness: int, parent: int) -> None:
    lower_priority(niceness)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="coach-praat-parent", daemon=True).start()


class PraatProcess:
    """One worker process computing pitch contours of PCM16 batches, in submission order."""

    def __init__(self, niceness: int = BACKGROUND_NICENESS) -> None:
        self._niceness = niceness
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, never fork: the server has threads, and a forked copy of their locks can
            # deadlock the child
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
                initargs=(self._niceness, os.getpid()),
            )
        return self._pool

    async def contours(self, pcm16: bytes) -> Contours:
        """Times (s from the batch's start), f0 (Hz, 0 unvoiced) and intensity (dB) of a batch."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            return await loop.run_in_executor(pool, contours_of_pcm16, pcm16)
        except BrokenProcessPool as e:
            # the next batch gets a new process; this one's contours are lost
            log.warning("the pitch process died (%s); starting a new one", e)
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    def shutdown(self) -> None:
        """Stop the process (blocking: call it off the loop)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
