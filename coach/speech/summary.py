"""The SessionSummary wire contract (camelCase on the wire, as the mobile app expects)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """Base for wire models: snake_case in Python, camelCase in JSON, both accepted on input."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


class PacePoint(WireModel):
    """Words per minute in one pace segment; `timestamp` is the segment's start.

    `wpm` is the overall rate (words over the segment's whole length, silences included);
    `speakingWpm` is the speaking rate (long pauses and the silence around the answer removed),
    the measure the pace band judges. It is None where the segment holds under 3 s of speech.
    """

    timestamp: float
    wpm: float
    segment_start: float
    segment_end: float
    speaking_wpm: float | None = None


class Filler(WireModel):
    """A filler word or phrase, with up to five words of context on each side."""

    word: str
    timestamp: float
    context_before: str = ""
    context_after: str = ""
    source: str = Field(
        default="recognizer",
        description="'recognizer' when the words had it, 'audio' when heard from the audio alone",
    )


class Pause(WireModel):
    """A silence longer than the pause threshold; `timestamp` is when it began."""

    duration: float
    timestamp: float


class WordOut(WireModel):
    """A recognized word as sent on the wire."""

    word: str
    start: float
    end: float
    confidence: float = 1.0
    punctuated_word: str | None = None


class TranscriptSegment(WireModel):
    """A run of speech between long pauses (or an utterance from the recognizer)."""

    text: str
    start_time: float
    end_time: float
    words: list[WordOut] = Field(default_factory=list)


class Hedge(WireModel):
    """A hedging word or phrase ("I think", "maybe"), with context like a filler."""

    word: str
    timestamp: float
    context_before: str = ""
    context_after: str = ""


class Repetition(WireModel):
    """A word said twice or more in a row ("the the")."""

    word: str
    timestamp: float
    count: int


class QuestionSpan(WireModel):
    """One interviewer question and the candidate's answer to it."""

    text: str
    asked_at: float
    answer_start: float | None = None
    answer_end: float | None = None
    response_latency: float | None = None


class VocalSegment(WireModel):
    """Pitch and loudness variation in one pace segment (voiced speech only)."""

    segment_start: float
    segment_end: float
    voiced_seconds: float = Field(ge=0)
    pitch_range_semitones: float | None = Field(
        default=None, ge=0, description="5th to 95th percentile of f0, in semitones"
    )
    pitch_sd_semitones: float | None = Field(default=None, ge=0)
    loudness_sd_db: float | None = Field(default=None, ge=0)


class VocalVariety(WireModel):
    """How much the voice moves: pitch and loudness variation over the session's speech."""

    pitch_median_hz: float | None = Field(default=None, ge=0)
    pitch_range_semitones: float | None = Field(
        default=None, ge=0, description="5th to 95th percentile of f0, in semitones"
    )
    pitch_sd_semitones: float | None = Field(default=None, ge=0)
    loudness_sd_db: float | None = Field(default=None, ge=0)
    voiced_seconds: float = Field(default=0.0, ge=0)
    segments: list[VocalSegment] = Field(default_factory=list)


class SessionSummary(WireModel):
    """What transcription hands to the interviews service: the seed's fields, then coach's."""

    transcript: str
    duration: float = Field(ge=0)
    total_words: int = Field(ge=0)
    average_pace: float = Field(ge=0, description="words per minute over the whole duration")
    pace_timeline: list[PacePoint] = Field(default_factory=list)
    fillers: list[Filler] = Field(default_factory=list)
    pauses: list[Pause] = Field(default_factory=list)
    words: list[WordOut] = Field(default_factory=list)
    transcript_segments: list[TranscriptSegment] = Field(default_factory=list)
    # coach's additions, optional so producers of the seed's shape still validate
    speaking_pace: float | None = Field(
        default=None, ge=0, description="words per minute over speaking time only"
    )
    speaking_time: float | None = Field(default=None, ge=0)
    speaking_ratio: float | None = Field(default=None, ge=0, le=1)
    hedges: list[Hedge] = Field(default_factory=list)
    repetitions: list[Repetition] = Field(default_factory=list)
    questions: list[QuestionSpan] = Field(default_factory=list)
    vocal_variety: VocalVariety | None = Field(
        default=None, description="pitch and loudness variation, when the audio was analysed"
    )
