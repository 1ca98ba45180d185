"""Feedback never contradicts its numbers: properties over generated sessions, and tables."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.analysis.assessment import TOP_BAND, assess
from coach.analysis.findings import Band, Verdict
from coach.analysis.offline import OfflineCoach, clock
from coach.speech.metrics import summarize
from coach.speech.summary import SessionSummary
from coach.speech.words import Word

VOCAB = [
    "i",
    "we",
    "built",
    "the",
    "service",
    "um",
    "uh",
    "like",
    "so",
    "you",
    "know",
    "maybe",
    "think",
    "it",
    "was",
    "data",
    "result",
    "reduced",
    "team",
    "percent",
]
QUESTIONS = ["", "Tell me about a time you disagreed with your team", "Why this job?"]


@st.composite
def sessions(draw: st.DrawFn) -> tuple[SessionSummary, str]:
    """A session of random words at a random pace, with random gaps and confidences."""
    n = draw(st.integers(min_value=1, max_value=160))
    step = draw(st.floats(min_value=0.18, max_value=0.8))
    t = draw(st.floats(min_value=0, max_value=3))
    words = []
    for _ in range(n):
        token = draw(st.sampled_from(VOCAB))
        gap = draw(st.sampled_from([0.0, 0.0, 0.0, 0.05, 1.5, 3.0]))
        conf = draw(st.sampled_from([0.95, 0.9, 0.8, 0.3]))
        t += gap
        punct = draw(st.sampled_from(["", "", ",", "."]))
        words.append(Word(token, t, t + step * 0.8, conf, token + punct))
        t += step
    return summarize(words, duration=t + draw(st.floats(0, 5))), draw(st.sampled_from(QUESTIONS))


def inside(value: float, span: tuple[float, float]) -> bool:
    return span[0] <= value <= span[1]


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_no_strength_outside_its_band_and_no_weakness_inside(
    case: tuple[SessionSummary, str],
) -> None:
    summary, question = case
    a = assess(summary, [question] if question else [])
    for f in a.findings:
        if f.verdict is Verdict.STRENGTH:
            assert inside(f.value, f.band.good), f
        if f.verdict is Verdict.WEAKNESS:
            assert not inside(f.value, f.band.ok), f
    praised = {f.measure for f in a.findings if f.verdict is Verdict.STRENGTH}
    faulted = {f.measure for f in a.findings if f.verdict is Verdict.WEAKNESS}
    assert not praised & faulted


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_the_words_follow_the_verdicts(case: tuple[SessionSummary, str]) -> None:
    summary, question = case
    report = OfflineCoach().analyze_sync(summary, questions=[question] if question else [])
    a = assess(summary, [question] if question else [])
    assert report.strengths == a.strengths and report.weaknesses == a.weaknesses
    for f in a.findings:
        # a faulted measure's praise never appears, and a praised one's fault never does
        if f.verdict is not Verdict.STRENGTH and f.strength_text:
            assert f.strength_text not in report.summary, f
        if f.verdict is not Verdict.WEAKNESS and f.weakness_text:
            assert f.weakness_text not in report.summary, f
    rate = next(f for f in a.findings if f.measure == "speaking_rate")
    lo, hi = rate.band.good
    if rate.value > hi:
        assert "faster than" in report.pace_analysis and "inside the" not in report.pace_analysis
    elif rate.value < lo:
        assert "slower than" in report.pace_analysis and "inside the" not in report.pace_analysis


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_every_time_a_sentence_names_is_in_the_summary(case: tuple[SessionSummary, str]) -> None:
    summary, question = case
    report = OfflineCoach().analyze_sync(summary, questions=[question] if question else [])
    moments = {0.0, summary.duration}
    moments |= {w.start for w in summary.words} | {w.end for w in summary.words}
    moments |= {p.timestamp for p in summary.pauses}
    moments |= {p.segment_start for p in summary.pace_timeline}
    moments |= {p.segment_end for p in summary.pace_timeline}
    named = {clock(m) for m in moments}
    texts = [report.summary, report.pace_analysis, report.filler_analysis, *report.highlights]
    texts += [i.description for i in report.improvements]
    for text in texts:
        for said in re.findall(r"\b\d+:\d\d\b", text):
            assert said in named, (said, text)
    valid = moments | {f.timestamp for f in summary.fillers} | {h.timestamp for h in summary.hedges}
    for imp in report.improvements:
        assert imp.timestamp in valid, imp


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_off_band_pace_with_many_fillers_never_scores_in_the_top_band(
    case: tuple[SessionSummary, str],
) -> None:
    summary, question = case
    a = assess(summary, [question] if question else [])
    lo, hi = (120.0, 165.0)
    if not lo <= a.scores.pace_wpm <= hi and a.scores.fillers_per_minute > 5:
        assert a.overall < TOP_BAND
        assert OfflineCoach().analyze_sync(summary).overall_score < TOP_BAND


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (119.9, Verdict.WEAKNESS),
        (120.0, Verdict.STRENGTH),
        (165.0, Verdict.STRENGTH),
        (165.1, Verdict.WEAKNESS),
    ],
)
def test_pace_band_edges(value: float, verdict: Verdict) -> None:
    assert Band((120.0, 165.0), (120.0, 165.0), "").verdict(value) is verdict


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (0.0, Verdict.STRENGTH),
        (3.0, Verdict.STRENGTH),
        (4.0, Verdict.FINE),
        (5.1, Verdict.WEAKNESS),
    ],
)
def test_filler_band_has_a_tolerated_middle(value: float, verdict: Verdict) -> None:
    assert Band((0.0, 3.0), (0.0, 5.0), "").verdict(value) is verdict


def test_rate_change_is_told_in_time_order() -> None:
    # 30 s fast, then 30 s slow: the sentence must say the rate fell, first segment first
    words = [Word("so", 0.3 * k, 0.3 * k + 0.25, 0.9) for k in range(100)]
    words += [Word("so", 30.0 + 0.6 * k, 30.0 + 0.6 * k + 0.25, 0.9) for k in range(50)]
    summary = summarize(words, duration=60.0)
    text = OfflineCoach().analyze_sync(summary).pace_analysis
    assert "fell from" in text, text
    assert text.index("0:00–0:30") < text.index("0:30–1:00"), text


def test_a_summary_with_counts_but_no_words_is_still_coached() -> None:
    summary = summarize([Word("so", 0.1 * k, 0.1 * k + 0.08, 0.9) for k in range(50)], duration=20)
    bare = summary.model_copy(update={"words": [], "transcript_segments": []})
    report = OfflineCoach().analyze_sync(bare, questions=["Why this job?"])
    assert report.overall_score >= 0 and report.content == []
