"""The bundled question bank: questions per role family and kind, chosen for a plan."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from coach.interviewer.plan import InterviewPlan

Kind = Literal["behavioural", "technical", "situational"]
KINDS: tuple[Kind, ...] = ("behavioural", "technical", "situational")

# Which kinds of question to lead with: juniors are asked more about what they have done,
# seniors more about judgement and design.
_ORDER: dict[str, tuple[Kind, ...]] = {
    "junior": ("behavioural", "technical", "behavioural", "situational", "technical"),
    "mid": ("behavioural", "technical", "situational", "technical", "behavioural"),
    "senior": ("technical", "situational", "behavioural", "technical", "situational"),
}


Seniority = Literal["junior", "mid", "senior"]
_ALL: tuple[Seniority, ...] = ("junior", "mid", "senior")


@dataclass(frozen=True)
class Question:
    """A question, the kind it is, and the levels it suits."""

    text: str
    kind: Kind
    seniority: tuple[Seniority, ...] = _ALL


@dataclass(frozen=True)
class QuestionBank:
    """Warm-ups, per-family questions, and the closing and nudge lines."""

    warmups: tuple[str, ...]
    families: dict[str, dict[Kind, tuple[Question, ...]]]
    matches: dict[str, tuple[str, ...]]
    closing: str
    nudge: str

    def family(self, role: str) -> str:
        """The family a free-text role belongs to ("Senior backend engineer" → software)."""
        text = f" {re.sub(r'[^a-z]+', ' ', role.lower())} "
        best, score = "general", 0
        for name, keys in self.matches.items():
            # whole words only: "pm" must not match inside "development"
            hits = sum(len(k.strip()) for k in keys if f" {k.strip()} " in text)
            if hits > score:
                best, score = name, hits
        return best

    def choose(self, plan: InterviewPlan, rng: random.Random) -> tuple[str, list[Question]]:
        """A warm-up and `plan.questions - 1` more, mixing kinds, never repeating one."""
        family = self.family(plan.role)
        pools: dict[Kind, list[Question]] = {}
        for kind in KINDS:
            fits = [q for q in self.families[family].get(kind, ()) if plan.seniority in q.seniority]
            rng.shuffle(fits)
            extra = [
                q
                for q in self.families["general"].get(kind, ())
                if plan.seniority in q.seniority and q not in fits
            ]
            rng.shuffle(extra)
            pools[kind] = fits + extra
        order = _ORDER[plan.seniority]
        chosen: list[Question] = []
        k = 0
        while len(chosen) < plan.questions - 1 and any(pools.values()):
            kind = order[k % len(order)]
            k += 1
            if pools[kind]:
                chosen.append(pools[kind].pop(0))
        return rng.choice(self.warmups), chosen


@cache
def load_bank(language: str = "en") -> QuestionBank:
    """The bundled bank for `language`."""
    raw = json.loads(
        resources.files("coach.interviewer").joinpath(f"questions_{language}.json").read_text()
    )

    def question(entry: str | dict[str, object], kind: Kind) -> Question:
        # a plain string suits every level; an object names the levels it suits
        if isinstance(entry, str):
            return Question(entry, kind)
        levels = tuple(str(x) for x in entry.get("seniority", _ALL))  # type: ignore[attr-defined]
        return Question(str(entry["text"]), kind, levels)  # type: ignore[arg-type]

    families = {
        name: {kind: tuple(question(e, kind) for e in body.get(kind, ())) for kind in KINDS}
        for name, body in raw["families"].items()
    }
    matches = {name: tuple(body.get("match", ())) for name, body in raw["families"].items()}
    return QuestionBank(tuple(raw["warmup"]), families, matches, raw["closing"], raw["nudge"])
