"""Typed findings: every sentence of feedback starts from one of these.

A finding is one measure of the session, its value, the band it is judged against (with the
source of that band) and the verdict the band gives, plus the moment it is about. Strengths are
the findings whose verdict is `strength`, things to work on those whose verdict is `weakness`,
so the two lists are drawn from the same verdicts and cannot contradict each other or the
numbers. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from coach.analysis.scoring import FUNCTION_WORDS, Scores, Thresholds
from coach.speech.summary import SessionSummary, WordOut

# Whisper's word probability under which a word is shown as possibly misheard and is not used
# by the content checks. Short function words get low probabilities even when right ("a" at
# 0.21 on the fixtures), so they need a lower bar; on the fixtures, substitutions of content
# words ("tensor", "eye") sat at 0.08–0.40 while correctly heard content words were 0.44 and up.
MISHEARD_BELOW = 0.4
MISHEARD_FUNCTION_WORD_BELOW = 0.2
# Seeking to a moment plays from this many seconds before it, so the listener hears the lead-in
# (CLI, JSON and web use the same figure).
SEEK_LEAD_IN = 1.5


class Verdict(StrEnum):
    """How a value sits against its band."""

    STRENGTH = "strength"
    FINE = "fine"
    WEAKNESS = "weakness"


@dataclass(frozen=True, slots=True)
class Band:
    """`good` earns a strength; `ok` (which holds `good`) is fine; outside `ok` is a weakness."""

    good: tuple[float, float]
    ok: tuple[float, float]
    source: str

    def verdict(self, value: float) -> Verdict:
        """Judge `value`: inside `good` (ends included), inside `ok`, or outside."""
        if self.good[0] <= value <= self.good[1]:
            return Verdict.STRENGTH
        if self.ok[0] <= value <= self.ok[1]:
            return Verdict.FINE
        return Verdict.WEAKNESS


@dataclass(frozen=True, slots=True)
class Finding:
    """One measure judged against its band, and the moment it is about (seconds), if any."""

    measure: str
    label: str
    value: float
    unit: str
    band: Band
    verdict: Verdict
    moment: float | None = None
    strength_text: str = ""
    weakness_text: str = ""

    @property
    def sentence(self) -> str:
        """What the feedback says of this finding, chosen by its verdict."""
        if self.verdict is Verdict.STRENGTH:
            return self.strength_text
        if self.verdict is Verdict.WEAKNESS:
            return self.weakness_text
        return ""


INF = math.inf


def bands(t: Thresholds) -> dict[str, Band]:
    """The band of every delivery measure, from the same thresholds the score uses."""
    lo, hi = t.pace_band
    return {
        "speaking_rate": Band(
            (lo, hi),
            (lo, hi),
            "Street & Brady 1982: listeners follow 120–165 wpm most easily",
        ),
        "fillers_per_minute": Band(
            (0.0, 3.0),
            (0.0, 5.0),
            "Laske et al. 2024: up to about 5 fillers a minute show no listener penalty",
        ),
        "long_pauses_per_minute": Band(
            (0.0, 1.0), (0.0, 2.0), "one long pause a minute reads as thought, several as lost"
        ),
        # Praise needs no hedge at all; an occasional one is fine.
        "hedges_per_minute": Band(
            (0.0, 0.0),
            (0.0, t.hedges_ok_per_minute),
            "hedges read as doubt once they recur within a minute",
        ),
        "repetitions_per_minute": Band(
            (0.0, 1.0), (0.0, 2.0), "a repeated word now and then is natural; more sounds unsure"
        ),
        "clear_words": Band(
            (0.9, 1.0), (0.8, 1.0), "share of words the recognizer heard with confidence"
        ),
        # Lively speech varies its pitch by about 2–4 semitones (SD of F0 in semitones); under
        # about 1.5 st listeners hear it as flat (Traunmüller & Eriksson 1995; Hincks 2005 on
        # pitch variation as a measure of liveliness in presentations).
        "pitch_variation": Band(
            (2.0, INF), (1.5, INF), "Hincks 2005: pitch SD under ~1.5 semitones sounds monotone"
        ),
    }


def is_misheard(w: WordOut) -> bool:
    """Whether the recognizer was too unsure of `w` to show it as said or judge content by it."""
    bar = MISHEARD_FUNCTION_WORD_BELOW if w.word in FUNCTION_WORDS else MISHEARD_BELOW
    return w.confidence < bar


def misheard(words: Sequence[WordOut]) -> list[WordOut]:
    """Words the recognizer was unsure of: shown as possibly misheard, not used for content."""
    return [w for w in words if is_misheard(w)]


def delivery_findings(
    summary: SessionSummary, s: Scores, t: Thresholds | None = None
) -> list[Finding]:
    """The delivery findings of a session: rate, fillers, pauses, hedges, repeats, clarity."""
    t = t or Thresholds()
    if summary.total_words == 0:
        return []
    b = bands(t)
    out: list[Finding] = []
    lo, hi = t.pace_band
    rate = s.pace_wpm
    fastest = _fastest_segment(summary)
    pace_side = "faster" if rate > hi else "slower"
    out.append(
        _finding(
            "speaking_rate",
            "speaking rate (long pauses removed)",
            rate,
            "wpm",
            b,
            moment=fastest if rate > hi else None,
            strength=f"your speaking rate, {rate:.0f} wpm, is inside the {lo:.0f}–{hi:.0f} range",
            weakness=(
                f"your speaking rate, {rate:.0f} wpm, is {pace_side} than the "
                f"{lo:.0f}–{hi:.0f} range"
            ),
        )
    )
    fpm = s.fillers_per_minute
    out.append(
        _finding(
            "fillers_per_minute",
            "fillers per minute of speaking",
            fpm,
            "per minute",
            b,
            moment=summary.fillers[0].timestamp if summary.fillers else None,
            strength=f"few fillers ({len(summary.fillers)}, {fpm:.1f} a minute)",
            weakness=f"fillers: {len(summary.fillers)}, {fpm:.1f} a minute (aim for under 5)",
        )
    )
    ppm = s.pauses_per_minute
    longest = max(summary.pauses, key=lambda p: p.duration, default=None)
    out.append(
        _finding(
            "long_pauses_per_minute",
            "long pauses per minute",
            ppm,
            "per minute",
            b,
            moment=longest.timestamp if longest else None,
            strength=f"a steady flow ({len(summary.pauses)} long pauses)",
            weakness=(
                f"long pauses: {len(summary.pauses)}, {ppm:.1f} a minute"
                + (f", the longest {longest.duration:.1f} s" if longest else "")
            ),
        )
    )
    hpm = s.hedges_per_minute
    out.append(
        _finding(
            "hedges_per_minute",
            "hedges per minute",
            hpm,
            "per minute",
            b,
            moment=summary.hedges[0].timestamp if summary.hedges else None,
            strength="direct wording (no hedging)",
            weakness=(
                f"hedging: {len(summary.hedges)} time{'' if len(summary.hedges) == 1 else 's'} ("
                + ", ".join(sorted({f"“{h.word}”" for h in summary.hedges}))
                + ")"
            ),
        )
    )
    rpm = len(summary.repetitions) / s.minutes
    out.append(
        _finding(
            "repetitions_per_minute",
            "repeated words per minute",
            rpm,
            "per minute",
            b,
            moment=summary.repetitions[0].timestamp if summary.repetitions else None,
            strength="",
            weakness=(
                f"repeated words: {len(summary.repetitions)} ("
                + ", ".join(f"“{r.word}” {r.count} times" for r in summary.repetitions[:3])
                + ")"
            ),
        )
    )
    unsure = misheard(summary.words)
    # a producer may send counts without the words themselves: then there is nothing to judge
    clear = 1 - len(unsure) / len(summary.words) if summary.words else 1.0
    out.append(
        _finding(
            "clear_words",
            "words heard clearly",
            clear,
            "share",
            b,
            moment=unsure[0].start if unsure else None,
            strength="",
            weakness=(
                f"{len(unsure)} of {len(summary.words)} words were hard to make out; speak "
                "each word fully, especially names and numbers"
            ),
        )
    )
    vv = summary.vocal_variety
    if vv is not None and vv.pitch_sd_semitones is not None and vv.voiced_seconds >= 5:
        out.append(
            _finding(
                "pitch_variation",
                "pitch variation (SD, semitones)",
                vv.pitch_sd_semitones,
                "semitones",
                b,
                moment=None,
                strength=f"a lively voice (pitch varies {vv.pitch_sd_semitones:.1f} semitones)",
                weakness=(
                    f"a flat voice: your pitch varies only {vv.pitch_sd_semitones:.1f} "
                    "semitones; lift the key word of each sentence"
                ),
            )
        )
    return out


def judge(
    measure: str,
    label: str,
    value: float,
    unit: str,
    band: Band,
    *,
    moment: float | None,
    strength: str,
    weakness: str,
) -> Finding:
    """A finding with the verdict its band gives `value`."""
    verdict = band.verdict(value)
    # A measure with nothing to praise ("no repeated words") is only ever fine or a weakness.
    if verdict is Verdict.STRENGTH and not strength:
        verdict = Verdict.FINE
    return Finding(measure, label, value, unit, band, verdict, moment, strength, weakness)


def _finding(
    measure: str,
    label: str,
    value: float,
    unit: str,
    b: dict[str, Band],
    *,
    moment: float | None,
    strength: str,
    weakness: str,
) -> Finding:
    return judge(
        measure, label, value, unit, b[measure], moment=moment, strength=strength, weakness=weakness
    )


def _fastest_segment(summary: SessionSummary) -> float | None:
    rated = [p for p in summary.pace_timeline if p.speaking_wpm is not None]
    if not rated:
        return None
    return max(rated, key=lambda p: p.speaking_wpm or 0.0).segment_start


def strengths(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that earn praise."""
    return [f for f in findings if f.verdict is Verdict.STRENGTH]


def weaknesses(findings: Sequence[Finding]) -> list[Finding]:
    """The findings to work on."""
    return [f for f in findings if f.verdict is Verdict.WEAKNESS]
