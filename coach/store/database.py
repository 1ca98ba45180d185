"""Open the database (MongoDB when configured, else in-process) and bind the documents to it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from beanie import init_beanie

from coach.settings import Settings
from coach.store.documents import DOCUMENTS

log = logging.getLogger("coach.store")


def open_database(settings: Settings, listeners: Sequence[Any] = ()) -> tuple[Any, Any]:
    """Return (client, database) for the configured store; `listeners` see MongoDB's commands."""
    if settings.mongodb_uri:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(
            settings.mongodb_uri, tz_aware=True, event_listeners=list(listeners)
        )
    else:
        from coach.store.durable import DurableStore

        where = settings.data_dir / "store"
        log.info("MONGODB_URI is unset: using the embedded store in %s", where)
        client = DurableStore(where, settings.mongodb_database).client
    return client, client[settings.mongodb_database]


async def init_store(db: Any, *, create_indexes: bool = True) -> None:
    """Bind the Beanie documents to `db`, creating their indexes."""
    # Beanie binds document classes, not instances: the last database bound is the one used,
    # so one process serves one database (tests bind theirs in each app's lifespan).
    await init_beanie(database=db, document_models=DOCUMENTS, skip_indexes=not create_indexes)


async def close_client(client: Any) -> None:
    """Close a pymongo, embedded or in-process client."""
    from coach.store.durable import close_durable

    # compacting the embedded store writes a snapshot: off the loop
    if await asyncio.to_thread(close_durable, client):
        return
    result = client.close()
    if hasattr(result, "__await__"):
        await result
