"""Turns on the event loop for work that arrives in bursts.

A step of CPU work between two awaits runs to its end, and every task that became ready in the
same turn of the loop runs its step in that turn: 200 sessions ending together would summarize
200 interviews back to back while live audio, timers and sockets wait. Such steps take turns
instead: each waits for the loop's one turn (a FIFO lock) and starts in a turn of its own, so
a burst is spread over as many turns and other work runs between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _turns.get(loop)
    if lock is None:
        lock = _turns[loop] = asyncio.Lock()
    return lock


@contextlib.asynccontextmanager
async def one_turn() -> AsyncIterator[None]:
    """Run the block in a turn of the loop of its own, after the steps queued before it.

    The block must not await anything that itself takes a turn (the lock is not reentrant).
    """
    async with _lock():
        await asyncio.sleep(0)
        yield
