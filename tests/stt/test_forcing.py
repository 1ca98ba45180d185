"""Asking Whisper where a hesitation fits: words to tokens, segments to their encodings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from coach.stt.forcing import word_token_starts
from coach.stt.whisper import EncoderTap, _chunks


class Tokens:
    """A tokenizer whose tokens are the strings themselves."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)


@dataclass
class FakeWord:
    word: str
    start: float = 0.0
    end: float = 0.0


@pytest.mark.parametrize(
    ("pieces", "words", "starts"),
    [
        ([" I", " talked", " to", " five"], [" I", " talked", " to", " five"], [0, 1, 2, 3]),
        # a word of two tokens, and a comma merged into the word before it
        ([" We", " laun", "ched", ",", " so"], [" We", " launched,", " so"], [0, 1, 4]),
        # words that do not line up with the tokens are not asked about
        ([" I", "'d"], [" Id"], [-1]),
        ([" a", "b"], [" x", "yz"], [-1, -1]),
    ],
)
def test_each_word_starts_at_its_first_token(
    pieces: list[str], words: list[str], starts: list[int]
) -> None:
    tokens = Tokens(pieces)
    got = word_token_starts(tokens, list(range(len(pieces))), [FakeWord(x) for x in words])
    assert got == starts


@dataclass
class FakeSegment:
    seek: int
    tokens: list[int] = field(default_factory=list)


def test_segments_go_with_the_encoding_they_were_decoded_from() -> None:
    segments = [FakeSegment(0), FakeSegment(0), FakeSegment(1500)]
    chunks = _chunks(segments, ["first", "second"], offset=10.0)  # type: ignore[arg-type]
    assert [(c.encoder_output, len(c.segments), c.start) for c in chunks] == [
        ("first", 2, 10.0),
        ("second", 1, 25.0),
    ]


def test_segments_are_not_guessed_onto_an_encoding() -> None:
    # an encoding that gave no words: only the first chunk's pairing is certain
    segments: list[Any] = [FakeSegment(0), FakeSegment(2000)]
    chunks = _chunks(segments, ["a", "b", "c"], offset=0.0)
    assert [(c.encoder_output, len(c.segments)) for c in chunks] == [("a", 1)]
    assert _chunks([FakeSegment(700)], ["a", "b"], offset=0.0) == []
    assert _chunks([], [], offset=0.0) == []


def test_the_tap_keeps_encodings_only_while_asked() -> None:
    tap = EncoderTap(lambda features: features * 2)
    assert tap(1) == 2
    caught = tap.catch()
    assert tap(2) == 4 and tap(3) == 6
    tap.release()
    assert tap(4) == 8
    assert caught == [4, 6]
