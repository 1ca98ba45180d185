"""Live pace on speech time: what a candidate hears about their rate while they talk.

A live recognizer reports words late (the local one a whole utterance at a time), so a rate
over the last 30 s of *clock* falls while an utterance is still being decoded and jumps when it
lands. Measured on the words' own speech time, anchored at the last word heard, the rate only
moves when words arrive, and never counts a silence as slow speech.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coach.speech.pace import words_per_minute
from coach.speech.words import Word

# less speech than this gives a rate that jumps with every word: nothing is shown before it
MIN_SPEECH_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class LivePace:
    """Speaking rates so far; None until `MIN_SPEECH_SECONDS` of speech were heard."""

    overall: float | None
    recent: float | None
    speech_seconds: float


# (start, end, words) of a stretch of speech whose gaps are all under the pause gap
Run = tuple[float, float, int]


def extend_runs(runs: list[Run], words: Iterable[Word], gap: float) -> list[Run]:
    """Add `words` (in time order, none before the last run) to `runs` in place; returns it."""
    for w in words:
        if runs and w.start - runs[-1][1] < gap:
            start, end, n = runs[-1]
            runs[-1] = (start, max(end, w.end), n + 1)
        else:
            runs.append((w.start, w.end, 1))
    return runs


def speech_seconds(words: Sequence[Word], gap: float) -> float:
    """Seconds of speech under `words` (in time order): pauses of `gap` or longer left out."""
    return sum(end - start for start, end, _ in extend_runs([], words, gap))


def live_pace(words: Sequence[Word], *, gap: float, window: float) -> LivePace:
    """The overall speaking rate and the one over the last `window` s of speech.

    `words` are in time order; the recent window ends at the last word, so it holds still
    while the recognizer is busy with audio it has not reported yet.
    """
    return pace_of_runs(extend_runs([], words, gap), window)


def pace_of_runs(runs: Sequence[Run], window: float) -> LivePace:
    """`live_pace` from the words' runs (`extend_runs`), which a live session keeps as it goes."""
    total = sum(end - start for start, end, _ in runs)
    if total < MIN_SPEECH_SECONDS:
        return LivePace(None, None, total)
    overall = words_per_minute(sum(n for _, _, n in runs), total)
    seconds, count = 0.0, 0
    for start, end, n in reversed(runs):
        span = end - start
        if seconds + span > window and seconds > 0:
            # take the part of this run that fits, at the run's own rate
            part = window - seconds
            count += round(n * part / span) if span > 0 else 0
            seconds = window
            break
        seconds += span
        count += n
    return LivePace(round(overall, 1), round(words_per_minute(count, seconds), 1), total)
