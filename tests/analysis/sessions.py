"""SessionSummaries built from the fixtures' ground truth, with no speech model."""

from __future__ import annotations

import json
import random
from typing import Any

from coach.speech.metrics import summarize
from coach.speech.summary import SessionSummary
from coach.speech.words import Silence, Word
from tests.paths import FIXTURES

HESITATIONS = {"um", "uh", "erm", "hmm"}


def truth(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def _lay(tokens: list[str], start: float, end: float) -> list[Word]:
    step = (end - start) / max(1, len(tokens))
    return [
        Word(t.strip(",.?!").lower(), start + k * step, start + (k + 0.8) * step, 0.92, t)
        for k, t in enumerate(tokens)
    ]


def truth_words(gt: dict[str, Any]) -> list[Word]:
    """The fixture's spoken words laid evenly over its spans, fillers included."""
    return [
        w for span in gt["spans"] for w in _lay(span["text"].split(), span["start"], span["end"])
    ]


def from_truth(gt: dict[str, Any], *, fillers: str = "keep", seed: int = 0) -> SessionSummary:
    """Lay each spoken part's words evenly over its span; `fillers` keep, strip or add more."""
    rng = random.Random(seed)
    words: list[Word] = []
    for span in gt["spans"]:
        tokens = span["text"].split()
        if fillers == "strip":
            tokens = [t for t in tokens if t.strip(",.").lower() not in HESITATIONS]
        elif fillers == "add":
            out: list[str] = []
            for t in tokens:
                out.append(t)
                if rng.random() < 0.25:
                    out.append(rng.choice(["um,", "uh,", "you know,", "like,"]))
            tokens = " ".join(out).split()
        words += _lay(tokens, span["start"], span["end"])
    silences = [Silence(p["timestamp"], p["timestamp"] + p["duration"]) for p in gt["longPauses"]]
    return summarize(words, duration=gt["duration"], silences=silences)


def nonsense(duration: float = 60.0, wpm: float = 140.0, seed: int = 5) -> SessionSummary:
    """Random content words at a normal pace, no fillers, no pauses."""
    rng = random.Random(seed)
    vocab = (
        "banana orbit seventeen purple galaxy ladder whisper carpet velvet tundra "
        "marble engine lantern quartz pepper saddle violin glacier harbor sprocket"
    ).split()
    n = int(duration * wpm / 60)
    return summarize(_lay([rng.choice(vocab) for _ in range(n)], 0.0, duration), duration=duration)
