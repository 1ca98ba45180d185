"""What kind of interview to run: role, seniority, length."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from coach.speech.summary import WireModel


class InterviewPlan(WireModel):
    """Sent as `"plan"` in the WebSocket `start` (camelCase on the wire)."""

    role: str = Field("general", min_length=1, max_length=80)
    seniority: Literal["junior", "mid", "senior"] = "mid"
    questions: int = Field(5, ge=1, le=15, description="main questions, follow-ups not counted")
    minutes: float | None = Field(None, ge=1, le=90, description="close when time is up")
    job_description: str | None = Field(None, max_length=5000)
