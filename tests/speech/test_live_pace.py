"""Live pace on speech time: table tests and properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from coach.speech.accumulator import SpeechAccumulator
from coach.speech.live_pace import MIN_SPEECH_SECONDS, live_pace, speech_seconds
from coach.speech.words import Word


def steady(n: int, rate_wpm: float, start: float = 0.0, word: str = "word") -> list[Word]:
    """`n` words back to back at `rate_wpm` (each word fills its share of the minute)."""
    each = 60.0 / rate_wpm
    return [Word(word, start + i * each, start + (i + 1) * each) for i in range(n)]


@pytest.mark.parametrize(
    ("words", "speech"),
    [
        ([], 0.0),
        ([Word("a", 1.0, 1.5)], 0.5),
        # a gap under the pause threshold is speech; one at or over it is not
        ([Word("a", 0.0, 1.0), Word("b", 1.5, 2.0)], 2.0),
        ([Word("a", 0.0, 1.0), Word("b", 2.2, 3.0)], 1.8),
    ],
)
def test_speech_seconds_leave_pauses_out(words: list[Word], speech: float) -> None:
    assert speech_seconds(words, gap=1.2) == pytest.approx(speech)


def test_nothing_is_shown_before_enough_speech() -> None:
    short = steady(5, 150)  # 2 s of speech
    assert live_pace(short, gap=1.2, window=30).overall is None
    assert live_pace(steady(10, 150), gap=1.2, window=30).overall == pytest.approx(150)


def test_recent_rate_is_the_last_window_of_speech_not_of_the_clock() -> None:
    # a minute at 120 wpm, a 20 s thinking pause, then 30 s at 180 wpm
    words = steady(120, 120) + steady(90, 180, start=80.0)
    pace = live_pace(words, gap=1.2, window=30)
    assert pace.recent == pytest.approx(180, abs=1)
    assert pace.overall == pytest.approx(210 * 60 / 90, abs=1)


def test_live_pace_holds_still_while_the_recognizer_is_busy() -> None:
    acc = SpeechAccumulator()
    acc.update(steady(40, 150), is_final=True)
    before = acc.live_metrics()
    # 12 s more audio heard, its words not decoded yet: the pace does not fall
    acc.advance(28.0)
    after = acc.live_metrics()
    assert after.current_wpm == before.current_wpm == pytest.approx(150)
    assert after.speaking_wpm == before.speaking_wpm


def test_the_filler_count_for_the_nudge_forgets_after_a_window() -> None:
    acc = SpeechAccumulator()
    said = "we um moved uh the um service".split()
    acc.update([Word(w, 1.0 + 0.4 * i, 1.3 + 0.4 * i) for i, w in enumerate(said)], is_final=True)
    assert acc.live_metrics().recent_fillers == 3
    # half a minute on, fluent: the fillers are still counted in total, no longer recently
    acc.update(steady(80, 160, start=5.0), is_final=True)
    m = acc.live_metrics()
    assert (m.fillers, m.recent_fillers) == (3, 0)


@given(
    rate=st.floats(80, 260),
    n=st.integers(12, 200),
    pauses=st.lists(st.floats(1.25, 30), max_size=5),
)
def test_pauses_never_change_the_speaking_rate(rate: float, n: int, pauses: list[float]) -> None:
    assume(n * 60 / rate >= MIN_SPEECH_SECONDS + 0.5)
    words = steady(n, rate)
    # the same words with long pauses put between some of them
    shifted, extra = [], 0.0
    cuts = {(i + 1) * n // (len(pauses) + 1): p for i, p in enumerate(pauses)}
    for i, w in enumerate(words):
        extra += cuts.get(i, 0.0)
        shifted.append(Word(w.word, w.start + extra, w.end + extra))
    a = live_pace(words, gap=1.2, window=30)
    b = live_pace(shifted, gap=1.2, window=30)
    assert a.overall == pytest.approx(rate, abs=0.2)
    assert b.overall == pytest.approx(a.overall, abs=0.2)
    assert b.recent == pytest.approx(rate, rel=0.05, abs=2)


@given(st.lists(st.tuples(st.floats(0, 600), st.floats(0.05, 2)), max_size=60))
def test_speech_time_is_bounded_by_the_span(spans: list[tuple[float, float]]) -> None:
    words = sorted((Word("w", s, s + d) for s, d in spans), key=lambda w: (w.start, w.end))
    total = speech_seconds(words, gap=1.2)
    assert total >= 0
    if words:
        assert total <= max(w.end for w in words) - words[0].start + 1e-9
    pace = live_pace(words, gap=1.2, window=30)
    assert (pace.overall is None) == (pace.speech_seconds < MIN_SPEECH_SECONDS)
