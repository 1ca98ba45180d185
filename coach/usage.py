"""What one interview used of the paid services, stored with it: the inputs of docs/cost.md.

Language-model calls are collected through a context variable: a provider says what a call
used with `record_llm`, and whoever runs the work (an analysis job, a live session's pump)
collects the calls of its own task, so concurrent interviews never mix their tokens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class LlmCall(BaseModel):
    """One language-model call: its model, its tokens and what it was for."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    model: str
    purpose: str  # "analysis" or "followup"
    input_tokens: int = 0
    output_tokens: int = 0


class Usage(BaseModel):
    """One interview's use of speech-to-text, language models and LiveKit."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    # audio seconds sent to each speech-to-text stream ("deepgram" or "local"), by provider
    stt_seconds: dict[str, float] = Field(default_factory=dict)
    llm: list[LlmCall] = Field(default_factory=list)
    # seconds of speech synthesized for the voice interviewer, by model
    tts_seconds: dict[str, float] = Field(default_factory=dict)
    livekit_participant_minutes: float = 0.0
    egress_minutes: float = 0.0


_calls: ContextVar[list[LlmCall] | None] = ContextVar("coach_llm_calls", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[LlmCall]]:
    """Collect the language-model calls made by this task (and tasks it starts) meanwhile."""
    calls: list[LlmCall] = []
    token = _calls.set(calls)
    try:
        yield calls
    finally:
        _calls.reset(token)


def start_collecting() -> list[LlmCall]:
    """Collect for the rest of this task (a long-lived task such as a session's pump)."""
    calls: list[LlmCall] = []
    _calls.set(calls)
    return calls


def record_llm(model: str, purpose: str, input_tokens: int, output_tokens: int) -> None:
    """A language-model call used these tokens (ignored when nobody collects)."""
    calls = _calls.get()
    if calls is not None:
        calls.append(LlmCall(model=model, purpose=purpose, input_tokens=input_tokens,
                             output_tokens=output_tokens))  # fmt: skip
