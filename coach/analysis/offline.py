"""A coach that needs no network: scores from the metrics, words built from the numbers."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from coach.analysis.assessment import Assessment, assess, wire_fields
from coach.analysis.feedback import AiAnalysis, Improvement
from coach.analysis.findings import SEEK_LEAD_IN, Verdict
from coach.analysis.scoring import Scores, Thresholds
from coach.speech.summary import Filler, SessionSummary, WordOut


def clock(seconds: float) -> str:
    """0:07, 1:32 — how a moment is named in feedback."""
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _quote(before: str, word: str) -> str:
    return f"…{before} {word}" if before else word


def snap(t: float, starts: Sequence[float]) -> float:
    """The start of the word nearest to `t`, so every cited moment is a real word."""
    if not starts:
        return 0.0
    i = bisect.bisect_left(starts, t)
    near = [starts[j] for j in (i - 1, i) if 0 <= j < len(starts)]
    return min(near, key=lambda s: abs(s - t))


_Ranked = tuple[float, Improvement]


@dataclass(frozen=True, slots=True)
class _Cluster:
    start: float
    end: float
    fillers: tuple[Filler, ...]


def densest_fillers(fillers: Sequence[Filler], window: float) -> _Cluster | None:
    """The `window`-second stretch with the most fillers (at least two), earliest on ties."""
    best: _Cluster | None = None
    times = [f.timestamp for f in fillers]
    for i, t in enumerate(times):
        j = bisect.bisect_right(times, t + window)
        if j - i >= 2 and (best is None or j - i > len(best.fillers)):
            best = _Cluster(t, times[j - 1], tuple(fillers[i:j]))
    return best


def fluent_stretch(
    words: Sequence[WordOut], fillers: Sequence[Filler], pause_starts: Sequence[float]
) -> tuple[int, int] | None:
    """Indices [i, j) of the longest run of words with no filler and no long pause inside."""
    starts = [w.start for w in words]
    ends = [w.end for w in words]
    in_filler: set[int] = set()
    for f in fillers:
        k = bisect.bisect_left(starts, f.timestamp)
        in_filler.update(range(k, k + len(f.word.split())))
    cut_after = {bisect.bisect_right(ends, p + 1e-6) - 1 for p in pause_starts}
    best: tuple[int, int] | None = None
    i = 0
    for j in range(len(words)):
        if j in in_filler:
            i = j + 1
            continue
        if best is None or (j + 1 - i) > (best[1] - best[0]):
            best = (i, j + 1)
        if j in cut_after:
            i = j + 1
    return best


class OfflineCoach:
    """Deterministic rule-based coaching; fast enough to run inline (well under 50 ms)."""

    name = "offline"

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        """Coach one session."""
        return self.analyze_sync(summary, questions=questions)

    async def aclose(self) -> None:
        """Nothing to release."""

    def analyze_sync(self, summary: SessionSummary, *, questions: Sequence[str] = ()) -> AiAnalysis:
        """Coach one session without an event loop (the CLI's path)."""
        a = assess(summary, questions, thresholds=self.thresholds)
        if summary.total_words == 0:
            return AiAnalysis(
                overall_score=0,
                confidence_score=0,
                summary="No speech was found in this recording, so there is nothing to coach yet.",
                pace_analysis="No words were heard, so pace could not be measured.",
                filler_analysis="No words were heard, so fillers could not be counted.",
                improvements=[],
                highlights=[],
                analyzer=self.name,
            )
        starts = [w.start for w in summary.words]
        return AiAnalysis(
            summary=self._summary(summary, a),
            pace_analysis=self._pace(summary, a),
            filler_analysis=self._fillers(summary, a),
            improvements=self._improvements(summary, a.scores, starts, a),
            highlights=self._highlights(summary),
            analyzer=self.name,
            seek_lead_in=SEEK_LEAD_IN,
            **wire_fields(a),  # type: ignore[arg-type]
        )

    def _summary(self, summary: SessionSummary, a: Assessment) -> str:
        s = a.scores
        parts = [
            f"You spoke {_plural(summary.total_words, 'word')} in {clock(summary.duration)};"
            f" speaking rate {s.pace_wpm:.0f} wpm (long pauses removed),"
            f" overall rate {summary.average_pace:.0f} wpm (silences included)."
        ]
        if s.substance < 40:
            parts.append(
                "The words do not hang together as an answer: little of it reads as connected "
                "sentences, so the delivery scores count for little until the content does."
            )
        # Strengths and weaknesses are the findings' own sentences, drawn from their verdicts.
        if a.strengths and s.substance >= 40:
            parts.append("Strong points: " + "; ".join(a.strengths) + ".")
        if a.weaknesses:
            parts.append("Work on: " + "; ".join(a.weaknesses) + ".")
        elif s.substance >= 40:
            parts.append("Nothing measured stands out as a problem.")
        return " ".join(parts)

    def _pace(self, summary: SessionSummary, a: Assessment) -> str:
        lo, hi = self.thresholds.pace_band
        rate = next(f for f in a.delivery if f.measure == "speaking_rate")
        wpm = rate.value
        side = "inside" if lo <= wpm <= hi else "slower than" if wpm < lo else "faster than"
        text = (
            f"Your speaking rate (long pauses removed) was {wpm:.0f} wpm, {side} the"
            f" {lo:.0f}–{hi:.0f} wpm range listeners follow most easily."
        )
        timeline = [
            p
            for p in summary.pace_timeline
            if p.speaking_wpm is not None and p.segment_end - p.segment_start >= 10
        ]
        if len(timeline) >= 2:
            fast = max(timeline, key=lambda p: p.speaking_wpm or 0.0)
            slow = min(timeline, key=lambda p: p.speaking_wpm or 0.0)
            if (fast.speaking_wpm or 0.0) - (slow.speaking_wpm or 0.0) >= 25:
                # Told in time order, so the sentence says which way the rate went.
                first, later = sorted((fast, slow), key=lambda p: p.segment_start)
                verb = "rose" if later is fast else "fell"
                text += (
                    f" It {verb} from {first.speaking_wpm:.0f} wpm"
                    f" ({clock(first.segment_start)}–{clock(first.segment_end)}) to"
                    f" {later.speaking_wpm:.0f} wpm"
                    f" ({clock(later.segment_start)}–{clock(later.segment_end)})."
                )
            else:
                text += " It stayed steady across the answer."
        if summary.speaking_pace and summary.speaking_pace - summary.average_pace > 20:
            text += (
                f" Your overall rate (silences included) was {summary.average_pace:.0f} wpm:"
                " pauses took a noticeable share of the time."
            )
        return text

    def _fillers(self, summary: SessionSummary, a: Assessment) -> str:
        n = len(summary.fillers)
        if n == 0:
            return "No filler words: your sentences started and ended cleanly."
        f = next(f for f in a.delivery if f.measure == "fillers_per_minute")
        counts = Counter(x.word for x in summary.fillers)
        listed = ", ".join(f"“{w}” {_plural(c, 'time')}" for w, c in counts.most_common())
        text = f"You used {_plural(n, 'filler')} ({listed}), {f.value:.1f} per minute of speaking."
        if f.verdict is Verdict.STRENGTH:
            text += " That is few enough that listeners barely notice."
        elif f.verdict is Verdict.FINE:
            text += " That is within what listeners tolerate; under three a minute is better."
        elif f.value < 12:
            text += " That is enough for a listener to notice; aim for under five a minute."
        else:
            text += " At this rate they distract from what you say; aim for under five a minute."
        if summary.duration >= 120:
            first = sum(1 for x in summary.fillers if x.timestamp < 60)
            if first >= max(2, n // 2):
                text += f" {first} of them came in the first minute, while you were settling in."
        return text

    def _improvements(
        self, summary: SessionSummary, s: Scores, starts: list[float], a: Assessment
    ) -> list[Improvement]:
        """At most four, the most pressing first, each at a real word or a pause's start."""
        found = [
            found
            for found in (
                self._filler_cluster(summary, s, starts),
                *self._pace_extremes(summary, starts),
                self._longest_pause(summary),
                self._hedging(summary, s, starts),
                *self._content(a, starts),
            )
            if found is not None
        ]
        found.sort(key=lambda pair: (-pair[0], pair[1].timestamp))
        return [imp for _, imp in found[:4]]

    def _filler_cluster(
        self, summary: SessionSummary, s: Scores, starts: list[float]
    ) -> _Ranked | None:
        cluster = densest_fillers(summary.fillers, window=20.0)
        if cluster is None:
            return None
        said = ", ".join(f"“{f.word}”" for f in cluster.fillers)
        first = cluster.fillers[0]
        return (
            100 - s.fillers + len(cluster.fillers),
            Improvement(
                title="Fillers cluster here",
                timestamp=snap(cluster.start, starts),
                description=(
                    f"Between {clock(cluster.start)} and {clock(cluster.end)} you said {said},"
                    f" starting at “{_quote(first.context_before, first.word)}”. Pause"
                    " silently instead: a short silence sounds more composed than a filler."
                ),
            ),
        )

    def _pace_extremes(self, summary: SessionSummary, starts: list[float]) -> list[_Ranked]:
        # Judged on each segment's speaking rate: the measure the pace band is about.
        lo, hi = self.thresholds.pace_band
        timeline = [
            p
            for p in summary.pace_timeline
            if p.speaking_wpm is not None and p.segment_end - p.segment_start >= 10
        ]
        if not timeline:
            return []
        found: list[_Ranked] = []
        fast = max(timeline, key=lambda p: p.speaking_wpm or 0.0)
        slow = min(timeline, key=lambda p: p.speaking_wpm or 0.0)
        span = "From {} to {}"
        fast_wpm, slow_wpm = fast.speaking_wpm or 0.0, slow.speaking_wpm or 0.0
        if fast_wpm > hi:
            where = span.format(clock(fast.segment_start), clock(fast.segment_end))
            found.append(
                (
                    fast_wpm - hi,
                    Improvement(
                        title="Slow down here",
                        timestamp=snap(fast.segment_start, starts),
                        description=(
                            f"{where} your speaking rate was {fast_wpm:.0f} wpm, above the"
                            f" {hi:.0f} wpm where listeners start to lose detail. Land each"
                            " key number or result, then breathe."
                        ),
                    ),
                )
            )
        if slow_wpm < lo and slow is not fast:
            where = span.format(clock(slow.segment_start), clock(slow.segment_end))
            found.append(
                (
                    lo - slow_wpm,
                    Improvement(
                        title="Pick up the pace here",
                        timestamp=snap(slow.segment_start, starts),
                        description=(
                            f"{where} your speaking rate fell to {slow_wpm:.0f} wpm. Know your"
                            " next point before you start the sentence, so the words come in"
                            " one stretch."
                        ),
                    ),
                )
            )
        return found

    def _longest_pause(self, summary: SessionSummary) -> _Ranked | None:
        if not summary.pauses:
            return None
        longest = max(summary.pauses, key=lambda p: p.duration)
        return (
            longest.duration * 10,
            Improvement(
                title="Long silence",
                # One clock: a pause's moment is where its silence starts, everywhere.
                timestamp=longest.timestamp,
                description=(
                    f"At {clock(longest.timestamp)} you were silent for"
                    f" {longest.duration:.1f} s ({_plural(len(summary.pauses), 'long pause')}"
                    " in all). A short pause to think is fine; past a second or two, bridge"
                    " it: “Let me think of the best example.”"
                ),
            ),
        )

    def _content(self, a: Assessment, starts: list[float]) -> list[_Ranked]:
        out: list[_Ranked] = []
        titles = {
            "star_parts": "Complete the story",
            "result_outcome": "Give the result a number",
            "relevance": "Answer the question asked",
            "repeated_sentences": "You repeated yourself",
            "ownership": "Say what you did",
        }
        for c, findings in a.content:
            for f in findings:
                if f.verdict is not Verdict.WEAKNESS or f.measure not in titles:
                    continue
                moment = f.moment if f.moment is not None else (starts[0] if starts else 0.0)
                out.append(
                    (
                        40.0,
                        Improvement(
                            title=titles[f.measure],
                            timestamp=snap(moment, starts),
                            description=f"On “{c.question}”: {f.sentence}.",
                        ),
                    )
                )
        return out

    def _hedging(self, summary: SessionSummary, s: Scores, starts: list[float]) -> _Ranked | None:
        if len(summary.hedges) / s.minutes <= self.thresholds.hedges_ok_per_minute:
            return None
        h = summary.hedges[0]
        return (
            100 - s.hedges,
            Improvement(
                title="Commit to your statements",
                timestamp=snap(h.timestamp, starts),
                description=(
                    f"You hedged {_plural(len(summary.hedges), 'time')}, first with “{h.word}”"
                    f" in “{h.context_before} {h.word} {h.context_after}”. Say what you did"
                    " and what happened, plainly."
                ),
            ),
        )

    def _highlights(self, summary: SessionSummary) -> list[str]:
        stretch = fluent_stretch(
            summary.words, summary.fillers, [p.timestamp for p in summary.pauses]
        )
        if stretch is None or stretch[1] - stretch[0] < 8:
            return []
        i, j = stretch
        words = summary.words[i:j]
        quote = " ".join(w.punctuated_word or w.word for w in words[:25])
        more = "…" if j - i > 25 else ""
        return [
            f"Your most fluent stretch, {clock(words[0].start)}–{clock(words[-1].end)}: "
            f"{j - i} words with no filler or long pause — “{quote}{more}”"
        ]
