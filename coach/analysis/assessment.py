"""A session's assessment: scores, delivery and content findings, and the capped overall score.

Both analyzers start from this, so the numbers, the verdicts and the score are coach's own; an
LLM only writes words around them. The overall score is `scoring.score`'s blend of the part
scores, then capped by the findings, so a score never praises what the findings fault:

- the top band is 85–100; any delivery weakness (speaking rate outside its band, more than 5
  fillers a minute, more than 2 long pauses a minute, hedging past 2 a minute) caps the overall
  score at 84, two or more cap it at 74;
- a content weakness on structure or relevance (a behavioural answer missing part of STAR, an
  answer that barely touches the question) caps it at 84.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from coach.analysis.content import Content, analyze_answer, content_findings
from coach.analysis.feedback import (
    BandOut,
    ContentOut,
    FindingOut,
    RepeatedSentence,
    StarOut,
)
from coach.analysis.findings import (
    Finding,
    Verdict,
    delivery_findings,
    strengths,
    weaknesses,
)
from coach.analysis.scoring import Scores, Thresholds, score
from coach.speech.summary import SessionSummary, WordOut

TOP_BAND = 85
DELIVERY_CAPPED = (
    "speaking_rate",
    "fillers_per_minute",
    "long_pauses_per_minute",
    "hedges_per_minute",
)
CONTENT_CAPPED = ("star_parts", "relevance")


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything feedback is written from."""

    scores: Scores
    overall: int
    delivery: tuple[Finding, ...]
    content: tuple[tuple[Content, tuple[Finding, ...]], ...]

    @property
    def findings(self) -> list[Finding]:
        """Delivery findings, then each answer's content findings."""
        return [*self.delivery, *(f for _, fs in self.content for f in fs)]

    @property
    def strengths(self) -> list[str]:
        """The sentences of every strength."""
        return [f.sentence for f in strengths(self.findings)]

    @property
    def weaknesses(self) -> list[str]:
        """The sentences of every weakness."""
        return [f.sentence for f in weaknesses(self.findings)]


def cap(overall: int, findings: Sequence[Finding]) -> int:
    """The overall score capped by the weaknesses among `findings` (module docstring)."""
    weak = {f.measure for f in findings if f.verdict is Verdict.WEAKNESS}
    delivery = sum(1 for m in DELIVERY_CAPPED if m in weak)
    limit = 100
    if delivery >= 2:
        limit = TOP_BAND - 11
    elif delivery == 1 or any(m in weak for m in CONTENT_CAPPED):
        limit = TOP_BAND - 1
    return min(overall, limit)


def answers(summary: SessionSummary, questions: Sequence[str]) -> list[tuple[str, list[WordOut]]]:
    """Each question with the words of its answer: by the session's own question spans when it
    has them, else every question given applies to the whole recording."""
    if summary.questions:
        out: list[tuple[str, list[WordOut]]] = []
        for q in summary.questions:
            if q.answer_start is None:
                out.append((q.text, []))
                continue
            end = q.answer_end if q.answer_end is not None else math.inf
            out.append(
                (q.text, [w for w in summary.words if q.answer_start - 0.01 <= w.start <= end])
            )
        return out
    return [(q, list(summary.words)) for q in questions if q.strip()]


def assess(
    summary: SessionSummary,
    questions: Sequence[str] = (),
    *,
    thresholds: Thresholds | None = None,
    rubric: Sequence[float] | None = None,
) -> Assessment:
    """Score and judge one session."""
    t = thresholds or Thresholds()
    s = score(summary, rubric=rubric, thresholds=t)
    delivery = delivery_findings(summary, s, t)
    content = []
    for question, words in answers(summary, questions):
        if not words:
            continue
        c = analyze_answer(question, words)
        content.append((c, tuple(content_findings(c))))
    every = [*delivery, *(f for _, fs in content for f in fs)]
    return Assessment(s, cap(s.overall, every), tuple(delivery), tuple(content))


def _end(x: float) -> float | None:
    return None if math.isinf(x) else x


def finding_out(f: Finding) -> FindingOut:
    """The wire form of a finding."""
    return FindingOut(
        measure=f.measure,
        label=f.label,
        value=round(f.value, 3),
        unit=f.unit,
        band=BandOut(
            good=(_end(f.band.good[0]), _end(f.band.good[1])),
            ok=(_end(f.band.ok[0]), _end(f.band.ok[1])),
            source=f.band.source,
        ),
        verdict=f.verdict.value,
        moment=f.moment,
        text=f.sentence,
    )


def content_out(c: Content, findings: Sequence[Finding]) -> ContentOut:
    """The wire form of one answer's content analysis."""
    star = None
    if c.kind == "behavioural":
        star = StarOut(
            present=c.star_present,
            missing=c.star_missing,
            starts={p.part: p.start for p in c.star},
            thin=[p.part for p in c.star if p.thin],
        )
    return ContentOut(
        question=c.question,
        kind=c.kind,
        star=star,
        relevance=c.relevance,
        length_seconds=c.length_seconds,
        length_guide=c.length_band,
        i_count=c.i_count,
        we_count=c.we_count,
        repeated_sentences=[
            RepeatedSentence(text=text, timestamp=t) for text, t in c.repeated_sentences
        ],
        findings=[finding_out(f) for f in findings],
    )


def wire_fields(a: Assessment) -> dict[str, object]:
    """The aiAnalysis fields every analyzer takes from the assessment, not from a model."""
    return {
        "overall_score": a.overall,
        "confidence_score": a.scores.confidence,
        "strengths": a.strengths,
        "weaknesses": a.weaknesses,
        "findings": [finding_out(f) for f in a.delivery],
        "content": [content_out(c, fs) for c, fs in a.content],
    }
