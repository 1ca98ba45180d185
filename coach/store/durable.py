"""The embedded store that survives restarts: the in-process store plus a write log on disk.

No embedded document store on PyPI speaks the async driver API Beanie needs (montydb and
mongita are synchronous pymongo look-alikes; tinymongo and mongomock-persistence are
unmaintained), so coach keeps mongomock (the same store its tests run on) and makes it
durable itself:

- every write through the async collection API (what Beanie and coach use) appends the
  documents it changed, whole, to `DATA_DIR/store/writes.jsonl`, flushed to the kernel before
  the call returns, so a `kill -9` loses nothing; a background thread fsyncs it at most a
  second later, so a power cut loses at most that second;
- at start the snapshot and the log are replayed, then compacted into a new snapshot
  (written aside, fsynced, renamed), and the log starts empty; the same at a clean close.

Documents are kept as MongoDB extended JSON, so datetimes and ids round-trip exactly.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import mongomock_motor
from bson import json_util
from bson.json_util import JSONOptions

from coach.private_files import private_dir, private_file
from coach.store.memory import in_process_client, patch_mongomock

log = logging.getLogger("coach.store.durable")

_JSON = JSONOptions(tz_aware=True, json_mode=json_util.JSONMode.CANONICAL)
SNAPSHOT = "snapshot.jsonl"
WRITES = "writes.jsonl"
# the most a power cut can lose; a killed process loses nothing the kernel already has
FSYNC_SECONDS = 1.0

_patched = False


class _ByIdentity:
    """Values keyed on the object itself: mongomock clients compare equal by address, so a
    dictionary keyed on them would mix up two stores in one process."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[Any], Any]] = {}

    def put(self, key: Any, value: Any) -> None:
        self._items[id(key)] = (weakref.ref(key), value)

    def get(self, key: Any) -> Any:
        found = self._items.get(id(key))
        return found[1] if found is not None and found[0]() is key else None

    def pop(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            del self._items[id(key)]
        return value


_logs = _ByIdentity()
_stores = _ByIdentity()


def _dump(record: dict[str, Any]) -> str:
    return json_util.dumps(record, json_options=_JSON)


def _load(line: str) -> dict[str, Any]:
    value: dict[str, Any] = json_util.loads(line, json_options=_JSON)
    return value


def _key(doc_id: Any) -> str:
    # ids of any BSON type, as a dictionary key
    return json_util.dumps(doc_id, json_options=_JSON)


class WriteLog:
    """The on-disk half of one durable client: replay, append, fsync, compact."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._file: IO[str] | None = None
        self._dirty = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._syncer: threading.Thread | None = None
        self.records = 0

    # -- start and close ------------------------------------------------------------------

    def replay(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every collection's documents as the snapshot and the log leave them."""
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for name in (SNAPSHOT, WRITES):
            path = self.directory / name
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        record = _load(line)
                    except ValueError:
                        # only the last line can be torn, by a crash in the middle of a write
                        log.warning("store: %s line %d is torn; skipped", name, n)
                        continue
                    self._apply(state, record)
        return state

    @staticmethod
    def _apply(state: dict[str, dict[str, dict[str, Any]]], record: dict[str, Any]) -> None:
        docs = state.setdefault(record["c"], {})
        op = record["op"]
        if op == "put":
            docs[_key(record["doc"]["_id"])] = record["doc"]
        elif op == "del":
            docs.pop(_key(record["id"]), None)
        elif op == "drop":
            docs.clear()

    def compact(self, state: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Write `state` as the new snapshot and start an empty log."""
        private_dir(self.directory)
        fresh = self.directory / (SNAPSHOT + ".new")
        with private_file(fresh).open("w", encoding="utf-8") as f:
            for collection, docs in state.items():
                for doc in docs.values():
                    f.write(_dump({"c": collection, "op": "put", "doc": doc}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        fresh.replace(self.directory / SNAPSHOT)
        (self.directory / WRITES).unlink(missing_ok=True)
        self._fsync_dir()

    def open(self) -> None:
        """Start appending, and the thread that fsyncs what was appended."""
        self._file = private_file(self.directory / WRITES).open("a", encoding="utf-8")
        self._syncer = threading.Thread(target=self._sync_loop, name="store-fsync", daemon=True)
        self._syncer.start()

    def close(self) -> None:
        """Stop appending (the caller compacts)."""
        self._stop.set()
        if self._syncer is not None:
            self._syncer.join()
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _sync_loop(self) -> None:
        while not self._stop.wait(FSYNC_SECONDS):
            with self._lock:
                if self._dirty and self._file is not None:
                    os.fsync(self._file.fileno())
                    self._dirty = False

    # -- writes ---------------------------------------------------------------------------

    def append(self, records: list[dict[str, Any]]) -> None:
        """Log changed documents; in the kernel's hands when this returns."""
        if not records:
            return
        text = "".join(_dump(r) + "\n" for r in records)
        with self._lock:
            if self._file is None:
                raise RuntimeError("the store's write log is closed")
            self._file.write(text)
            self._file.flush()
            self._dirty = True
            self.records += len(records)


def _sync_collection(collection: Any) -> Any:
    return collection.__dict__["_AsyncMongoMockCollection__collection"]


def _write_log(collection: Any) -> WriteLog | None:
    sync = _sync_collection(collection)
    found: WriteLog | None = _logs.get(sync.database.client)
    return found


def _ids(sync: Any, spec: Any, *, one: bool, sort: Any = None) -> list[Any]:
    cursor = sync.find(spec or {}, {"_id": 1})
    if sort:
        cursor = cursor.sort(sort)
    if one:
        cursor = cursor.limit(1)
    return [d["_id"] for d in cursor]


def _records(sync: Any, ids: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc_id in ids:
        doc = sync.find_one({"_id": doc_id})
        if doc is None:
            out.append({"c": sync.name, "op": "del", "id": doc_id})
        else:
            out.append({"c": sync.name, "op": "put", "doc": doc})
    return out


def _logged(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    one = name in {"update_one", "replace_one", "delete_one"} or name.startswith("find_one_and")

    async def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        wlog = _write_log(self)
        if wlog is None:
            return await original(self, *args, **kwargs)
        sync = _sync_collection(self)
        before: list[Any] = []
        if name not in {"insert_one", "insert_many", "drop", "bulk_write"}:
            spec = args[0] if args else kwargs.get("filter", {})
            before = _ids(sync, spec, one=one, sort=kwargs.get("sort"))
        result = await original(self, *args, **kwargs)
        if name == "drop":
            wlog.append([{"c": sync.name, "op": "drop"}])
            return result
        if name == "bulk_write":
            # rare: the whole collection, so nothing a bulk operation changed is missed
            everything = [d["_id"] for d in sync.find({}, {"_id": 1})]
            wlog.append([{"c": sync.name, "op": "drop"}, *_records(sync, everything)])
            return result
        ids = list(before)
        if name == "insert_one":
            ids = [result.inserted_id]
        elif name == "insert_many":
            ids = list(result.inserted_ids)
        elif getattr(result, "upserted_id", None) is not None:
            ids.append(result.upserted_id)
        elif name.startswith("find_one_and") and not before and isinstance(result, dict):
            ids.append(result["_id"])
        elif name.startswith("find_one_and") and not before and kwargs.get("upsert"):
            # an upsert that returned the document as it was before (None): find it now
            spec = args[0] if args else kwargs.get("filter", {})
            ids = _ids(sync, spec, one=True)
        wlog.append(_records(sync, ids))
        return result

    return write


_WRITES = (
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "bulk_write",
    "drop",
)


def _patch() -> None:
    global _patched
    if _patched:
        return
    # the operations take turns first (coach.store.memory), so a logged write wraps exactly one
    # turn and no write waits on itself
    patch_mongomock()
    collection: Any = mongomock_motor.AsyncMongoMockCollection
    for name in _WRITES:
        setattr(collection, name, _logged(name, getattr(collection, name)))
    _patched = True


class DurableStore:
    """An in-process client whose writes survive restarts; `close()` compacts the log."""

    def __init__(self, directory: Path, database: str) -> None:
        _patch()
        self.directory = directory
        self.database = database
        self.client = in_process_client()
        self.log = WriteLog(directory)
        private_dir(directory)
        started = time.monotonic()
        state = self.log.replay()
        documents = 0
        for collection, docs in state.items():
            if docs:
                target = _sync_collection(self.client[database][collection])
                target.insert_many([dict(d) for d in docs.values()])
                documents += len(docs)
        self.log.compact(state)
        _logs.put(self._server(), self.log)
        _stores.put(self.client, self)
        self.log.open()
        log.info(
            "store: %d documents in %d collections loaded from %s in %.2f s",
            documents,
            sum(1 for d in state.values() if d),
            directory,
            time.monotonic() - started,
        )

    def _server(self) -> Any:
        # the synchronous mongomock client under every collection of this async client
        return _sync_collection(self.client[self.database]["_probe"]).database.client

    def close(self) -> None:
        """Stop logging and compact what is stored into a fresh snapshot."""
        _logs.pop(self._server())
        self.log.close()
        try:
            self.log.compact(self.snapshot())
        except OSError as e:  # the log still holds every write: the next start replays it
            log.error("store: compacting %s at close failed: %s", self.directory, e)

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every collection's documents as they are in memory now."""
        db = self.client[self.database]
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for name in _sync_collection(db["_probe"]).database.list_collection_names():
            sync = _sync_collection(db[name])
            state[name] = {_key(d["_id"]): d for d in sync.find({})}
        return state


def close_durable(client: Any) -> bool:
    """Close the durable store behind `client`, if it is one; whether it was."""
    store: DurableStore | None = _stores.pop(client)
    if store is None:
        return False
    store.close()
    return True
