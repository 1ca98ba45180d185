"""The one scoring formula both analyzers use: numbers come from coach, never from a model.

Thresholds, with the findings they rest on:

- Pace. Conversational English runs at about 120–150 words per minute, and listeners
  comprehend best around 140–160 wpm (Street & Brady 1982, "Speech rate acceptance ranges as
  a function of evaluative domain, listener speech rate, and communication context"). The
  band below is 120–165 wpm at full marks, falling off outside it.
- Fillers. Up to about 5 fillers per minute show no measurable listener penalty, while the
  harm to perceived competence concentrates near 12 per minute (Laske et al. 2024, on filled
  pauses in spoken presentations). Full marks up to 3 per minute, a gentle slope to 5, then a
  steep one to 12 and beyond.
- Long pauses (over the pause threshold, 1.2 s by default): one a minute reads as thought;
  several a minute read as lost. Hedges ("I think", "maybe") are scored the same way.
- Substance. Delivery is worthless without an answer: a transcript of random words, or
  nothing, must score low whatever its pace. Offline, substance is estimated from the share of
  English function words (real speech: about 40–55 %; a word salad: under 20 %), the length of
  the answer and the recognizer's confidence. With an LLM, substance is the mean of its
  per-question rubric scores whose evidence quote really occurs in the transcript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from coach.speech.summary import SessionSummary

# Words that carry grammar rather than content; their share separates speech from word salad.
FUNCTION_WORDS = frozenset(
    """a about after all also an and any are as at be because been before but by can could
    did do does for from had has have he her him his how i if in into is it its just me more
    most my no not of on one or our out so some than that the their them then there these
    they this those to up us was we were what when where which while who why will with would
    you your i'm it's don't didn't we're i've that's there's can't""".split()
)


def _ramp(x: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear interpolation through (x, score) points, flat beyond the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Tunable scoring curves: (measure, score) points, interpolated linearly."""

    pace_band: tuple[float, float] = (120.0, 165.0)
    # past this many hedges a minute, hedging is a weakness (findings.bands uses the same)
    hedges_ok_per_minute: float = 2.0
    pace_points: tuple[tuple[float, float], ...] = (
        (60.0, 0.0),
        (100.0, 55.0),
        (120.0, 100.0),
        (165.0, 100.0),
        (190.0, 60.0),
        (240.0, 0.0),
    )
    fillers_per_min: tuple[tuple[float, float], ...] = (
        (3.0, 100.0),
        (5.0, 90.0),
        (8.0, 65.0),
        (12.0, 35.0),
        (20.0, 0.0),
    )
    pauses_per_min: tuple[tuple[float, float], ...] = (
        (1.0, 100.0),
        (2.0, 85.0),
        (4.0, 50.0),
        (8.0, 0.0),
    )
    hedges_per_min: tuple[tuple[float, float], ...] = (
        (2.0, 100.0),
        (4.0, 80.0),
        (8.0, 40.0),
        (14.0, 0.0),
    )
    function_share: tuple[tuple[float, float], ...] = (
        (0.15, 0.0),
        (0.25, 35.0),
        (0.33, 85.0),
        (0.38, 100.0),
    )
    answer_words: tuple[tuple[float, float], ...] = (
        (0.0, 0.0),
        (15.0, 30.0),
        (40.0, 85.0),
        (60.0, 100.0),
    )


@dataclass(frozen=True, slots=True)
class Scores:
    """Every part score (0–100) and the two headline scores."""

    pace: float
    fillers: float
    pauses: float
    hedges: float
    substance: float
    delivery: float
    overall: int
    confidence: int
    minutes: float
    fillers_per_minute: float
    pauses_per_minute: float
    hedges_per_minute: float
    pace_wpm: float


def substance_from_text(summary: SessionSummary, t: Thresholds) -> float:
    """How much this looks like a real spoken answer, from the words alone."""
    words = [w.word for w in summary.words]
    if not words:
        return 0.0
    share = sum(1 for w in words if w in FUNCTION_WORDS) / len(words)
    confidence = sum(w.confidence for w in summary.words) / len(words)
    # Unsure recognition means mumbled or garbled audio: scale down below 0.6 mean probability.
    heard = min(1.0, confidence / 0.6)
    return _ramp(share, t.function_share) * _ramp(len(words), t.answer_words) / 100 * heard


def part_score(measure: str, value: float, t: Thresholds | None = None) -> float:
    """The 0–100 part score a delivery measure's value earns, on the curves `score` uses."""
    t = t or Thresholds()
    curves = {
        "speaking_rate": t.pace_points,
        "fillers_per_minute": t.fillers_per_min,
        "long_pauses_per_minute": t.pauses_per_min,
        "hedges_per_minute": t.hedges_per_min,
    }
    return _ramp(value, curves[measure])


def score(
    summary: SessionSummary,
    *,
    rubric: Sequence[float] | None = None,
    thresholds: Thresholds | None = None,
) -> Scores:
    """Score a session; `rubric` (0–100 each, already checked against the transcript) replaces
    the text-only substance estimate when an LLM graded the answers."""
    t = thresholds or Thresholds()
    speaking = summary.speaking_time or summary.duration
    minutes = max(speaking, 1.0) / 60
    pace_wpm = summary.speaking_pace or summary.average_pace
    fpm = len(summary.fillers) / minutes
    ppm = len(summary.pauses) / minutes
    hpm = len(summary.hedges) / minutes
    if summary.total_words == 0:
        pace = fillers = pauses = hedges = 0.0
    else:
        pace = part_score("speaking_rate", pace_wpm, t)
        fillers = part_score("fillers_per_minute", fpm, t)
        pauses = part_score("long_pauses_per_minute", ppm, t)
        hedges = part_score("hedges_per_minute", hpm, t)
    substance = substance_from_text(summary, t)
    if rubric:
        substance = min(substance + 15, sum(rubric) / len(rubric))
    delivery = 0.3 * pace + 0.35 * fillers + 0.2 * pauses + 0.15 * hedges
    # Substance caps the score: fluent nonsense is still nonsense.
    overall = min(0.6 * delivery + 0.4 * substance, substance + 20)
    confidence = min(0.35 * fillers + 0.35 * hedges + 0.2 * pauses + 0.1 * pace, substance + 30)
    return Scores(
        pace=pace,
        fillers=fillers,
        pauses=pauses,
        hedges=hedges,
        substance=substance,
        delivery=delivery,
        overall=round(max(0.0, min(100.0, overall))),
        confidence=round(max(0.0, min(100.0, confidence))),
        minutes=minutes,
        fillers_per_minute=fpm,
        pauses_per_minute=ppm,
        hedges_per_minute=hpm,
        pace_wpm=pace_wpm,
    )
