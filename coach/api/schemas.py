"""Request and response bodies of the REST API; `/openapi.json` is generated from these."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from coach.analysis.feedback import AiAnalysis
from coach.interviewer.plan import InterviewPlan
from coach.speech.summary import SessionSummary, WireModel
from coach.usage import Usage


class Credentials(WireModel):
    """Register/login body."""

    # no `\s`: Python's and JavaScript's disagree (U+0085, U+FEFF), and this pattern is both
    # the server's rule and the OpenAPI document's
    email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$"
    )
    password: str = Field(min_length=8, max_length=256)


class PasswordChange(WireModel):
    """POST /api/me/password body: the current password and the new one."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class Registered(WireModel):
    """A new account and its first token."""

    id: str
    email: str
    token: str


class TokenOut(WireModel):
    """A bearer token for `Authorization: Bearer …` (REST, and the WebSocket from apps)."""

    token: str


class TicketOut(WireModel):
    """A single-use WebSocket ticket for `?ticket=` (browsers), valid for `expiresIn` seconds."""

    ticket: str
    expires_in: float


class Me(WireModel):
    """The signed-in user."""

    id: str
    email: str
    created_at: dt.datetime


class AnalyzeRequest(WireModel):
    """POST /api/interviews/analyze body."""

    room_name: str = Field(min_length=1, max_length=200)
    participant_identity: str = Field(min_length=1, max_length=200)
    session_data: SessionSummary


class Accepted(WireModel):
    """An interview whose analysis runs in the background; poll GET /api/interviews/{id}."""

    id: str
    status: Literal["processing", "completed", "failed"]


class InterviewOut(SessionSummary):
    """A stored interview, as GET /api/interviews/{id} returns it."""

    id: str
    user_id: str
    room_name: str
    created_at: dt.datetime
    status: Literal["processing", "completed", "failed"]
    ai_analysis: AiAnalysis | None = None
    error: str | None = None
    recording_url: str | None = None
    usage: Usage | None = Field(
        None, description="what the interview used: speech-to-text, model tokens, LiveKit"
    )


class InterviewPage(WireModel):
    """One page of the user's interviews, newest first."""

    items: list[InterviewOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null on the last page"
    )


class ErrorBody(WireModel):
    """What went wrong."""

    code: str
    message: str


class ErrorOut(WireModel):
    """Every error response."""

    error: ErrorBody


class Health(WireModel):
    """Liveness and readiness."""

    status: Literal["ok"]


class LiveKitTokenRequest(WireModel):
    """POST /api/livekit/token body."""

    room_name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    participant_name: str = Field(min_length=1, max_length=128)
    plan: InterviewPlan | None = None


class LiveKitToken(WireModel):
    """A token for one room and the server to connect to."""

    token: str
    url: str
    interview_id: str | None = Field(
        None, description="the interview the token's agent dispatch runs, when one is sent"
    )
