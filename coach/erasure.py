"""Erasing an account: everything coach holds about the user, in the database and on disk."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coach.providers import ProviderError
from coach.store.documents import EgressRecord, Room

if TYPE_CHECKING:
    from coach.services import Services

log = logging.getLogger("coach.erasure")


@dataclass(frozen=True)
class Erased:
    """What an erasure removed (counts only: the log names no user)."""

    sessions: int
    interviews: int
    rooms: int
    egresses: int
    files: int


async def erase_user(services: Services, user_id: str) -> Erased:
    """End the user's live sessions unstored, then delete their data, rooms and account.

    Order matters: sessions first, so none stores an interview after its user is gone.
    Egress uploads are deleted from the `LIVEKIT_EGRESS_S3_*` bucket with its credentials.
    """
    sessions = await services.sessions.erase_user(user_id)
    interviews = await services.interviews.list(user_id, status=None, before=None, limit=0)
    doomed: list[Path] = []
    for interview in interviews:
        # a recording still being encoded would be written after the sweep
        await services.sessions.recording_settled(interview.id)
        doomed += services.sessions.recording_files(interview.id)
    await services.interviews.delete_all(user_id)
    rooms = await Room.find(Room.user_id == user_id).to_list()
    names = [r.id for r in rooms]
    ids = {i.id for i in interviews}
    egresses = [
        e
        for e in await EgressRecord.find({"roomName": {"$in": names}}).to_list()
        if e.interview_id is None or e.interview_id in ids
    ]
    uploads = 0
    for egress in egresses:
        if egress.location and _local(egress.location, services):
            doomed.append(Path(egress.location))
        elif egress.location and services.egress_files is not None:
            # an upload that cannot be deleted now keeps its record, for the next erasure
            # attempt to find; the account still goes
            try:
                uploads += await services.egress_files.delete(egress.location)
            except ProviderError as e:
                log.error("an egress upload of an erased account was not deleted: %s", e)
                continue
        await egress.delete()
    files = await asyncio.to_thread(_delete, doomed)
    await Room.find(Room.user_id == user_id).delete()
    # crypto-shredding: without the data key, whatever copy of their interviews remains
    # (a backup of the data, a dump) no longer opens
    if services.interviews.keys is not None:
        await services.interviews.keys.shred(user_id)
    await services.users.delete(user_id)
    services.tickets.revoke_user(user_id)
    erased = Erased(sessions, len(interviews), len(rooms), len(egresses), files + uploads)
    log.info(
        "an account was erased: %d live sessions, %d interviews, %d rooms, %d egresses, "
        "%d files",
        erased.sessions, erased.interviews, erased.rooms, erased.egresses, erased.files,
    )  # fmt: skip
    return erased


def _delete(paths: list[Path]) -> int:
    gone = 0
    for path in paths:
        if path.exists():
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def _local(location: str, services: Services) -> bool:
    # only files under coach's own data directory are coach's to delete
    try:
        return Path(location).resolve().is_relative_to(services.settings.data_dir.resolve())
    except (OSError, ValueError):
        return False
