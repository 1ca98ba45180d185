"""Table tests for every filler rule, positives and negatives."""

from __future__ import annotations

import pytest

from coach.speech.metrics import summarize

from .words import words_from

CASES = [
    # hesitations and their spellings
    ("Um, I built it.", ["um"]),
    ("Umm I built it.", ["um"]),
    ("Uhh, we shipped.", ["uh"]),
    ("Erm, maybe later.", ["erm"]),
    ("Hmm, good question.", ["hm"]),
    ("Uh-huh, that is right.", []),
    ("Mm-hmm, yes.", []),
    # multi-word fillers
    ("It was, you know, hard.", ["you know"]),
    ("Do you know the answer?", []),
    ("You know that I tried.", []),
    ("I mean, people relied on it.", ["i mean"]),
    ("I mean it, this matters.", []),
    ("That is what I mean.", []),
    ("We kind of merged the ideas.", ["kind of"]),
    ("It is a kind of bird.", []),
    ("We sort of agreed.", ["sort of"]),
    ("What sort of person is he?", []),
    # "like": verb, preposition, comparison, filler
    ("I like Python.", []),
    ("I like working with people.", []),
    ("It looks like rain.", []),
    ("It was like a dream.", []),
    ("It was, like, huge.", ["like"]),
    ("I, like, rarely asked.", ["like"]),
    ("It was like huge.", ["like"]),
    ("We had no time and, like, no data.", ["like"]),
    # "so", "basically", "actually", "literally"
    ("We refactored so that tests ran.", []),
    ("So, the plan failed.", ["so"]),
    ("So um we moved on.", ["so", "um"]),
    ("It was so good.", []),
    ("Basically, we rewrote it.", ["basically"]),
    ("It basically works.", []),
    ("His plan was actually good.", []),
    ("Actually, I disagree.", ["actually"]),
    ("It was literally on fire.", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filler_rules(text: str, expected: list[str]) -> None:
    summary = summarize(words_from(text))
    assert [f.word for f in summary.fillers] == expected


def test_filler_context_is_five_words_each_side() -> None:
    text = "one two three four five six um seven eight nine ten eleven twelve"
    (filler,) = summarize(words_from(text)).fillers
    assert filler.context_before == "two three four five six"
    assert filler.context_after == "seven eight nine ten eleven"


def test_filler_timestamp_is_its_first_word() -> None:
    words = words_from("we did it, you know, fast")
    (filler,) = summarize(words).fillers
    assert filler.timestamp == pytest.approx(words[3].start, abs=1e-3)


def test_hedges_and_repeats() -> None:
    summary = summarize(words_from("I think the the result was maybe just fine, fine"))
    assert [h.word for h in summary.hedges] == ["i think", "maybe", "just"]
    assert [(r.word, r.count) for r in summary.repetitions] == [("the", 2), ("fine", 2)]


def test_repeated_hesitation_is_fillers_not_a_repeat() -> None:
    summary = summarize(words_from("um um we went"))
    assert [f.word for f in summary.fillers] == ["um", "um"]
    assert summary.repetitions == []
