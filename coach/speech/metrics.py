"""Words in, SessionSummary out, for a whole recorded session."""

from __future__ import annotations

from collections.abc import Sequence

from coach.speech.accumulator import SpeechAccumulator, SpeechConfig
from coach.speech.summary import SessionSummary
from coach.speech.words import QuestionTiming, Silence, Word

__all__ = ["SpeechConfig", "summarize"]


def summarize(
    words: Sequence[Word],
    *,
    duration: float | None = None,
    silences: Sequence[Silence] | None = None,
    questions: Sequence[QuestionTiming] = (),
    config: SpeechConfig | None = None,
) -> SessionSummary:
    """The SessionSummary of a whole session; `duration` defaults to the last word's end.

    It is the live accumulator fed everything at once, so a recorded and a streamed session
    give the same numbers by construction.
    """
    acc = SpeechAccumulator(config)
    acc.update(words, is_final=True)
    if silences is not None:
        acc.use_vad()
        for s in silences:
            acc.add_silence(s)
    for q in questions:
        acc.add_question(q)
    if duration is not None:
        acc.advance(duration)
    return acc.summary()
