"""Drills: the live nudge rules, and a result that agrees with the report's own finding."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from coach.analysis.assessment import assess, wire_fields
from coach.analysis.feedback import AiAnalysis
from coach.analysis.findings import bands
from coach.analysis.scoring import Thresholds, part_score
from coach.drills import (
    FILLER_FREE_STRETCH,
    FILLER_NUDGE_GAP,
    HABITS,
    PACE_NUDGE_GAP,
    DrillCoach,
    DrillInterviewer,
    DrillRequest,
    DrillSpec,
    drill_result,
    new_drill,
)
from tests.analysis.sessions import from_truth, truth

HABIT_NAMES = sorted(HABITS)


def spec(habit: str, seconds: float = 90) -> DrillSpec:
    return DrillSpec.model_validate(
        {"habit": habit, "prompt": HABITS[habit].prompts[0], "seconds": seconds}
    )


def test_a_request_names_a_known_habit_and_one_to_two_minutes() -> None:
    assert DrillRequest.model_validate({"habit": "pace"}).seconds == 90
    for bad in ({"habit": "posture"}, {"habit": "pace", "seconds": 30},
                {"habit": "pace", "seconds": 600}, {"habit": "pace", "seconds": "90"},
                {"habit": "pace", "extra": 1}):  # fmt: skip
        with pytest.raises(ValidationError):
            DrillRequest.model_validate(bad)


@pytest.mark.parametrize("habit", HABIT_NAMES)
def test_a_new_drill_asks_one_of_its_habits_prompts_once(habit: str) -> None:
    drill = new_drill(DrillRequest(habit=habit, seconds=75), random.Random(1))
    assert drill.prompt in HABITS[habit].prompts and drill.seconds == 75
    asker = DrillInterviewer(drill)
    turn = asker.open(0.0)
    assert (turn.text, turn.kind, turn.index) == (drill.prompt, "question", 0)
    assert turn.preface == HABITS[habit].instruction
    assert (asker.asked, asker.total) == (1, 1)
    assert asker.skip(10.0) is None


def test_fillers_nudge_once_per_burst_then_praise_a_filler_free_stretch() -> None:
    coach = DrillCoach(spec("fillers"), pause_threshold=1.2)
    first = coach.filler("um", 5.0)
    assert first is not None and first.tone == "warn" and "“um” at 0:05" in first.message
    assert coach.filler("uh", 5.0 + FILLER_NUDGE_GAP / 2) is None  # same burst
    later = coach.filler("like", 5.0 + FILLER_NUDGE_GAP * 2)
    assert later is not None and "“like”" in later.message
    last = 5.0 + FILLER_NUDGE_GAP * 2
    assert coach.tick(last + FILLER_FREE_STRETCH - 1, speaking=True, silent_since=None) is None
    praise = coach.tick(last + FILLER_FREE_STRETCH, speaking=True, silent_since=None)
    assert praise is not None and praise.tone == "good"
    # said once per stretch
    assert coach.tick(last + FILLER_FREE_STRETCH + 5, speaking=True, silent_since=None) is None


@pytest.mark.parametrize(
    ("wpms", "tones"),
    [
        # (pace each 5 s, the nudges expected): too fast, held back 10 s, then back in band
        ([190, 190, 190, 150, 150], ["warn", None, "warn", None, "good"]),
        ([100, 150, 150], ["warn", None, "good"]),
        ([150, 150, 150], [None, None, None]),  # never off pace: nothing to say
        ([None, None], [None, None]),  # not measured yet
    ],
)
def test_pace_nudges_only_off_the_band_and_at_most_every_few_seconds(
    wpms: list[float | None], tones: list[str | None]
) -> None:
    coach = DrillCoach(spec("pace"), pause_threshold=1.2)
    assert PACE_NUDGE_GAP == 10.0
    got = []
    for k, wpm in enumerate(wpms):
        nudge = coach.pace(wpm, 20.0 + 5.0 * k)
        got.append(None if nudge is None else nudge.tone)
    assert got == tones


def test_a_long_silence_is_nudged_once_and_only_after_speech_began() -> None:
    coach = DrillCoach(spec("pauses"), pause_threshold=1.2)
    # thinking before the first word is not a pause in the answer
    assert coach.tick(3.0, speaking=False, silent_since=0.0) is None
    assert coach.tick(4.0, speaking=True, silent_since=None) is None
    assert coach.tick(5.0, speaking=False, silent_since=4.5) is None
    nudge = coach.tick(5.8, speaking=False, silent_since=4.5)
    assert nudge is not None and nudge.value == pytest.approx(1.3)
    assert coach.tick(7.0, speaking=False, silent_since=4.5) is None
    assert coach.tick(9.5, speaking=False, silent_since=8.0) is not None  # a new silence


@pytest.mark.parametrize("habit", HABIT_NAMES)
def test_each_drill_nudges_only_its_own_habit(habit: str) -> None:
    coach = DrillCoach(spec(habit), pause_threshold=1.2)
    kinds = {
        "fillers": coach.filler("um", 3.0),
        "pace": coach.pace(220.0, 20.0),
        "pauses": (coach.tick(1.0, speaking=True, silent_since=None),
                   coach.tick(9.0, speaking=False, silent_since=2.0))[1],
    }  # fmt: skip
    assert {k for k, v in kinds.items() if v is not None} == {habit}
    assert coach.time_up(90.0) and not coach.time_up(89.9)


def _analysis(name: str) -> AiAnalysis:
    fields = wire_fields(assess(from_truth(truth(name))))
    return AiAnalysis.model_validate(
        {"summary": "", "pace_analysis": "", "filler_analysis": "", **fields}
    )


@pytest.mark.parametrize("name", ["weakness", "project", "thinking", "fast-like"])
@pytest.mark.parametrize("habit", HABIT_NAMES)
def test_a_drill_result_is_the_reports_own_finding_on_its_habit(name: str, habit: str) -> None:
    analysis = _analysis(name)
    result = drill_result(spec(habit), analysis)
    assert result is not None
    finding = next(f for f in analysis.findings if f.measure == HABITS[habit].measure)
    assert (result.value, result.verdict, result.band) == (
        finding.value,
        finding.verdict,
        finding.band,
    )
    assert result.score == round(part_score(finding.measure, finding.value))
    if finding.text:
        assert finding.text[1:] in result.text


def test_no_analysis_or_no_words_no_result() -> None:
    assert drill_result(spec("pace"), None) is None
    empty = AiAnalysis(overall_score=0, summary="", pace_analysis="", filler_analysis="",
                       confidence_score=0)  # fmt: skip
    assert drill_result(spec("pace"), empty) is None


@given(
    habit=st.sampled_from(HABIT_NAMES),
    value=st.floats(min_value=0, max_value=400, allow_nan=False),
)
def test_a_result_never_contradicts_its_band(habit: str, value: float) -> None:
    measure = HABITS[habit].measure
    band = bands(Thresholds())[measure]
    verdict = band.verdict(value).value
    analysis = AiAnalysis.model_validate(
        {"overall_score": 50, "summary": "", "pace_analysis": "", "filler_analysis": "",
         "confidence_score": 50,
         "findings": [{"measure": measure, "label": measure, "value": value, "unit": "u",
                       "band": {"good": band.good, "ok": band.ok, "source": band.source},
                       "verdict": verdict}]}
    )  # fmt: skip
    result = drill_result(spec(habit), analysis)
    assert result is not None and result.verdict == verdict
    # the words agree with the verdict, never with another one
    assert ("outside" in result.text) == (verdict == "weakness")
    assert ("inside the good range" in result.text) == (verdict == "strength")
    # a weakness never outscores a strength of the same habit
    if verdict == "strength":
        assert result.score >= 85


def test_a_filler_free_stretch_counts_only_words_already_transcribed() -> None:
    coach = DrillCoach(spec("fillers"), pause_threshold=1.2)
    assert coach.filler("um", 5.0) is not None
    # the audio is 30 s in, but the recognizer has written words only up to 10 s: a filler
    # between 10 and 30 s may still come, so no praise yet
    assert coach.tick(30.0, speaking=True, silent_since=None, transcribed_until=10.0) is None
    praise = coach.tick(31.0, speaking=True, silent_since=None, transcribed_until=25.5)
    assert praise is not None and praise.tone == "good" and praise.at == 25.5
    assert praise.message.startswith("20 s without a filler")


def test_a_silence_after_written_words_counts_as_free_of_fillers() -> None:
    coach = DrillCoach(spec("fillers"), pause_threshold=1.2)
    assert coach.filler("uh", 2.0) is not None
    # silent since 12 s and everything before it is written: nothing can be pending
    praise = coach.tick(22.5, speaking=False, silent_since=12.0, transcribed_until=11.8)
    assert praise is not None and praise.at == 22.5
    coach = DrillCoach(spec("fillers"), pause_threshold=1.2)
    assert coach.filler("uh", 2.0) is not None
    # the utterance before the silence is still being decoded: wait for it
    assert coach.tick(22.5, speaking=False, silent_since=12.0, transcribed_until=6.0) is None
