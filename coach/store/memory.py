"""The in-process store: mongomock-motor, adapted to what Beanie 2.2 asks of a database.

Two gaps, both patched here and only here:
- Beanie calls `list_collection_names(authorizedCollections=True, nameOnly=True)`, which
  mongomock's database does not accept; the adapter drops those options (they only trim what
  a real server returns).
- Beanie awaits the result of `aggregate()` before iterating it, as pymongo's async API
  returns a coroutine; mongomock-motor returns the cursor itself, so it is made awaitable.

And two costs, since every operation runs on the event loop that carries live audio:
- mongomock scans the whole collection for every query, a lookup by `_id` included; such a
  lookup now goes straight to the document (the filter is still applied to it).
- an operation never yields, so a burst of requests (200 clients fetching their interviews at
  once) would run back to back in one turn of the loop; operations take turns
  (`coach.loop_turns`), so the loop's other work (audio, timers) runs between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import mongomock.collection
import mongomock_motor
from mongomock import filtering
from mongomock_motor import AsyncMongoMockClient

from coach.loop_turns import one_turn

_patched = False
_MISSING = object()
# ids that name one document as they are (operators and arrays do not)
_PLAIN_IDS = (str, int, float, bytes)

_applies = cast(Callable[[Any, Any], bool], filtering.filter_applies)


def _taking_turns(original: Callable[..., Any]) -> Callable[..., Any]:
    async def one_at_a_time(self: Any, *args: Any, **kwargs: Any) -> Any:
        async with one_turn():
            return await original(self, *args, **kwargs)

    return one_at_a_time


def _by_id(original: Callable[..., Any]) -> Callable[..., Any]:
    def iter_documents(self: Any, filter: Any) -> Any:
        doc_id = filter.get("_id", _MISSING) if isinstance(filter, dict) else _MISSING
        if type(doc_id) in _PLAIN_IDS or type(doc_id).__name__ == "ObjectId":
            try:
                doc = self._store[doc_id]
            except KeyError:
                return iter(())
            return iter((doc,) if _applies(filter, doc) else ())
        return original(self, filter)

    return iter_documents


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


# every call of mongomock-motor's collection that reads or writes documents
_COLLECTION_CALLS = (
    "bulk_write",
    "count_documents",
    "delete_many",
    "delete_one",
    "distinct",
    "estimated_document_count",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "find_one",
    "insert_many",
    "insert_one",
    "replace_one",
    "update_many",
    "update_one",
)


def patch_mongomock() -> None:
    """Adapt mongomock-motor to Beanie and to the loop (once per process)."""
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
    sync: Any = mongomock.collection.Collection
    sync._iter_documents = _by_id(sync._iter_documents)
    for name in _COLLECTION_CALLS:
        setattr(collection, name, _taking_turns(getattr(collection, name)))
    cursor: Any = mongomock_motor.AsyncCursor
    for name in ("to_list", "next", "distinct"):
        setattr(cursor, name, _taking_turns(getattr(cursor, name)))
    cursor.__anext__ = cursor.next
    _patched = True


def in_process_client() -> Any:
    """A client whose data lives in this process only (and is gone when it exits)."""
    patch_mongomock()
    return AsyncMongoMockClient(tz_aware=True)
