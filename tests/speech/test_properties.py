"""Properties that hold for any word sequence, and for any way of streaming it."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from coach.speech.accumulator import SpeechAccumulator
from coach.speech.live_pace import live_pace
from coach.speech.metrics import summarize
from coach.speech.words import Silence, Word

VOCAB = [
    "i",
    "we",
    "built",
    "the",
    "a",
    "service",
    "um",
    "uh",
    "umm",
    "like",
    "so",
    "that",
    "you",
    "know",
    "mean",
    "kind",
    "of",
    "actually",
    "basically",
    "just",
    "maybe",
    "think",
    "it",
    "was",
    "huge",
    "hmm",
    "uh-huh",
    "the",
    "data",
]
PUNCT = ["", "", "", ",", "."]


@st.composite
def word_lists(draw: st.DrawFn) -> list[Word]:
    n = draw(st.integers(min_value=0, max_value=80))
    t = draw(st.floats(min_value=0, max_value=5))
    out = []
    for _ in range(n):
        token = draw(st.sampled_from(VOCAB))
        length = draw(st.floats(min_value=0.05, max_value=0.8))
        gap = draw(st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=4.0)))
        t += gap
        out.append(Word(token, t, t + length, 0.9, token + draw(st.sampled_from(PUNCT))))
        t += length
    return out


def stream(words: list[Word], sizes: list[int], repeat: bool) -> SpeechAccumulator:
    acc = SpeechAccumulator()
    i = k = 0
    while i < len(words):
        size = sizes[k % len(sizes)] if sizes else len(words)
        chunk = words[i : i + size]
        acc.update(chunk[:1], is_final=False)
        acc.update(chunk, is_final=True)
        if repeat:
            acc.update(chunk, is_final=True)
            acc.summary()
        i += size
        k += 1
    return acc


@settings(max_examples=150, deadline=None)
@given(word_lists())
def test_totals_add_up(words: list[Word]) -> None:
    s = summarize(words)
    assert s.total_words == len(words)
    counted = sum(p.wpm * (p.segment_end - p.segment_start) / 60 for p in s.pace_timeline)
    assert math.isclose(counted, len(words), abs_tol=0.05 * max(1, len(s.pace_timeline)))
    assert sum(len(seg.words) for seg in s.transcript_segments) == len(words)
    assert s.speaking_time is not None and s.speaking_time <= s.duration + 1e-6
    assert all(p.duration >= 1.2 for p in s.pauses)  # over the threshold, then rounded


@settings(max_examples=150, deadline=None)
@given(word_lists())
def test_no_filler_outside_the_words(words: list[Word]) -> None:
    s = summarize(words)
    starts = {round(w.start, 3) for w in words}
    tokens = " ".join(w.word for w in words)
    for f in s.fillers:
        assert f.timestamp in starts
        assert f.word.replace("hm", "hmm") in tokens or f.word in tokens
    assert len(s.fillers) <= len(words)


@settings(max_examples=150, deadline=None)
@given(word_lists(), st.floats(min_value=0, max_value=100))
def test_pace_timeline_covers_the_duration(words: list[Word], extra: float) -> None:
    end = (words[-1].end if words else 0.0) + extra
    s = summarize(words, duration=end)
    if s.duration == 0:
        assert s.pace_timeline == []
        return
    assert s.pace_timeline[0].segment_start == 0
    assert math.isclose(s.pace_timeline[-1].segment_end, s.duration, abs_tol=1e-3)
    for a, b in zip(s.pace_timeline, s.pace_timeline[1:], strict=False):
        assert math.isclose(a.segment_end, b.segment_start, abs_tol=1e-3)


@settings(max_examples=150, deadline=None)
@given(word_lists(), st.lists(st.integers(min_value=1, max_value=12), max_size=6), st.booleans())
def test_streaming_in_any_chunks_twice_gives_the_same_summary(
    words: list[Word], sizes: list[int], repeat: bool
) -> None:
    assert stream(words, sizes, repeat).summary() == summarize(words)


@settings(max_examples=150, deadline=None)
@given(
    word_lists(),
    st.lists(st.integers(min_value=1, max_value=12), max_size=6),
    st.lists(st.tuples(st.integers(0, 80), st.floats(-1.5, 1.5)), max_size=4),
    st.integers(0, 3),
)
def test_live_pace_kept_as_words_come_is_the_pace_of_every_word_heard(
    words: list[Word], sizes: list[int], corrections: list[tuple[int, float]], interims: int
) -> None:
    acc = SpeechAccumulator()
    gap, window = acc.config.pause_threshold, acc.config.segment_seconds
    i = k = 0
    while i < len(words):
        size = sizes[k % len(sizes)] if sizes else len(words)
        acc.update(words[i : i + size], is_final=True)
        i += size
        k += 1
        # a final that moves one heard word (a recognizer's correction) replaces it
        for at, shift in corrections:
            if at < len(acc.words):
                w = acc.words[at]
                start = max(0.0, w.start + shift)
                moved = Word(w.word, start, start + w.end - w.start, w.confidence)
                acc.update([moved], is_final=True)
        tail = words[i : i + interims]
        acc.update(tail, is_final=False)
        m = acc.live_metrics()
        expected = live_pace([*acc.words, *tail], gap=gap, window=window)
        assert m.speaking_wpm == expected.overall
        assert m.current_wpm == (expected.recent if expected.recent is not None else 0.0)


@settings(max_examples=100, deadline=None)
@given(word_lists())
def test_vad_silences_decide_pauses_inside_the_speech(words: list[Word]) -> None:
    silences = [Silence(a.end, b.start) for a, b in itertools.pairwise(words)]
    s = summarize(words, silences=silences)
    if words:
        for p in s.pauses:
            assert words[0].start <= p.timestamp <= words[-1].end


def test_interim_results_are_replaced_not_counted() -> None:
    acc = SpeechAccumulator()
    acc.update([Word("um", 0, 0.3)], is_final=False)
    acc.update([Word("um", 0, 0.3), Word("so", 0.4, 0.6)], is_final=False)
    assert acc.summary().total_words == 0
    assert acc.live_metrics().words == 2
    acc.update([Word("so", 0.4, 0.6)], is_final=True)
    assert acc.summary().total_words == 1


def test_a_corrected_final_replaces_the_words_it_covers() -> None:
    acc = SpeechAccumulator()
    acc.update([Word("i", 0, 0.2), Word("mad", 0.3, 0.6)], is_final=True)
    acc.update([Word("i", 0, 0.2), Word("mean", 0.3, 0.6)], is_final=True)
    assert [w.word for w in acc.summary().words] == ["i", "mean"]


def test_out_of_order_finals_are_sorted() -> None:
    acc = SpeechAccumulator()
    acc.update([Word("world", 1.0, 1.4)], is_final=True)
    acc.update([Word("hello", 0.0, 0.4)], is_final=True)
    assert acc.summary().transcript == "hello world"


def test_a_late_word_joins_the_run_before_it() -> None:
    acc = SpeechAccumulator()
    said = [Word("we", 0, 0.5), Word("built", 0.6, 1.0), Word("it", 3.0, 3.5), Word("so", 3.6, 4.0)]
    acc.update(said, is_final=True)
    acc.live_metrics()
    # a word heard late, inside the pause: it starts where the second run began
    late = Word("fast", 1.5, 1.9)
    acc.update([late], is_final=True)
    gap, window = acc.config.pause_threshold, acc.config.segment_seconds
    expected = live_pace([*said[:2], late, *said[2:]], gap=gap, window=window)
    assert acc.live_metrics().speaking_wpm == expected.overall
