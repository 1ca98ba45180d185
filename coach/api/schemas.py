"""Request and response bodies of the REST API; `/openapi.json` is generated from these."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from coach.analysis.feedback import AiAnalysis
from coach.drills import DrillResult, DrillSpec
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
    drill: DrillSpec | None = Field(
        None, description="a drill on one habit (docs/protocol.md); null for a full interview"
    )
    drill_result: DrillResult | None = Field(
        None, description="a drill's result, from its analysis' finding on the habit"
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


class GoalsIn(WireModel):
    """Goals on the measures that have a better direction (at most / at least this)."""

    goals: dict[
        Literal[
            "overall",
            "fillers_per_minute",
            "long_pauses_per_minute",
            "hedges_per_minute",
            "repetitions_per_minute",
            "clear_words",
        ],
        Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)],
    ] = Field(
        max_length=6,
        description="overall and clear_words: at least; the per-minute measures: at most",
    )


class GoalsOut(WireModel):
    """The user's goals."""

    goals: dict[str, float]


class SampleOut(WireModel):
    """A measure's value in one interview."""

    interview_id: str
    at: dt.datetime
    value: float
    kind: Literal["interview", "drill"] = "interview"


class MeasureOut(WireModel):
    """One measure over the user's analyzed interviews, oldest first."""

    measure: str
    label: str
    unit: str
    better: Literal["lower", "higher", "band"]
    good: tuple[float | None, float | None] | None
    latest: float
    change: float | None = Field(description="latest minus the interview before")
    recent_mean: float | None = Field(description="mean of up to `last` interviews before")
    change_over_recent: float | None
    improved: bool | None
    goal: float | None
    goal_met: bool | None
    samples: list[SampleOut]


class ProgressOut(WireModel):
    """Progress across the user's analyzed interviews."""

    interviews: int = Field(description="analyzed interviews and drills counted")
    drills: int = Field(0, description="how many of them were drills")
    last: int
    measures: list[MeasureOut]
    goals: dict[str, float]


class AccountOut(WireModel):
    """The account as stored, without its password hash."""

    id: str
    email: str
    created_at: dt.datetime
    goals: dict[str, float]


class ExportOut(WireModel):
    """Everything coach stores about the user, in one document (GDPR Art. 20)."""

    format: Literal["coach-export/1"] = "coach-export/1"
    exported_at: dt.datetime
    account: AccountOut
    interviews: list[InterviewOut] = Field(
        description="newest first, with analyses; recordings as links (recordingUrl)"
    )
