"""Beanie documents: snake_case in Python, camelCase in MongoDB and on the wire."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar, Literal

from beanie import Document
from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel
from pymongo import ASCENDING, DESCENDING, IndexModel

from coach.analysis.feedback import AiAnalysis
from coach.drills import DrillSpec, drill_result
from coach.speech.summary import SessionSummary
from coach.usage import Usage

Status = Literal["processing", "completed", "failed"]


def _alias(name: str) -> str:
    # Beanie keeps a document's id in MongoDB's `_id`; everything else is camelCase.
    return "_id" if name == "id" else to_camel(name)


def now() -> dt.datetime:
    """The current UTC time at BSON's millisecond precision, so stored and returned agree."""
    n = dt.datetime.now(dt.UTC)
    return n.replace(microsecond=n.microsecond // 1000 * 1000)


def new_id() -> str:
    """A random document id (hex, so it is also safe in file names)."""
    return uuid.uuid4().hex


_CONFIG = ConfigDict(alias_generator=_alias, populate_by_name=True, extra="ignore", frozen=False)


class User(Document):
    """An account."""

    model_config = _CONFIG

    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    email: str
    password_hash: str
    created_at: dt.datetime = Field(default_factory=now)
    # in every token as "ver": raising it revokes every token issued before (sign out everywhere)
    token_version: int = 0
    # the user's goals per measure (coach.interviews.progress.GOAL_DIRECTIONS says which way)
    goals: dict[str, float] = Field(default_factory=dict)

    class Settings:
        name = "users"
        indexes: ClassVar[list[IndexModel]] = [IndexModel("email", unique=True)]


class Interview(Document, SessionSummary):
    """A stored interview: the SessionSummary, who and where, and its analysis."""

    model_config = _CONFIG  # type: ignore[misc]

    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    user_id: str
    room_name: str
    participant_identity: str
    created_at: dt.datetime = Field(default_factory=now)
    status: Status = "processing"
    ai_analysis: AiAnalysis | None = None
    error: str | None = None
    recording_url: str | None = None
    # when the claim of the process analyzing it runs out; None while unclaimed
    lease_until: dt.datetime | None = None
    # what makes a retried submission the same interview: "session:<id>" for a live session
    # (so a crash between storing and clearing its journal cannot store it twice), or a
    # client's Idempotency-Key; None: every submission is a new interview
    idempotency_key: str | None = None
    # what it used of the paid services (docs/cost.md); None for interviews stored before
    usage: Usage | None = None
    # a drill on one habit (coach.drills), None for a full interview
    drill: DrillSpec | None = None

    class Settings:
        name = "interviews"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("userId", ASCENDING), ("createdAt", DESCENDING)]),
            IndexModel("roomName"),
            IndexModel([("status", ASCENDING), ("leaseUntil", ASCENDING)]),
            IndexModel(
                [("userId", ASCENDING), ("roomName", ASCENDING), ("participantIdentity", ASCENDING)]
            ),
            IndexModel([("userId", ASCENDING), ("idempotencyKey", ASCENDING)]),
        ]

    def summary(self) -> SessionSummary:
        """The SessionSummary part, for the analyzer."""
        return SessionSummary.model_validate(
            self.model_dump(include=set(SessionSummary.model_fields))
        )

    def to_wire(self) -> dict[str, Any]:
        """The interview as clients see it: `id` a string, datetimes ISO with their zone."""
        out = self.model_dump(
            mode="json",
            by_alias=True,
            exclude={"lease_until", "participant_identity", "revision_id"},
        )
        out["id"] = out.pop("_id")
        if self.drill is not None:
            # read from the analysis' own finding, so the drill's result and the report agree
            result = drill_result(self.drill, self.ai_analysis)
            out["drillResult"] = (
                None if result is None else result.model_dump(mode="json", by_alias=True)
            )
        return out


class Room(Document):
    """A LiveKit room name and the user holding it for their interview (coach.livekit.rooms)."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]  # the room name itself: unique by construction
    user_id: str
    created_at: dt.datetime = Field(default_factory=now)
    # the holder's claim lapses here (one interview long, renewed by each claim of theirs)
    claimed_until: dt.datetime | None = None

    class Settings:
        name = "rooms"


class EgressRecord(Document):
    """A LiveKit egress: the room it records, then the interview and the file, as they come."""

    model_config = _CONFIG

    id: str  # type: ignore[assignment]  # LiveKit's egress id
    room_name: str
    interview_id: str | None = None
    location: str | None = None
    created_at: dt.datetime = Field(default_factory=now)

    class Settings:
        name = "egresses"


class DataKey(Document):
    """A user's data key, wrapped by the master key (coach.encryption).

    A collection of its own, so backups of the data can leave it out (or keep it briefly):
    deleting it at erasure is what makes every sealed copy of the user's interviews, in any
    backup without it, unreadable.
    """

    model_config = _CONFIG

    id: str  # type: ignore[assignment]  # the user's id
    wrapped: str
    created_at: dt.datetime = Field(default_factory=now)

    class Settings:
        name = "dataKeys"


DOCUMENTS: list[type[Document]] = [User, Interview, Room, EgressRecord, DataKey]
