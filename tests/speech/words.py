"""Build timed words from text for tests: punctuation kept, times laid out evenly."""

from __future__ import annotations

import re

from coach.speech.words import Word

_EDGE = re.compile(r"^[^\w']+|[^\w']+$")


def words_from(
    text: str, start: float = 0.0, per_word: float = 0.4, gap: float = 0.0
) -> list[Word]:
    """Words of `text`, each `per_word` s long with `gap` s between them."""
    out = []
    t = start
    for token in text.split():
        out.append(Word(_EDGE.sub("", token).lower(), t, t + per_word, 0.9, token))
        t += per_word + gap
    return out
