"""Build the text-mode interviewer for a session from its `plan`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from coach.interviewer.bank import load_bank
from coach.interviewer.followups import OpenAIFollowups
from coach.interviewer.plan import InterviewPlan
from coach.interviewer.text import FollowupWriter, TextInterviewer
from coach.settings import Settings
from coach.validation import first_error


class PlanError(ValueError):
    """The plan in `start` is invalid; the message names the field."""


def build_followups(settings: Settings) -> OpenAIFollowups | None:
    """Generated follow-ups when OPENAI_API_KEY is set; the bank alone otherwise."""
    return OpenAIFollowups(settings) if settings.openai_api_key is not None else None


def interviewer_factory(
    followups: FollowupWriter | None, *, seed: int | None = None
) -> Callable[[dict[str, Any]], TextInterviewer]:
    """A function from a `start` message's plan to a ready interviewer."""
    bank = load_bank()

    def make(raw: dict[str, Any]) -> TextInterviewer:
        try:
            plan = InterviewPlan.model_validate(raw)
        except ValidationError as e:
            raise PlanError(f"plan.{first_error(e, whole='plan')}") from e
        return TextInterviewer(plan, bank=bank, followups=followups, seed=seed)

    return make
