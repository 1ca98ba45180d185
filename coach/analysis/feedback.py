"""The `aiAnalysis` wire contract shared by every analyzer."""

from __future__ import annotations

from pydantic import Field

from coach.speech.summary import WireModel


class Improvement(WireModel):
    """One thing to improve, anchored at a moment of the session."""

    title: str
    timestamp: float = Field(ge=0)
    description: str


class QuestionFeedback(WireModel):
    """Per-question feedback when the session knows its questions."""

    question: str
    score: int = Field(ge=0, le=100)
    feedback: str
    evidence: str = ""


class BandOut(WireModel):
    """The band a measure is judged against: `good` earns praise, outside `ok` is a weakness.

    None stands for an open end.
    """

    good: tuple[float | None, float | None]
    ok: tuple[float | None, float | None]
    source: str


class FindingOut(WireModel):
    """One typed finding: measure, value, band, verdict and moment; feedback is built on these."""

    measure: str
    label: str
    value: float
    unit: str
    band: BandOut
    verdict: str = Field(description="strength | fine | weakness")
    moment: float | None = Field(default=None, description="seconds on the session clock")
    text: str = ""


class StarOut(WireModel):
    """Which STAR parts the answer has, where each starts, and which result is thin."""

    present: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    starts: dict[str, float] = Field(default_factory=dict)
    thin: list[str] = Field(default_factory=list)


class RepeatedSentence(WireModel):
    """A sentence said again, and when."""

    text: str
    timestamp: float


class ContentOut(WireModel):
    """What was said in one answer."""

    question: str
    kind: str = Field(description="behavioural | general")
    star: StarOut | None = None
    relevance: float | None = Field(default=None, ge=0, le=1)
    length_seconds: float = Field(ge=0)
    length_guide: tuple[float, float]
    i_count: int = 0
    we_count: int = 0
    repeated_sentences: list[RepeatedSentence] = Field(default_factory=list)
    findings: list[FindingOut] = Field(default_factory=list)


class AiAnalysis(WireModel):
    """Coaching feedback: scores are computed by coach, words come from the analyzer."""

    overall_score: int = Field(ge=0, le=100)
    summary: str
    pace_analysis: str
    filler_analysis: str
    confidence_score: int = Field(ge=0, le=100)
    improvements: list[Improvement] = Field(default_factory=list)
    highlights: list[str] = Field(default_factory=list)
    questions: list[QuestionFeedback] = Field(default_factory=list)
    analyzer: str = Field(default="", description="which analyzer wrote this (offline, openai:…)")
    strengths: list[str] = Field(
        default_factory=list, description="from the findings whose verdict is strength"
    )
    weaknesses: list[str] = Field(
        default_factory=list, description="from the findings whose verdict is weakness"
    )
    findings: list[FindingOut] = Field(default_factory=list)
    content: list[ContentOut] = Field(default_factory=list)
    seek_lead_in: float = Field(
        default=1.5, ge=0, description="seconds before a moment that playback starts from"
    )
