"""The long-lived objects one app instance owns, built in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coach.analysis.base import Analyzer
from coach.api.routes import LoginLimiter
from coach.auth.tokens import TokenIssuer
from coach.interviews.service import InterviewService


@dataclass
class Services:
    """Everything routes reach through `request.app.state.services`."""

    client: Any
    db: Any
    analyzer: Analyzer
    tokens: TokenIssuer
    interviews: InterviewService
    login_limiter: LoginLimiter
