"""The in-process store: mongomock-motor, adapted to what Beanie 2.2 asks of a database.

Two gaps, both patched here and only here:
- Beanie calls `list_collection_names(authorizedCollections=True, nameOnly=True)`, which
  mongomock's database does not accept; the adapter drops those options (they only trim what
  a real server returns).
- Beanie awaits the result of `aggregate()` before iterating it, as pymongo's async API
  returns a coroutine; mongomock-motor returns the cursor itself, so it is made awaitable.
"""

from __future__ import annotations

from typing import Any

import mongomock_motor
from mongomock_motor import AsyncMongoMockClient

_patched = False


class _AwaitableCursor:
    """mongomock-motor's aggregate cursor, usable both awaited and iterated."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def __await__(self) -> Any:
        if False:  # pragma: no cover - makes this a generator that returns at once
            yield
        return self._cursor

    def __aiter__(self) -> Any:
        return self._cursor.__aiter__()

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(await self._cursor.to_list(*args, **kwargs))


def _patch() -> None:
    global _patched
    if _patched:
        return
    database: Any = mongomock_motor.AsyncMongoMockDatabase
    collection: Any = mongomock_motor.AsyncMongoMockCollection
    list_names = database.list_collection_names
    aggregate = collection.aggregate

    async def list_collection_names(
        self: Any, filter: Any = None, session: Any = None, **options: Any
    ) -> list[str]:
        names: list[str] = await list_names(self, filter) if filter else await list_names(self)
        return names

    def awaitable_aggregate(self: Any, *args: Any, **kwargs: Any) -> _AwaitableCursor:
        return _AwaitableCursor(aggregate(self, *args, **kwargs))

    database.list_collection_names = list_collection_names
    collection.aggregate = awaitable_aggregate
    _patched = True


def in_process_client() -> Any:
    """A client whose data lives in this process only (and is gone when it exits)."""
    _patch()
    return AsyncMongoMockClient(tz_aware=True)
