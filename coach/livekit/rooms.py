"""Who a LiveKit room belongs to: the first user to ask for it, and nobody else after."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from coach.store.documents import Room


async def claim_room(user_id: str, room: str) -> bool:
    """True if `room` is (now) this user's; False if another user holds it."""
    existing = await Room.get(room)
    if existing is not None:
        return existing.user_id == user_id
    try:
        await Room(id=room, user_id=user_id).insert()
    except DuplicateKeyError:
        # two users racing for one name: the database's unique _id decided
        found = await Room.get(room)
        return found is not None and found.user_id == user_id
    return True
