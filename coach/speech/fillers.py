"""Which words are fillers, hedges or accidental repeats: rules over timed words, no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from coach.speech.lexicon import Lexicon
from coach.speech.words import Word

_REPEATED_LETTERS = re.compile(r"(.)\1+")


@dataclass(frozen=True, slots=True)
class Match:
    """`length` words from index `index` form `label` ("um", "you know", "like", …)."""

    index: int
    length: int
    label: str


@lru_cache(maxsize=8192)
def _collapsed(token: str) -> str:
    # "ummm", "uhhh", "hmmm" and "errm" are spellings of the same sound; a vocabulary is small,
    # and this runs for every word of every final
    return _REPEATED_LETTERS.sub(r"\1", token)


def _hesitation(token: str, lexicon: Lexicon) -> str | None:
    if token in lexicon.backchannels or "-" in token:
        return None
    collapsed = _collapsed(token)
    if collapsed in lexicon.hesitations:
        return collapsed
    return None


def _comma_after(w: Word) -> bool:
    return bool(w.punctuated_word) and w.punctuated_word.rstrip().endswith((",", "…", "-"))  # type: ignore[union-attr]


def _sentence_start(words: Sequence[Word], i: int, gap: float) -> bool:
    if i == 0:
        return True
    prev = words[i - 1]
    if prev.punctuated_word and prev.punctuated_word.rstrip().endswith((".", "?", "!")):
        return True
    return words[i].start - prev.end > gap


def _word(words: Sequence[Word], i: int) -> str:
    return words[i].word if 0 <= i < len(words) else ""


def _like_is_filler(words: Sequence[Word], i: int, lexicon: Lexicon, gap: float) -> bool:
    rule = lexicon.like
    prev, nxt = _word(words, i - 1), _word(words, i + 1)
    if (i > 0 and _comma_after(words[i - 1])) or _comma_after(words[i]):
        # "it was, like, huge" / "I, like, rarely": set off by commas, whatever precedes.
        return True
    if prev in rule.verb_after or prev in rule.preposition_after:
        return False  # "I like Python", "looks like rain"
    if prev in rule.be:
        # "it was like huge" is a filler; "it was like a dream" is a comparison.
        return nxt not in rule.determiners and nxt != ""
    return False


def find_fillers(
    words: Sequence[Word], lexicon: Lexicon, gap: float = 1.2, start: int = 0
) -> list[Match]:
    """Every filler in `words` from index `start` on, never overlapping, in order."""
    found: list[Match] = []
    i = start
    while i < len(words):
        token = words[i].word
        label = _hesitation(token, lexicon)
        if label is not None:
            found.append(Match(i, 1, label))
            i += 1
            continue
        phrase = _phrase_at(words, i, lexicon, gap)
        if phrase is not None:
            found.append(phrase)
            i += phrase.length
            continue
        if token == "like" and _like_is_filler(words, i, lexicon, gap):
            found.append(Match(i, 1, "like"))
        elif token in lexicon.discourse and _discourse_is_filler(words, i, lexicon, gap):
            found.append(Match(i, 1, token))
        i += 1
    return found


def _phrase_at(words: Sequence[Word], i: int, lexicon: Lexicon, gap: float) -> Match | None:
    for rule in lexicon.phrases_by_first.get(words[i].word, ()):
        n = len(rule.words)
        if tuple(w.word for w in words[i : i + n]) != rule.words:
            continue
        prev, nxt = _word(words, i - 1), _word(words, i + n)
        comma_after = _comma_after(words[i + n - 1])
        if prev in rule.not_after and not (i > 0 and _comma_after(words[i - 1])):
            return None  # "do you know", "what I mean", "a kind of bird"
        if nxt in rule.not_before and not comma_after:
            return None  # "you know that", "I mean it", "kind of thing"
        return Match(i, n, " ".join(rule.words))
    return None


def _discourse_is_filler(words: Sequence[Word], i: int, lexicon: Lexicon, gap: float) -> bool:
    # "So, ..." and "Basically, ..." stand apart; "so that" and "actually good" carry meaning.
    if _comma_after(words[i]):
        return True
    nxt = _word(words, i + 1)
    return _sentence_start(words, i, gap) and _hesitation(nxt, lexicon) is not None


def find_hedges(words: Sequence[Word], lexicon: Lexicon, start: int = 0) -> list[Match]:
    """Hedging words and phrases ("I think", "maybe", "probably", "just") from `start` on."""
    found: list[Match] = []
    i = start
    while i < len(words):
        for hedge in lexicon.hedges_by_first.get(words[i].word, ()):
            n = len(hedge)
            if tuple(w.word for w in words[i : i + n]) == hedge:
                found.append(Match(i, n, " ".join(hedge)))
                i += n
                break
        else:
            i += 1
    return found


def find_repetitions(words: Sequence[Word], lexicon: Lexicon, start: int = 0) -> list[Match]:
    """Runs of the same word said again at once ("the the") from `start` on; `length` is the
    run's length. Repeated hesitations ("um um") are fillers, not repeats."""
    found: list[Match] = []
    i = start
    while i < len(words):
        j = i + 1
        while j < len(words) and words[j].word == words[i].word:
            j += 1
        token = words[i].word
        if (
            j - i > 1
            and token not in lexicon.legitimate_repeats
            and _hesitation(token, lexicon) is None
        ):
            found.append(Match(i, j - i, token))
        i = j
    return found
