"""Open the interviews database: MongoDB when configured, else an in-process store."""

from __future__ import annotations

import logging
from typing import Any

from coach.settings import Settings

log = logging.getLogger("coach.store")


def open_database(settings: Settings) -> tuple[Any, Any]:
    """Return (client, database) for the configured store."""
    if settings.mongodb_uri:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    else:
        from mongomock_motor import AsyncMongoMockClient

        log.warning(
            "MONGODB_URI is unset: using an in-process store; data will not survive a restart"
        )
        client = AsyncMongoMockClient(tz_aware=True)
    return client, client[settings.mongodb_database]


async def ensure_indexes(db: Any) -> None:
    """Create the indexes the queries rely on."""
    await db.interviews.create_index([("userId", 1), ("createdAt", -1)])
    await db.interviews.create_index("roomName")
    await db.users.create_index("email", unique=True)
