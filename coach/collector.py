"""The garbage collector and the loop carrying live audio.

A full collection walks every tracked object while holding the GIL. At start-up the server
already holds about 160,000 of them (modules, functions, pydantic schemas, the models' Python
side), none of which will ever be garbage, so each full collection spent about 90 ms on them
alone and, with 200 live sessions, 200–300 ms in all: the longest stalls of the loop. What
start-up made is frozen out of the collector's reach (`gc.freeze`); it is handed back at shutdown
so a process that builds many apps (the tests) leaks nothing.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("coach.collector")


def freeze_startup() -> int:
    """Collect, then move every object alive now out of future collections; how many are out."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("garbage collector: %d start-up objects frozen out of collections", frozen)
    return frozen


def thaw() -> None:
    """Hand the frozen objects back to the collector (at shutdown)."""
    gc.unfreeze()
