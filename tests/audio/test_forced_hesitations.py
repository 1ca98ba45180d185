"""Whisper's own word on where a hesitation fits: which boundaries are asked, what is added."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.audio.filled_pauses import (
    AUDIO,
    FORCED_GAIN,
    FilledPause,
    Slot,
    forcing_candidates,
    fuse_forced,
)
from coach.speech.lexicon import load_lexicon
from coach.speech.words import Word

HESITATIONS = load_lexicon().hesitations


def w(word: str, start: float, end: float, p: float = 0.95, source: str = "recognizer") -> Word:
    return Word(word, start, end, p, word, source=source)


def vowel(start: float, end: float, central: bool = True) -> FilledPause:
    return FilledPause(start, end, "uh", 600.0, 1300.0, start, end, central=central)


# "after that I talked": the speaker said "I uh talked", Whisper wrote no "uh"
WORDS = [w("after", 0.0, 0.3), w("that", 0.3, 0.6), w("i", 0.6, 0.9), w("talked", 0.9, 1.3)]
# the "uh" held at the end of Whisper's "I"
UH = vowel(0.75, 0.88)


def test_a_boundary_a_central_vowel_touches_is_asked() -> None:
    assert forcing_candidates(WORDS, WORDS, [UH], HESITATIONS) == {0.9: "uh"}


@pytest.mark.parametrize(
    ("fused", "vowels"),
    [
        # a steady vowel that is not central is not asked about
        (WORDS, [vowel(0.75, 0.88, central=False)]),
        # the first pass made the vowel a filler already
        ([*WORDS[:3], w("uh", 0.8, 0.9, source=AUDIO), WORDS[3]], [UH]),
        # Whisper wrote the hesitation itself
        ([*WORDS[:3], w("uh", 0.8, 0.9), WORDS[3]], [UH]),
        ([], []),
    ],
)
def test_no_boundary_is_asked_without_a_vowel_left_out(
    fused: list[Word], vowels: list[FilledPause]
) -> None:
    assert forcing_candidates(WORDS, fused, vowels, HESITATIONS) == {}


def slot(at: float, gain: float, start: float | None = None, label: str = "uh") -> Slot:
    return Slot(start=at if start is None else start, end=at, gain=gain, label=label)


def test_a_filler_goes_at_a_boundary_whisper_finds_likely_on_its_vowel() -> None:
    out = fuse_forced(WORDS, [slot(0.9, -3.3, start=0.9)], [UH], HESITATIONS)
    assert [x.word for x in out] == ["after", "that", "i", "uh", "talked"]
    filler = out[3]
    assert filler.source == AUDIO
    # cut off the "I" it was heard in, up to the word after
    assert filler.start == pytest.approx(0.75) and filler.end == pytest.approx(0.9)
    assert out[2].end == pytest.approx(0.75)


def test_a_filler_before_its_vowel_takes_the_start_of_the_word_after() -> None:
    words = [w("and", 0.0, 0.3), w("some", 0.3, 0.8)]
    out = fuse_forced(words, [slot(0.3, -6.2, label="um")], [vowel(0.32, 0.45)], HESITATIONS)
    # Whisper was asked about "um"; the vowel, with no nasal tail, says "uh"
    assert [x.word for x in out] == ["and", "uh", "some"]
    assert out[1].end == pytest.approx(0.45) and out[2].start == pytest.approx(0.45)


def test_a_filler_takes_a_gap_between_the_words() -> None:
    words = [w("i", 0.0, 0.3), w("talked", 0.7, 1.0)]
    out = fuse_forced(words, [slot(0.7, -5.0, start=0.3)], [vowel(0.4, 0.6)], HESITATIONS)
    assert [(x.word, x.start, x.end) for x in out[1:2]] == [("uh", 0.3, 0.7)]


@pytest.mark.parametrize(
    ("words", "slots"),
    [
        # Whisper finds a hesitation there no likelier than anywhere
        (WORDS, [slot(0.9, FORCED_GAIN - 0.5)]),
        # a hesitation is already there
        ([*WORDS[:3], w("um", 0.8, 0.9), WORDS[3]], [slot(0.9, -2.0)]),
        # the words there are not the ones asked about
        (WORDS, [slot(1.5, -2.0)]),
    ],
)
def test_nothing_is_added_where_whisper_does_not_find_one_likely(
    words: list[Word], slots: list[Slot]
) -> None:
    assert fuse_forced(words, slots, [UH], HESITATIONS) == words


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Word], list[Slot], list[FilledPause]]:
    t, words = 0.0, []
    for token in draw(st.lists(st.sampled_from(["i", "the", "talked", "um", "so"]), max_size=8)):
        t += draw(st.sampled_from([0.0, 0.1, 0.4]))
        d = draw(st.floats(0.05, 1.0))
        words.append(w(token, round(t, 2), round(t + d, 2)))
        t += d
    slots = [
        slot(x.start, draw(st.floats(-12.0, 0.0)), start=words[k - 1].end if k else x.start)
        for k, x in enumerate(words)
        if draw(st.booleans())
    ]
    vowels = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.floats(0.0, t + 0.5))
        vowels.append(vowel(a, a + draw(st.floats(0.06, 0.4))))
    return words, slots, vowels


@settings(max_examples=200, deadline=None)
@given(cases())
def test_forced_fillers_keep_every_word_and_the_time_order(
    case: tuple[list[Word], list[Slot], list[FilledPause]],
) -> None:
    words, slots, vowels = case
    out = fuse_forced(words, slots, vowels, HESITATIONS)
    assert [x.word for x in out if x.source != AUDIO] == [x.word for x in words]
    added = [x for x in out if x.source == AUDIO]
    assert len(added) <= sum(s.gain >= FORCED_GAIN for s in slots)
    assert [x.start for x in out] == sorted(x.start for x in out)
    assert all(x.end >= x.start for x in out)
