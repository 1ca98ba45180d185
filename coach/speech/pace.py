"""Speaking rate over time: words per minute in fixed segments."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class PaceSegment:
    """Words per minute between `start` and `end` seconds."""

    start: float
    end: float
    words: int

    @property
    def wpm(self) -> float:
        """Rate scaled by the segment's real length, so a short last segment is not diluted."""
        length = self.end - self.start
        return self.words * 60.0 / length if length > 0 else 0.0


def pace_timeline(
    midpoints: Sequence[float], duration: float, segment: float, min_tail: float = 1.0
) -> list[PaceSegment]:
    """Segments of `segment` s covering [0, duration]; a word counts where its midpoint lies.

    A last piece shorter than `min_tail` s joins the segment before it: a rate over a few
    hundredths of a second says nothing.
    """
    if duration <= 0:
        return []
    edges = [0.0]
    while edges[-1] + segment < duration:
        edges.append(edges[-1] + segment)
    if len(edges) > 1 and duration - edges[-1] < min_tail:
        edges.pop()
    edges.append(duration)
    segments = []
    for start, end in pairwise(edges):
        lo = bisect.bisect_left(midpoints, start)
        # The last segment is closed, so a word ending exactly at the end still counts.
        last = end >= duration
        hi = bisect.bisect_right(midpoints, end) if last else bisect.bisect_left(midpoints, end)
        segments.append(PaceSegment(start, end, hi - lo))
    return segments


def words_per_minute(words: int, seconds: float) -> float:
    """`words` over `seconds`, in words per minute; 0 for no time."""
    return words * 60.0 / seconds if seconds > 0 else 0.0


def speaking_seconds(
    start: float,
    end: float,
    speech: tuple[float, float],
    pauses: Sequence[tuple[float, float]],
) -> float:
    """Time in [start, end] that lies inside `speech` (first word to last) and outside `pauses`.

    The speaking rate of a segment divides its words by this, so the rate a chart plots is the
    one the pace band judges (long pauses and the silence before and after removed).
    """
    lo, hi = max(start, speech[0]), min(end, speech[1])
    if hi <= lo:
        return 0.0
    silent = sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in pauses)
    return max(0.0, hi - lo - silent)
