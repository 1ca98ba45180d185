"""The long-lived objects one app instance owns, built in the lifespan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from coach.analysis.base import Analyzer
from coach.auth.tickets import TicketBook
from coach.auth.tokens import TokenIssuer
from coach.auth.users import UserService
from coach.interviews.service import InterviewService
from coach.livekit.egress import EgressRecorder
from coach.livekit.egress_files import EgressFiles
from coach.livekit.tokens import LiveKitConfig
from coach.ratelimits import RateLimits
from coach.sessions.manager import SessionManager
from coach.sessions.session import Interviewer
from coach.settings import Settings

InterviewerFactory = Callable[[dict[str, Any]], Interviewer | None]


def no_interviewer(plan: dict[str, Any]) -> Interviewer | None:
    """Sessions run without an interviewer when none is available."""
    return None


@dataclass
class Services:
    """Everything routes reach through `request.app.state.services`."""

    settings: Settings
    client: Any
    db: Any
    analyzer: Analyzer
    tokens: TokenIssuer
    users: UserService
    interviews: InterviewService
    rate_limits: RateLimits
    sessions: SessionManager
    tickets: TicketBook
    interviewer_for: InterviewerFactory = no_interviewer
    livekit: LiveKitConfig | None = None
    egress: EgressRecorder | None = None
    egress_files: EgressFiles | None = None  # where erasure deletes Egress uploads
