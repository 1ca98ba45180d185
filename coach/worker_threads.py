"""Threads for background work that must never outrun the event loop for the CPU.

Pitch tracking, Opus encoding and the final pass are heavy and can wait a little; the loop
carries every live session's audio and cannot. Threads made here run at a lower priority
(niceness is per thread on Linux), so when the cores are busy the loop is served first instead
of queueing behind a burst of background work.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

BACKGROUND_NICENESS = 5


def lower_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Lower the calling thread's priority by `niceness` (where the platform allows it)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def background_executor(
    prefix: str, workers: int = 1, niceness: int = BACKGROUND_NICENESS
) -> ThreadPoolExecutor:
    """A thread pool whose threads run below the event loop's priority."""
    return ThreadPoolExecutor(
        max_workers=workers,
        thread_name_prefix=prefix,
        initializer=lower_priority,
        initargs=(niceness,),
    )
