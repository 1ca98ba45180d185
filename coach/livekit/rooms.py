"""Who a LiveKit room belongs to: the user holding it for their interview, and nobody else.

A claim lasts one interview (`hold`, the longest a session may run) and every claim by its
holder renews it; once it lapses the room name is free for anyone, so a name is never taken
for ever, while nobody can join or listen to a room another user is interviewing in.
"""

from __future__ import annotations

import datetime as dt

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from coach.store.documents import Room, now


async def claim_room(user_id: str, room: str, hold: dt.timedelta) -> bool:
    """True if `room` is (now) this user's for `hold`; False while another user holds it."""
    t = now()
    try:
        # one atomic step: renew our own claim, take a lapsed one, or create the room
        found = await Room.get_pymongo_collection().find_one_and_update(
            {
                "_id": room,
                "$or": [
                    {"userId": user_id},
                    {"claimedUntil": {"$lt": t}},
                    {"claimedUntil": None},
                ],
            },
            {"$set": {"userId": user_id, "claimedUntil": t + hold},
             "$setOnInsert": {"createdAt": t}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
    except DuplicateKeyError:
        # the room exists and another user's claim has not lapsed (or won a race)
        return False
    return found is not None and found.get("userId") == user_id
