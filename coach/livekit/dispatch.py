"""What a LiveKit agent job is about: the metadata coach puts in the candidate's token."""

from __future__ import annotations

from pydantic import Field, ValidationError

from coach.interviewer.plan import InterviewPlan
from coach.speech.summary import WireModel


class DispatchError(ValueError):
    """A job's metadata is not coach's dispatch metadata."""


class JobMetadata(WireModel):
    """`RoomAgentDispatch.metadata`: one interview, whose candidate, and its plan (JSON)."""

    interview_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    user_id: str = Field(min_length=1, max_length=128)
    participant_identity: str = Field(min_length=1, max_length=128)
    plan: InterviewPlan | None = None

    def to_json(self) -> str:
        """The metadata string for the token (camelCase, like the rest of the wire)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_json(cls, raw: str) -> JobMetadata:
        """Parse a job's metadata, or `DispatchError` saying what is wrong."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "metadata"
            raise DispatchError(f"bad job metadata: {where}: {err['msg']}") from e
