"""The offline coach on the shared fixtures: ranking, real timestamps, determinism, nonsense."""

from __future__ import annotations

import pytest

from coach.analysis.offline import OfflineCoach
from coach.analysis.scoring import score
from coach.speech.metrics import summarize
from coach.speech.summary import SessionSummary

from .sessions import from_truth, nonsense, truth

FIXTURES = ["weakness", "project"]


@pytest.fixture
def coach() -> OfflineCoach:
    return OfflineCoach()


@pytest.mark.parametrize("name", FIXTURES)
def test_clean_answer_scores_higher_than_a_filler_heavy_one(coach: OfflineCoach, name: str) -> None:
    gt = truth(name)
    clean = coach.analyze_sync(from_truth(gt, fillers="strip"))
    as_said = coach.analyze_sync(from_truth(gt))
    heavy = coach.analyze_sync(from_truth(gt, fillers="add"))
    assert clean.overall_score > heavy.overall_score
    assert as_said.overall_score > heavy.overall_score
    assert clean.confidence_score > heavy.confidence_score


@pytest.mark.parametrize("name", FIXTURES)
def test_every_cited_moment_is_a_word_or_a_pause_start(coach: OfflineCoach, name: str) -> None:
    summary = from_truth(truth(name), fillers="add")
    report = coach.analyze_sync(summary)
    moments = {w.start for w in summary.words} | {p.timestamp for p in summary.pauses}
    assert report.improvements
    assert all(i.timestamp in moments for i in report.improvements)
    # one clock: the long-silence improvement is at the very moment the pause list gives
    silences = [i for i in report.improvements if i.title == "Long silence"]
    assert all(i.timestamp in {p.timestamp for p in summary.pauses} for i in silences)


@pytest.mark.parametrize("name", FIXTURES)
def test_same_input_same_report(coach: OfflineCoach, name: str) -> None:
    summary = from_truth(truth(name))
    first = coach.analyze_sync(summary)
    assert all(OfflineCoach().analyze_sync(summary) == first for _ in range(3))


def test_nonsense_scores_well_below_real_answers(coach: OfflineCoach) -> None:
    junk = coach.analyze_sync(nonsense())
    for name in FIXTURES:
        real = coach.analyze_sync(from_truth(truth(name)))
        assert junk.overall_score <= real.overall_score - 30, (junk.overall_score, real)
    assert junk.overall_score < 40
    assert "do not hang together" in junk.summary


def test_empty_answer_scores_zero_and_says_so(coach: OfflineCoach) -> None:
    report = coach.analyze_sync(summarize([], duration=12.0))
    assert report.overall_score == 0 and report.confidence_score == 0
    assert "No speech" in report.summary
    assert report.improvements == []


def test_feedback_is_built_from_the_numbers(coach: OfflineCoach) -> None:
    summary = from_truth(truth("weakness"))
    report = coach.analyze_sync(summary)
    assert f"{len(summary.fillers)} fillers" in report.filler_analysis
    for f in {f.word for f in summary.fillers}:
        assert f"“{f}”" in report.filler_analysis
    assert f"{score(summary).pace_wpm:.0f} wpm" in report.pace_analysis
    longest = max(summary.pauses, key=lambda p: p.duration)
    assert any(f"{longest.duration:.1f} s" in i.description for i in report.improvements)
    assert report.highlights and "fluent" in report.highlights[0]


def test_short_answer_does_not_talk_about_the_first_minute(coach: OfflineCoach) -> None:
    report = coach.analyze_sync(from_truth(truth("project"), fillers="add"))
    assert "first minute" not in report.filler_analysis


def test_scores_stay_in_range_for_extremes() -> None:
    for summary in (
        nonsense(wpm=400),
        nonsense(wpm=20),
        from_truth(truth("weakness"), fillers="add"),
    ):
        s = score(summary)
        assert 0 <= s.overall <= 100 and 0 <= s.confidence <= 100


async def test_async_interface_matches(coach: OfflineCoach) -> None:
    summary: SessionSummary = from_truth(truth("project"))
    assert await coach.analyze(summary) == coach.analyze_sync(summary)
    await coach.aclose()
