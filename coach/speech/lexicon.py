"""Filler and hedge vocabularies per language, kept as data beside this module."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """A multi-word filler and the neighbours that make it ordinary speech instead."""

    words: tuple[str, ...]
    not_after: frozenset[str]
    not_before: frozenset[str]


@dataclass(frozen=True, slots=True)
class LikeRule:
    """When "like" is a verb or a preposition rather than a filler."""

    verb_after: frozenset[str]
    preposition_after: frozenset[str]
    be: frozenset[str]
    determiners: frozenset[str]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything language-specific the speech metrics need."""

    language: str
    hesitations: frozenset[str]
    backchannels: frozenset[str]
    phrases: tuple[PhraseRule, ...]
    like: LikeRule
    discourse: frozenset[str]
    hedges: tuple[tuple[str, ...], ...]
    legitimate_repeats: frozenset[str]
    # the phrases and hedges by their first word, in the order above: the finders run on every
    # final of every live session, and trying each rule at each word cost most of their time
    phrases_by_first: dict[str, tuple[PhraseRule, ...]] = field(
        init=False, repr=False, compare=False
    )
    hedges_by_first: dict[str, tuple[tuple[str, ...], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        phrases: dict[str, tuple[PhraseRule, ...]] = {}
        for rule in self.phrases:
            phrases[rule.words[0]] = (*phrases.get(rule.words[0], ()), rule)
        hedges: dict[str, tuple[tuple[str, ...], ...]] = {}
        for hedge in self.hedges:
            hedges[hedge[0]] = (*hedges.get(hedge[0], ()), hedge)
        # frozen: set once here, as the dataclass itself would
        object.__setattr__(self, "phrases_by_first", phrases)
        object.__setattr__(self, "hedges_by_first", hedges)


@cache
def load_lexicon(language: str = "en") -> Lexicon:
    """The bundled lexicon for `language` (files named `lexicon_<language>.json`)."""
    raw = json.loads(
        resources.files("coach.speech").joinpath(f"lexicon_{language}.json").read_text("utf-8")
    )
    like = raw["like"]
    return Lexicon(
        language=raw["language"],
        hesitations=frozenset(raw["hesitations"]),
        backchannels=frozenset(raw["backchannels"]),
        phrases=tuple(
            PhraseRule(tuple(p.split()), frozenset(r["not_after"]), frozenset(r["not_before"]))
            for p, r in raw["phrases"].items()
        ),
        like=LikeRule(
            frozenset(like["verb_after"]),
            frozenset(like["preposition_after"]),
            frozenset(like["be"]),
            frozenset(like["determiners"]),
        ),
        discourse=frozenset(raw["discourse"]),
        hedges=tuple(tuple(h.split()) for h in raw["hedges"]),
        legitimate_repeats=frozenset(raw["legitimate_repeats"]),
    )
