"""Long pauses: from gaps between words, or from a voice-activity detector's silences."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from coach.speech.words import Silence, Word


def word_gaps(words: Sequence[Word], threshold: float) -> list[Silence]:
    """Gaps between consecutive words longer than `threshold`."""
    return [Silence(a.end, b.start) for a, b in pairwise(words) if b.start - a.end > threshold]


def long_pauses(
    words: Sequence[Word],
    threshold: float,
    silences: Sequence[Silence] | None = None,
    excluded: Sequence[Silence] = (),
) -> list[Silence]:
    """Pauses inside the speech, longer than `threshold`.

    With VAD silences they win: the detector heard the audio, while word timestamps drift.
    Silence before the first word or after the last is not a pause in the answer, and nor is
    time in `excluded` (the wait before answering a question, measured as latency instead).
    """
    if not words:
        return []
    first, last = words[0].start, words[-1].end
    if silences is None:
        found = word_gaps(words, threshold)
    else:
        # Recognizer word edges and VAD edges disagree by a few tens of milliseconds.
        slack = 0.15
        found = [
            s
            for s in silences
            if s.duration > threshold and s.end > first + slack and s.start < last - slack
        ]
    return [p for p in found if not any(_overlaps(p, e) for e in excluded)]


def _overlaps(a: Silence, b: Silence) -> bool:
    return a.start < b.end and b.start < a.end
