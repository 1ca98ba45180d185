"""Drills: one habit (fillers, pace or long pauses) practised on one prompt for a minute or two.

A drill is a live session with a one-question interviewer, a time limit, nudges tuned to its
habit, and a result read from the same typed finding the full report judges that habit by, so
the drill's score can never disagree with the report's numbers. The rules here are pure.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field

from coach.analysis.feedback import AiAnalysis, BandOut, FindingOut
from coach.analysis.scoring import Thresholds, part_score
from coach.interviewer.text import Turn
from coach.speech.summary import WireModel

Habit = Literal["fillers", "pace", "pauses"]
Tone = Literal["warn", "good"]

DEFAULT_SECONDS = 90
MIN_SECONDS, MAX_SECONDS = 60, 120


@dataclass(frozen=True, slots=True)
class HabitRules:
    """What a drill on one habit measures and asks."""

    measure: str
    title: str
    instruction: str
    prompts: tuple[str, ...]


# Open prompts a candidate can talk about for two minutes without preparing.
HABITS: dict[str, HabitRules] = {
    "fillers": HabitRules(
        "fillers_per_minute",
        "Filler words",
        "Answer without “um”, “uh” or “like”: when you need a moment, pause silently instead.",
        (
            "Walk me through a project you are proud of, from the start to the result.",
            "Tell me about a time you had to learn something new quickly.",
            "Describe how you would explain your current job to a new colleague.",
        ),
    ),
    "pace": HabitRules(
        "speaking_rate",
        "Speaking pace",
        "Keep a steady pace of 120–165 words a minute: slow down on the important points.",
        (
            "Tell me about yourself and what brings you to this role.",
            "Describe a difficult decision you made at work and how you made it.",
            "Explain a technical or complex topic you know well to a non-expert.",
        ),
    ),
    "pauses": HabitRules(
        "long_pauses_per_minute",
        "Long pauses",
        "Keep talking in a steady flow: short pauses are fine, long silences lose the listener.",
        (
            "Tell me about a time you disagreed with a colleague and what happened.",
            "What is a mistake you made and what did you learn from it?",
            "Describe your ideal team and your part in it.",
        ),
    ),
}


class DrillRequest(WireModel):
    """The `drill` of a `start` message: which habit, and for how long."""

    # as strict as the rest of `start`: "90" is not a number of seconds
    model_config = ConfigDict(strict=True, extra="forbid")
    habit: Habit
    seconds: int = Field(DEFAULT_SECONDS, ge=MIN_SECONDS, le=MAX_SECONDS)


class DrillSpec(WireModel):
    """A drill as stored with its interview: the habit, the prompt asked, the time allowed."""

    habit: Habit
    prompt: str
    seconds: float = Field(ge=MIN_SECONDS, le=MAX_SECONDS)

    @property
    def rules(self) -> HabitRules:
        """The habit's measure and wording."""
        return HABITS[self.habit]


def new_drill(request: DrillRequest, rng: random.Random | None = None) -> DrillSpec:
    """A drill on the requested habit with one of its prompts."""
    prompts = HABITS[request.habit].prompts
    return DrillSpec(
        habit=request.habit, prompt=(rng or random).choice(prompts), seconds=request.seconds
    )


class DrillInterviewer:
    """The interviewer of a drill: asks its one prompt, then only listens."""

    def __init__(self, spec: DrillSpec) -> None:
        self.spec = spec
        self._asked = 0

    def open(self, t: float) -> Turn:
        """The prompt, at the start."""
        self._asked = 1
        return Turn(self.spec.prompt, 0, t, "question", preface=self.spec.rules.instruction)

    def speaking(self, t: float) -> None:
        """A drill does not take turns."""

    def heard(self, text: str, start: float, end: float) -> None:
        """A drill does not take turns."""

    def utterance_end(self, t: float) -> None:
        """A drill does not take turns."""

    async def tick(self, t: float) -> Sequence[Turn]:
        """Nothing more is asked: the drill ends at its time limit."""
        return ()

    def skip(self, t: float) -> Turn | None:
        """There is no next question in a drill."""
        return None

    @property
    def asked(self) -> int:
        """Questions asked so far (the one prompt)."""
        return self._asked

    @property
    def total(self) -> int:
        """A drill has one prompt."""
        return 1


@dataclass(frozen=True, slots=True)
class Nudge:
    """A live hint about the drill's habit, at a moment of the session clock."""

    habit: Habit
    tone: Tone
    message: str
    at: float
    value: float | None = None


# Fillers often come in bursts ("um, uh"): one nudge covers those this close together.
FILLER_NUDGE_GAP = 4.0
# This long without a filler after one was nudged earns a word of praise.
FILLER_FREE_STRETCH = 20.0
# A final's last word ends a little before voice activity calls the silence after it.
WORDS_SETTLE = 0.5
# Pace is measured over the last 30 s of speech, so a new verdict needs this long to mean much.
PACE_NUDGE_GAP = 10.0


def _clock(t: float) -> str:
    s = max(0, int(t))
    return f"{s // 60}:{s % 60:02d}"


class DrillCoach:
    """The live nudges of one drill, from what the session heard; pure and deterministic."""

    def __init__(
        self,
        spec: DrillSpec,
        *,
        pause_threshold: float,
        pace_band: tuple[float, float] = Thresholds().pace_band,
    ) -> None:
        self.spec = spec
        self.pause_threshold = pause_threshold
        self.pace_band = pace_band
        self._last_filler_nudge: float | None = None
        self._last_filler: float | None = None
        self._praised_since: float | None = None
        self._pace_side: str | None = None
        self._last_pace_nudge: float | None = None
        self._silence_nudged: float | None = None
        self._spoke = False

    def time_up(self, t: float) -> bool:
        """Whether the drill's time has run out at `t`."""
        return t >= self.spec.seconds

    def filler(self, word: str, at: float) -> Nudge | None:
        """A filler was heard at `at`: the fillers drill says so (one nudge per burst)."""
        if self.spec.habit != "fillers":
            return None
        self._last_filler = max(at, self._last_filler or 0.0)
        last = self._last_filler_nudge
        if last is not None and at - last < FILLER_NUDGE_GAP:
            return None
        self._last_filler_nudge = at
        return Nudge(
            "fillers",
            "warn",
            f"“{word}” at {_clock(at)}: next time, pause silently instead.",
            at,
        )

    def pace(self, wpm: float | None, now: float) -> Nudge | None:
        """The pace over the last stretch of speech (None until measurable)."""
        if self.spec.habit != "pace" or wpm is None:
            return None
        lo, hi = self.pace_band
        side = "fast" if wpm > hi else "slow" if wpm < lo else "in"
        last = self._last_pace_nudge
        if last is not None and now - last < PACE_NUDGE_GAP:
            return None
        if side == "in":
            if self._pace_side in ("fast", "slow"):
                self._pace_side, self._last_pace_nudge = "in", now
                return Nudge(
                    "pace", "good", f"Good: {wpm:.0f} wpm, inside {lo:.0f}–{hi:.0f}.", now, wpm
                )
            self._pace_side = "in"
            return None
        self._pace_side, self._last_pace_nudge = side, now
        advice = "slow down" if side == "fast" else "a little faster"
        return Nudge(
            "pace",
            "warn",
            f"{wpm:.0f} wpm: {advice}; aim for {lo:.0f}–{hi:.0f}.",
            now,
            wpm,
        )

    def tick(
        self,
        now: float,
        *,
        speaking: bool | None,
        silent_since: float | None,
        transcribed_until: float | None = None,
    ) -> Nudge | None:
        """The clock moved on: a silence running too long, or a stretch free of fillers.

        A stretch is free of fillers only as far as the recognizer has finished its words
        (`transcribed_until`; the audio clock when not given), or up to now in a silence once
        the speech before it is written: a filler not yet written must not be praised away.
        """
        if speaking:
            self._spoke = True
        if self.spec.habit == "pauses":
            if not self._spoke or speaking or silent_since is None:
                return None
            silent = now - silent_since
            if silent >= self.pause_threshold and self._silence_nudged != silent_since:
                self._silence_nudged = silent_since
                return Nudge(
                    "pauses",
                    "warn",
                    f"{silent:.1f} s of silence: carry on with your next point.",
                    now,
                    silent,
                )
            return None
        if self.spec.habit == "fillers" and self._last_filler is not None:
            known = now
            if transcribed_until is not None:
                # in a silence whose speech before it is all written, nothing is pending
                caught_up = silent_since is not None and (
                    transcribed_until >= silent_since - WORDS_SETTLE
                )
                known = now if caught_up else min(now, transcribed_until)
            since = known - self._last_filler
            if since >= FILLER_FREE_STRETCH and self._praised_since != self._last_filler:
                self._praised_since = self._last_filler
                praise = f"{since:.0f} s without a filler: keep it up."
                return Nudge("fillers", "good", praise, known)
        return None


class DrillResult(WireModel):
    """A drill's result: its habit's finding from the analysis, and the part score it earns."""

    habit: Habit
    title: str
    measure: str
    label: str
    value: float
    unit: str
    band: BandOut
    verdict: str = Field(description="strength | fine | weakness, as in the report")
    score: int = Field(ge=0, le=100)
    text: str
    moment: float | None = None


_VERDICT_WORDS = {
    "strength": "inside the good range",
    "fine": "acceptable, not yet in the good range",
    "weakness": "outside the acceptable range",
}


def drill_result(
    spec: DrillSpec, analysis: AiAnalysis | None, t: Thresholds | None = None
) -> DrillResult | None:
    """The result of a drill, read from the analysis' finding on its habit (None before one)."""
    if analysis is None:
        return None
    rules = spec.rules
    found: FindingOut | None = next(
        (f for f in analysis.findings if f.measure == rules.measure), None
    )
    if found is None:  # nothing was said: no measure to judge
        return None
    words = _VERDICT_WORDS.get(found.verdict, found.verdict)
    text = found.text or f"{found.label}: {found.value:.1f} {found.unit}"
    return DrillResult(
        habit=spec.habit,
        title=rules.title,
        measure=found.measure,
        label=found.label,
        value=found.value,
        unit=found.unit,
        band=found.band,
        verdict=found.verdict,
        score=round(part_score(found.measure, found.value, t)),
        text=f"{text[0].upper()}{text[1:]} — {words}.",
        moment=found.moment,
    )
