"""Progress over weeks: each measure across a user's interviews, its change, and their goals.

Pure: it takes what the analyses already judged (the findings' values and bands), so the
history page and the coaching text can never disagree about a number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Better = Literal["lower", "higher", "band"]
# drills (coach.drills) count in progress like interviews, marked so a chart can tell them apart
Kind = Literal["interview", "drill"]

# which way is better for each measure a goal can be set on
GOAL_DIRECTIONS: dict[str, Better] = {
    "overall": "higher",
    "fillers_per_minute": "lower",
    "long_pauses_per_minute": "lower",
    "hedges_per_minute": "lower",
    "repetitions_per_minute": "lower",
    "clear_words": "higher",
    "content_checks_passed": "higher",
}
# the measures followed over time, in the order a page shows them
MEASURES = (
    "overall",
    "speaking_rate",
    "fillers_per_minute",
    "long_pauses_per_minute",
    "hedges_per_minute",
    "repetitions_per_minute",
    "clear_words",
    "pitch_variation",
    "content_checks_passed",
    "star_parts",
    "relevance",
    "ownership",
)
# content checks followed as the mean over an interview's answers (the others, such as an
# answer's length, are judged against a band that depends on its question)
CONTENT_MEANS = ("star_parts", "relevance", "ownership")


@dataclass(frozen=True, slots=True)
class Measured:
    """One measure of one interview, as its analysis judged it."""

    measure: str
    label: str
    value: float
    unit: str
    good: tuple[float | None, float | None] | None = None


@dataclass(frozen=True, slots=True)
class Judged:
    """One check of one answer as its analysis judged it (a content finding, without words)."""

    measure: str
    label: str
    value: float
    unit: str
    good: tuple[float | None, float | None] | None
    verdict: str


def content_measures(judged: Sequence[Judged]) -> list[Measured]:
    """An interview's content checks as measures: the share passed, and a few means."""
    if not judged:
        return []
    passed = sum(1 for j in judged if j.verdict != "weakness") / len(judged)
    out = [
        Measured(
            "content_checks_passed",
            "content checks passed (STAR, relevance, length, ownership)",
            round(passed, 3),
            "share",
        )
    ]
    for name in CONTENT_MEANS:
        found = [j for j in judged if j.measure == name and math.isfinite(j.value)]
        if found:
            mean = sum(j.value for j in found) / len(found)
            first = found[0]
            label = f"{first.label} (mean over answers)"
            out.append(Measured(name, label, round(mean, 3), first.unit, first.good))
    return out


@dataclass(frozen=True, slots=True)
class Record:
    """One analyzed interview: when, and its measures."""

    interview_id: str
    at: dt.datetime
    measures: tuple[Measured, ...]
    kind: Kind = "interview"


@dataclass(frozen=True, slots=True)
class Sample:
    """A measure's value in one interview."""

    interview_id: str
    at: dt.datetime
    value: float
    kind: Kind = "interview"


@dataclass(frozen=True, slots=True)
class MeasureProgress:
    """One measure over time: the latest value, how it moved, and the user's goal for it."""

    measure: str
    label: str
    unit: str
    better: Better
    good: tuple[float | None, float | None] | None
    samples: tuple[Sample, ...]
    change: float | None  # latest minus the interview before
    recent_mean: float | None  # mean of up to `last_n` interviews before the latest
    change_over_recent: float | None  # latest minus that mean
    improved: bool | None  # since the interview before, in the direction that is better
    goal: float | None
    goal_met: bool | None

    @property
    def latest(self) -> float:
        """The newest interview's value."""
        return self.samples[-1].value


def _miss(value: float, good: tuple[float | None, float | None] | None) -> float:
    # how far outside the good band a value is (0 inside it)
    if good is None:
        return 0.0
    lo, hi = good
    if lo is not None and value < lo:
        return lo - value
    if hi is not None and value > hi:
        return value - hi
    return 0.0


def _better(measure: str, good: tuple[float | None, float | None] | None) -> Better:
    if measure in GOAL_DIRECTIONS:
        return GOAL_DIRECTIONS[measure]
    return "band" if good is not None else "higher"


Ends = tuple[float | None, float | None]


def _improved(better: Better, before: float, now: float, good: Ends | None) -> bool | None:
    if math.isclose(before, now, abs_tol=1e-9):
        return None
    if better == "lower":
        return now < before
    if better == "higher":
        return now > before
    a, b = _miss(before, good), _miss(now, good)
    return None if math.isclose(a, b, abs_tol=1e-9) else b < a


def goal_met(measure: str, value: float, goal: float) -> bool:
    """Whether `value` meets a goal on `measure` (at most it, or at least it)."""
    return value <= goal if GOAL_DIRECTIONS[measure] == "lower" else value >= goal


def progress(
    records: Sequence[Record], goals: Mapping[str, float], *, last_n: int = 5
) -> list[MeasureProgress]:
    """Each measure seen in `records` over time, oldest first, with changes and goals."""
    ordered = sorted(records, key=lambda r: (r.at, r.interview_id))
    seen: dict[str, list[tuple[Record, Measured]]] = {}
    for r in ordered:
        for m in r.measures:
            if math.isfinite(m.value):
                seen.setdefault(m.measure, []).append((r, m))
    out: list[MeasureProgress] = []
    names = [m for m in MEASURES if m in seen] + sorted(set(seen) - set(MEASURES))
    for name in names:
        rows = seen[name]
        last = rows[-1][1]
        samples = tuple(Sample(r.interview_id, r.at, m.value, r.kind) for r, m in rows)
        better = _better(name, last.good)
        change = improved = None
        recent_mean = change_over_recent = None
        if len(samples) >= 2:
            before = samples[-2].value
            change = last.value - before
            improved = _improved(better, before, last.value, last.good)
            window = [s.value for s in samples[-1 - last_n : -1]]
            recent_mean = sum(window) / len(window)
            change_over_recent = last.value - recent_mean
        goal = goals.get(name)
        out.append(
            MeasureProgress(
                measure=name,
                label=last.label,
                unit=last.unit,
                better=better,
                good=last.good,
                samples=samples,
                change=change,
                recent_mean=recent_mean,
                change_over_recent=change_over_recent,
                improved=improved,
                goal=goal,
                goal_met=None if goal is None else goal_met(name, last.value, goal),
            )
        )
    return out
