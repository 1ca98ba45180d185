"""Timed words and silences: the input every speech metric is computed from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word with its time span in seconds from the start of the session."""

    word: str
    start: float
    end: float
    confidence: float = 1.0
    punctuated_word: str | None = None
    # "recognizer", or "audio" for a filler heard from the audio alone (audio/filled_pauses)
    source: str = "recognizer"

    @property
    def midpoint(self) -> float:
        """The instant a word is counted at when bucketing by time."""
        return (self.start + self.end) / 2

    @property
    def text(self) -> str:
        """The word as it should be shown: punctuated when the recognizer gave punctuation."""
        return self.punctuated_word or self.word


@dataclass(frozen=True, slots=True)
class Silence:
    """A stretch with no speech, as found by a voice-activity detector."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class QuestionTiming:
    """When the interviewer asked a question, so the answer's delay is measured apart."""

    text: str
    asked_at: float
