"""The running state of a live session: results in as they come, a summary at any moment."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from coach.speech.fillers import Match, find_fillers, find_hedges, find_repetitions
from coach.speech.lexicon import Lexicon, load_lexicon
from coach.speech.live_pace import Run, extend_runs, pace_of_runs
from coach.speech.pace import pace_timeline, speaking_seconds, words_per_minute
from coach.speech.pauses import long_pauses
from coach.speech.summary import (
    Filler,
    Hedge,
    PacePoint,
    Pause,
    QuestionSpan,
    Repetition,
    SessionSummary,
    TranscriptSegment,
    WordOut,
)
from coach.speech.words import QuestionTiming, Silence, Word

Finder = Callable[[Sequence[Word], int], list[Match]]

# The filler rules look at most two words around a match, and a match is at most three words.
_RULE_REACH = 4


@dataclass(frozen=True, slots=True)
class SpeechConfig:
    """The tunable parts of the metrics."""

    pause_threshold: float = 1.2
    segment_seconds: float = 30.0
    context_words: int = 5
    lexicon: Lexicon = field(default_factory=load_lexicon)


@dataclass(frozen=True, slots=True)
class LiveMetrics:
    """What a client needs every few seconds to nudge the speaker."""

    words: int
    fillers: int
    current_wpm: float
    average_wpm: float
    elapsed: float
    # on speech time (pauses left out), None until there is enough speech to measure
    speaking_wpm: float | None = None
    recent_fillers: int = 0


def _r(x: float, digits: int = 3) -> float:
    return round(x, digits)


def word_out(w: Word) -> WordOut:
    """A word as sent on the wire."""
    return WordOut.model_construct(
        word=w.word,
        start=_r(w.start),
        end=_r(w.end),
        confidence=_r(w.confidence),
        punctuated_word=w.punctuated_word,
    )


class _Matches:
    """Matches of one finder, rescanned only from where the words changed."""

    def __init__(self, finder: Finder) -> None:
        self.finder = finder
        self.found: list[Match] = []

    def refresh(self, words: Sequence[Word], dirty: int, reach: int) -> int:
        """Rescan from shortly before `dirty`; return the first index whose matches are new."""
        k = max(0, dirty - reach)
        # Never restart inside a match: back up to its first word.
        for m in reversed(self.found):
            if m.index + m.length <= k:
                break
            k = min(k, m.index)
        keep = bisect.bisect_left([m.index for m in self.found], k)
        self.found = self.found[:keep] + self.finder(words, k)
        return keep


class SpeechAccumulator:
    """Fed by a streaming recognizer; interim results replace each other, finals commit once."""

    def __init__(self, config: SpeechConfig | None = None) -> None:
        self.config = config or SpeechConfig()
        lex, gap = self.config.lexicon, self.config.pause_threshold
        self._words: list[Word] = []
        self._mids: list[float] = []
        self._interim: list[Word] = []
        self._silences: list[Silence] | None = None
        self._questions: list[QuestionTiming] = []
        self._clock = 0.0
        self._dirty = 0
        # the committed words' speech runs, kept as they come: a live session asks for its
        # pace every few seconds, and rebuilding them cost O(words) each time (2 ms an hour in)
        self._runs: list[Run] = []
        self._run_first: list[int] = []  # index of each run's first word
        self._runs_dirty = 0
        self._fillers = _Matches(lambda ws, k: find_fillers(ws, lex, gap, k))
        self._hedges = _Matches(lambda ws, k: find_hedges(ws, lex, k))
        self._repeats = _Matches(lambda ws, k: find_repetitions(ws, lex, k))
        self._filler_out: list[Filler] = []
        self._hedge_out: list[Hedge] = []

    @property
    def words(self) -> tuple[Word, ...]:
        """The committed words, in time order."""
        return tuple(self._words)

    @property
    def questions(self) -> tuple[QuestionTiming, ...]:
        """The questions asked so far, in time order."""
        return tuple(self._questions)

    def update(self, words: Sequence[Word], *, is_final: bool) -> None:
        """Take one recognizer result."""
        if not is_final:
            self._interim = sorted(words, key=lambda w: w.start)
            return
        if not words:
            return
        new = sorted(words, key=lambda w: (w.start, w.end))
        lo, hi = new[0].midpoint, new[-1].midpoint
        # A final for audio that already has final words is a resend or a correction of it:
        # it replaces them, so no word is ever counted twice.
        i = bisect.bisect_left(self._mids, lo)
        j = bisect.bisect_right(self._mids, hi)
        self._words[i:j] = new
        self._mids[i:j] = [w.midpoint for w in new]
        self._dirty = min(self._dirty, i)
        self._runs_dirty = min(self._runs_dirty, i)
        self._interim = [w for w in self._interim if w.midpoint > hi]
        self._clock = max(self._clock, new[-1].end)

    def use_vad(self) -> None:
        """Pauses come from voice-activity silences from now on, even before the first one."""
        if self._silences is None:
            self._silences = []

    def add_silence(self, silence: Silence) -> None:
        """A silence heard by a voice-activity detector; these then decide the pauses."""
        self.use_vad()
        assert self._silences is not None
        bisect.insort(self._silences, silence, key=lambda s: s.start)
        self._clock = max(self._clock, silence.end)

    def add_question(self, question: QuestionTiming) -> None:
        """The interviewer asked `question`: the wait for its answer is latency, not a pause."""
        bisect.insort(self._questions, question, key=lambda q: q.asked_at)
        self._clock = max(self._clock, question.asked_at)

    def advance(self, t: float) -> None:
        """The audio clock reached `t` seconds, words or not."""
        self._clock = max(self._clock, t)

    @property
    def duration(self) -> float:
        """Seconds of session so far."""
        return max([self._clock] + [w.end for w in self._words[-1:]])

    def live_metrics(self) -> LiveMetrics:
        """Counts for live nudges, interim words included; cheap."""
        self._refresh()
        now = max(self.duration, *(w.end for w in self._interim[-1:]), 0.0)
        window = self.config.segment_seconds
        runs = self._speech_runs()
        # interims only ever cover audio after the last final
        tail = extend_runs(runs[-1:], self._interim, self.config.pause_threshold)
        pace = pace_of_runs(runs[:-1] + tail, window)
        total = len(self._words) + len(self._interim)
        # fillers said in the last window of audio: the nudge about them clears on its own
        # once the speaker has gone that long without one
        recent_fillers = len(self._filler_out) - bisect.bisect_left(
            self._filler_out, now - window, key=lambda f: f.timestamp
        )
        return LiveMetrics(
            words=total,
            fillers=len(self._fillers.found),
            current_wpm=pace.recent if pace.recent is not None else 0.0,
            average_wpm=_r(words_per_minute(total, now), 1),
            elapsed=_r(now),
            speaking_wpm=pace.overall,
            recent_fillers=recent_fillers,
        )

    def _speech_runs(self) -> list[Run]:
        """The committed words' runs, rebuilt only from the run a correction reached."""
        if self._runs_dirty < len(self._words):
            # from the last run that began before the first changed word: a changed word may
            # join it, and the runs before it cannot change
            k = max(0, bisect.bisect_left(self._run_first, self._runs_dirty) - 1)
            first = self._run_first[k] if self._run_first else 0
            del self._runs[k:], self._run_first[k:]
            gap = self.config.pause_threshold
            for j in range(first, len(self._words)):
                before = len(self._runs)
                extend_runs(self._runs, (self._words[j],), gap)
                if len(self._runs) > before:
                    self._run_first.append(j)
            self._runs_dirty = len(self._words)
        return self._runs

    def fillers(self) -> tuple[Filler, ...]:
        """The fillers in the committed words so far, in time order."""
        self._refresh()
        return tuple(self._filler_out)

    def _refresh(self) -> None:
        if self._dirty >= len(self._words) and self._dirty > 0:
            return
        ctx = self.config.context_words
        reach = ctx + _RULE_REACH
        kept = self._fillers.refresh(self._words, self._dirty, reach)
        self._filler_out = self._filler_out[:kept] + [
            Filler.model_construct(
                word=m.label,
                timestamp=_r(self._words[m.index].start),
                source=self._words[m.index].source,
                **self._context(m),
            )
            for m in self._fillers.found[kept:]
        ]
        kept = self._hedges.refresh(self._words, self._dirty, reach)
        self._hedge_out = self._hedge_out[:kept] + [
            Hedge.model_construct(
                word=m.label, timestamp=_r(self._words[m.index].start), **self._context(m)
            )
            for m in self._hedges.found[kept:]
        ]
        self._repeats.refresh(self._words, self._dirty, _RULE_REACH)
        self._dirty = len(self._words)

    def _context(self, m: Match) -> dict[str, Any]:
        n, ws = self.config.context_words, self._words
        return {
            "context_before": " ".join(w.text for w in ws[max(0, m.index - n) : m.index]),
            "context_after": " ".join(
                w.text for w in ws[m.index + m.length : m.index + m.length + n]
            ),
        }

    def _answers(self) -> list[QuestionSpan]:
        spans = []
        starts = [w.start for w in self._words] if self._questions else []
        for k, q in enumerate(self._questions):
            until = (
                self._questions[k + 1].asked_at if k + 1 < len(self._questions) else float("inf")
            )
            i = bisect.bisect_left(starts, q.asked_at)
            j = bisect.bisect_left(starts, until)
            first = self._words[i] if i < j else None
            spans.append(
                QuestionSpan.model_construct(
                    text=q.text,
                    asked_at=_r(q.asked_at),
                    answer_start=_r(first.start) if first else None,
                    answer_end=_r(self._words[j - 1].end) if first else None,
                    response_latency=_r(first.start - q.asked_at) if first else None,
                )
            )
        return spans

    def _segments(
        self, pauses: Sequence[Silence], outs: Sequence[WordOut]
    ) -> list[TranscriptSegment]:
        bounds = [0]
        for p in pauses:
            k = bisect.bisect_left(self._mids, p.start + p.duration / 2)
            if bounds[-1] < k < len(self._words):
                bounds.append(k)
        bounds.append(len(self._words))
        return [
            TranscriptSegment.model_construct(
                text=" ".join(w.text for w in self._words[a:b]),
                start_time=_r(self._words[a].start),
                end_time=_r(self._words[b - 1].end),
                words=list(outs[a:b]),
            )
            for a, b in pairwise(bounds)
            if b > a
        ]

    def summary(self) -> SessionSummary:
        """The SessionSummary of the final words so far."""
        self._refresh()
        cfg, words = self.config, self._words
        # built here, not kept per word as heard: a long session's words would be three
        # objects each for the garbage collector to walk all session long
        outs = [word_out(w) for w in words]
        # the timeline is cut from the duration as reported, so its last edge equals it
        end = _r(self.duration)
        answers = self._answers()
        waits = [Silence(q.asked_at, q.answer_start) for q in answers if q.answer_start is not None]
        pauses = long_pauses(words, cfg.pause_threshold, self._silences, waits)
        speaking = 0.0
        if words:
            speaking = max(0.0, words[-1].end - words[0].start - sum(p.duration for p in pauses))
        timeline = pace_timeline(self._mids, end, cfg.segment_seconds)
        speech = (words[0].start, words[-1].end) if words else (0.0, 0.0)
        gaps = [(p.start, p.start + p.duration) for p in pauses]
        talk = [speaking_seconds(s.start, s.end, speech, gaps) for s in timeline]
        return SessionSummary.model_construct(
            transcript=" ".join(w.text for w in words),
            duration=_r(end),
            total_words=len(words),
            average_pace=_r(words_per_minute(len(words), end), 1),
            pace_timeline=[
                PacePoint.model_construct(
                    timestamp=_r(s.start),
                    wpm=_r(s.wpm, 1),
                    segment_start=_r(s.start),
                    segment_end=_r(s.end),
                    # under 3 s of speech, a rate says nothing
                    speaking_wpm=_r(words_per_minute(s.words, t), 1) if t >= 3.0 else None,
                )
                for s, t in zip(timeline, talk, strict=True)
            ],
            fillers=list(self._filler_out),
            pauses=[
                Pause.model_construct(duration=_r(p.duration), timestamp=_r(p.start))
                for p in pauses
            ],
            words=outs,
            transcript_segments=self._segments(pauses, outs),
            speaking_pace=_r(words_per_minute(len(words), speaking), 1),
            speaking_time=_r(speaking),
            speaking_ratio=_r(min(1.0, speaking / end)) if end > 0 else 0.0,
            hedges=list(self._hedge_out),
            repetitions=[
                Repetition.model_construct(
                    word=m.label, timestamp=_r(words[m.index].start), count=m.length
                )
                for m in self._repeats.found
            ],
            questions=answers,
        )
