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
