"""What was said, per question: STAR structure, relevance, length, ownership, repeated sentences.

Pure functions over timed words; no I/O and no model. Words the recognizer was unsure of
(`findings.is_misheard`) are left out, so a misheard word never makes or breaks a finding.

- STAR (situation, task, action, result) is found from cue phrases and their order: a part is
  present where its cues occur, and starts at the first of them. A result with no outcome
  (a number, or a word of change such as "reduced", "shipped", "saved") is thin.
- Relevance is the share of the question's key concepts the answer touches: the question's
  content words, lemmatized by a small suffix-stripping rule set (no downloaded data), each
  widened with the words an answer on that topic uses ("background" → studied, degree, joined).
- Length is judged against career-services guidance: a behavioural (STAR) answer takes about
  1–2 minutes, other answers about 30–90 seconds (Indeed Career Guide, "How to Use the STAR
  Interview Response Technique"; MIT CAPD, "Behavioral Interviews").
- Ownership counts "I/me/my" against "we/us/our": interviewers want the candidate's own part.
- A sentence of four words or more said twice is a repeat (an answer said twice in a row too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from coach.analysis.findings import Band, Finding, is_misheard, judge
from coach.speech.summary import WordOut

STAR_PARTS = ("situation", "task", "action", "result")

BEHAVIOURAL_CUES = (
    "tell me about a time",
    "describe a time",
    "describe a situation",
    "give me an example",
    "give an example",
    "a time when",
    "a time you",
    "how did you handle",
    "walk me through a project",
    "walk me through a time",
    "talk about a time",
    "share an example",
)

# Cue phrases (on lemmatized, lowercase tokens joined by spaces) for each part of STAR.
STAR_CUES: dict[str, tuple[str, ...]] = {
    "situation": (
        "last year",
        "last spring",
        "last summer",
        "last month",
        "at my last",
        "at my previous",
        "in my previous",
        "in my last",
        "when i was",
        "when i work",
        "early in my career",
        "at the time",
        "back in",
        "there was",
        "we had",
        "our team",
        "the situation",
        "a few year ago",
        "a year ago",
        "start fail",
        "i was work",
        "once",
    ),
    "task": (
        "my job was",
        "my role was",
        "i was responsible",
        "i was the",
        "i was ask",
        "i need to",
        "i had to",
        "we need to",
        "we had to",
        "the goal was",
        "my task",
        "the task",
        "i was on call",
        "it was my",
        "i was in charge",
        "i own",
    ),
    "action": (
        "so i",
        "i decid",
        "i start",
        "i built",
        "i build",
        "i ask",
        "i wrote",
        "i set up",
        "i trac",
        "i add",
        "i organiz",
        "i talk",
        "i propos",
        "i creat",
        "i led",
        "i went",
        "i reach out",
        "i plan",
        "i fix",
        "i chang",
        "i introduc",
        "i merg",
        "i spoke",
        "i call",
        "i schedul",
        "i rewrote",
        "i hand",
        "i walk",
        "we merg",
        "we agre",
        "i suggest",
        "i review",
        "i test",
        "i measur",
        "i work with",
    ),
    "result": (
        "as a result",
        "in the end",
        "ended up",
        "the result",
        "the outcome",
        "it ship",
        "we ship",
        "shipped",
        "reduc",
        "increas",
        "improv",
        "sav",
        "cut",
        "since then",
        "which meant",
        "i learn",
        "now we",
        "on time",
        "week early",
        "day early",
        "percent",
        "fewer",
        "faster",
        "success",
        "solv",
        "fixed",
    ),
}
# Words that make a result concrete: numbers and words of measured change.
OUTCOME_WORDS = frozenset(
    """percent fewer faster reduc increas improv sav cut doubl halv ship shipped
    hour day week month minute revenue customer user cost""".split()
)
NUMBER = re.compile(
    r"^\d[\d,.]*%?$|^(one|two|three|four|five|six|seven|eight|nine|ten|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|half|twice|double)$"
)

STOP = frozenset(
    """a about after all also am an and any are as at be because been before but by can could
    did do does doing for from had has have he her him his how i if in into is it its just me
    more most my no not of on one or our out so some than that the their them then there these
    they this those to up us was we were what when where which while who why will with would
    you your tell walk through describe give example time talk share please something thing
    i'm it's don't didn't we're i've that's there's can't should like let know think get got
    make made way did your yourself""".split()
)

# Topic words: a question naming the key widens it with what an answer on that topic says.
TOPICS: dict[str, frozenset[str]] = {
    "background": frozenset(
        """studi degree universit college graduat career job role experienc year
        join compani previous school bootcamp""".split()
    ),
    "disagre": frozenset(
        """disagre conflict argu argument push back pushback compromis view opinion
        agre convinc debat tension differ plan idea teammate colleague manag""".split()
    ),
    "conflict": frozenset(
        """disagre conflict argu argument push back compromis view opinion agre convinc
        tension differ teammate colleague""".split()
    ),
    "weakness": frozenset(
        """weak improv struggl work on learn feedback better mistak tend habit""".split()
    ),
    "strength": frozenset("""strength good best strong skill abl help""".split()),
    "fail": frozenset("""fail mistak wrong learn miss lesson error""".split()),
    "mistak": frozenset("""fail mistak wrong learn miss lesson error""".split()),
    "project": frozenset(
        """project build built ship launch team design system featur deliver""".split()
    ),
    "leadership": frozenset("""lead led team mentor manag decid own""".split()),
    "lead": frozenset("""lead led team mentor manag decid own""".split()),
    "deadline": frozenset("""deadline time week day late ship prioriti plan""".split()),
    "job": frozenset("""job role team compani product work build use mission learn grow""".split()),
    "want": frozenset("""want excit interest love enjoy passion reason because""".split()),
}


@functools.lru_cache(maxsize=8192)
def lemma(word: str) -> str:
    """A small suffix-stripping lemmatizer: enough to match "disagreed" with "disagree"."""
    w = word.lower().strip(".,!?;:\"'()")
    for suffix, repl in (
        ("ies", "i"),
        ("ied", "i"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("e", ""),
        ("ly", ""),
    ):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)] + repl
    return w


def question_kind(question: str) -> str:
    """`behavioural` for a tell-me-about-a-time question, else `general`."""
    q = question.lower()
    return "behavioural" if any(c in q for c in BEHAVIOURAL_CUES) else "general"


# Seconds (low, high) an answer should take, by question kind (see the module docstring).
LENGTH_GUIDE: dict[str, tuple[float, float]] = {
    "behavioural": (60.0, 120.0),
    "general": (30.0, 90.0),
}


@dataclass(frozen=True, slots=True)
class StarPart:
    """One part of STAR found in the answer, where it starts, and whether it is thin."""

    part: str
    start: float
    thin: bool = False


@dataclass(frozen=True, slots=True)
class Content:
    """The content analysis of one answer."""

    question: str
    kind: str
    length_seconds: float
    length_band: tuple[float, float]
    relevance: float | None
    star: tuple[StarPart, ...] = ()
    i_count: int = 0
    we_count: int = 0
    repeated_sentences: tuple[tuple[str, float], ...] = ()
    key_terms: tuple[str, ...] = field(default=())

    @property
    def star_present(self) -> list[str]:
        """STAR parts found, in STAR order."""
        found = {p.part for p in self.star}
        return [p for p in STAR_PARTS if p in found]

    @property
    def star_missing(self) -> list[str]:
        """STAR parts not found, in STAR order."""
        found = {p.part for p in self.star}
        return [p for p in STAR_PARTS if p not in found]


def key_terms(question: str, role: str = "") -> list[str]:
    """The question's (and role's) content words, lemmatized, in order, without repeats."""
    out: list[str] = []
    for token in re.findall(r"[a-zA-Z']+", f"{question} {role}"):
        lem = lemma(token)
        if token.lower() not in STOP and lem not in STOP and len(lem) > 2 and lem not in out:
            out.append(lem)
    return out


def _topic(term: str) -> frozenset[str]:
    for key, words in TOPICS.items():
        if lemma(key) == term or key == term:
            return frozenset(lemma(w) for w in words)
    return frozenset()


def _touches(stem: str, said: set[str], said_text: str) -> bool:
    if " " in stem:
        return f" {stem} " in said_text
    return any(s == stem or (len(stem) >= 3 and s.startswith(stem)) for s in said)


def key_words(question: str, role: str = "") -> list[str]:
    """The question's key terms as written, for showing to a person."""
    out: list[str] = []
    seen: set[str] = set()
    for token in re.findall(r"[a-zA-Z']+", f"{question} {role}"):
        lem = lemma(token)
        if token.lower() not in STOP and lem not in STOP and len(lem) > 2 and lem not in seen:
            seen.add(lem)
            out.append(token.lower())
    return out


def relevance(question: str, words: Sequence[str], role: str = "") -> float | None:
    """Share of the question's key concepts the answer touches (0–1); None with no key term."""
    terms = key_terms(question, role)
    if not terms:
        return None
    lems = [lemma(w) for w in words]
    said, said_text = set(lems), " " + " ".join(lems) + " "
    hit = sum(
        1
        for term in terms
        if _touches(term, said, said_text)
        or any(_touches(t, said, said_text) for t in _topic(term))
    )
    return round(hit / len(terms), 2)


def _sentences(words: Sequence[WordOut]) -> list[tuple[str, float]]:
    """Sentences from the punctuated words: (normalized text, start)."""
    out: list[tuple[str, float]] = []
    current: list[str] = []
    start = 0.0
    for w in words:
        text = w.punctuated_word or w.word
        if not current:
            start = w.start
        current.append(w.word.lower().strip(".,!?;:"))
        if text.rstrip("\"'").endswith((".", "?", "!")):
            out.append((" ".join(current), start))
            current = []
    if current:
        out.append((" ".join(current), start))
    return out


def repeated_sentences(words: Sequence[WordOut]) -> list[tuple[str, float]]:
    """Sentences of four words or more said again: (text, when it was said again)."""
    seen: set[str] = set()
    out: list[tuple[str, float]] = []
    for text, start in _sentences(words):
        if len(text.split()) < 4:
            continue
        if text in seen:
            out.append((text, start))
        seen.add(text)
    return out


Cue = tuple[str, tuple[str, ...]]


def _cue_index() -> tuple[dict[str, list[Cue]], dict[str, list[Cue]]]:
    """Cues keyed by their first word, and those whose first word is a stem (5+ letters) keyed
    by its first five letters."""
    exact: dict[str, list[Cue]] = {}
    stems: dict[str, list[Cue]] = {}
    for part, cues in STAR_CUES.items():
        for cue in cues:
            words = tuple(cue.split())
            exact.setdefault(words[0], []).append((part, words))
            if len(words[0]) >= 5:
                stems.setdefault(words[0][:5], []).append((part, words))
    return exact, stems


_EXACT, _STEMS = _cue_index()


def _word_fits(c: str, lem: str, raw: str) -> bool:
    return c in (lem, raw) or (len(c) >= 5 and lem.startswith(c))


def _cue_at(cue: tuple[str, ...], lems: list[str], raw: list[str], i: int) -> bool:
    """Whether the cue's words start at token `i`: whole words, or stems of 5+ letters."""
    if i + len(cue) > len(lems):
        return False
    return all(_word_fits(c, lems[i + k], raw[i + k]) for k, c in enumerate(cue))


def star_parts(words: Sequence[WordOut]) -> list[StarPart]:
    """STAR parts found from cue phrases, each at its first cue, in the order they occur.

    A situation or task cue after the first action counts only if no action came before it, so
    "I had to" late in the answer is not mistaken for the task; a result must follow an action
    or a situation to count.
    """
    lems = [lemma(w.word) for w in words]
    raw = [w.word.lower().strip(".,!?;:") for w in words]
    firsts: dict[str, float] = {}
    for i in range(len(words)):
        if len(firsts) == len(STAR_CUES):
            break
        candidates = [*_EXACT.get(lems[i], ()), *_EXACT.get(raw[i], ())]
        candidates += _STEMS.get(lems[i][:5], ())
        for part, cue in candidates:
            if part not in firsts and _cue_at(cue, lems, raw, i):
                firsts[part] = words[i].start
    if "result" in firsts and not any(
        p in firsts and firsts[p] < firsts["result"] for p in ("action", "situation")
    ):
        # A result cue before any story is only a result when it carries a number.
        k = next(i for i, w in enumerate(words) if w.start == firsts["result"])
        if not any(NUMBER.match(r) for r in raw[k : k + 12]):
            del firsts["result"]
    parts: list[StarPart] = []
    for part in STAR_PARTS:
        if part not in firsts:
            continue
        thin = False
        if part == "result":
            after = [(lems[k], raw[k]) for k in range(len(words)) if words[k].start >= firsts[part]]
            thin = not any(
                NUMBER.match(r) or any(lem.startswith(o) for o in OUTCOME_WORDS) for lem, r in after
            )
        parts.append(StarPart(part, firsts[part], thin))
    return sorted(parts, key=lambda p: p.start)


def analyze_answer(question: str, words: Sequence[WordOut], role: str = "") -> Content:
    """Content of one answer: what a reader needs to judge it, no verdicts yet."""
    heard = [w for w in words if not is_misheard(w)]
    kind = question_kind(question)
    length = round(words[-1].end - words[0].start, 1) if words else 0.0
    tokens = [w.word.lower().strip(".,!?;:") for w in heard]
    return Content(
        question=question,
        kind=kind,
        length_seconds=length,
        length_band=LENGTH_GUIDE[kind],
        relevance=relevance(question, tokens, role) if question else None,
        star=tuple(star_parts(heard)) if kind == "behavioural" else (),
        i_count=sum(1 for t in tokens if t in {"i", "me", "my", "i'm", "i've", "myself"}),
        we_count=sum(1 for t in tokens if t in {"we", "us", "our", "we're", "we've"}),
        repeated_sentences=tuple(repeated_sentences(heard)),
        key_terms=tuple(key_words(question, role)),
    )


# Bands of the content measures (see the module docstring for their sources).
RELEVANCE_BAND = Band((0.5, 1.0), (0.25, 1.0), "share of the question's key concepts answered")
OWNERSHIP_BAND = Band(
    (0.5, 1.0), (0.35, 1.0), "interviewers assess your own part: “I” should outweigh “we”"
)
REPEATS_BAND = Band((0.0, 0.0), (0.0, 0.0), "a whole sentence said twice reads as lost thread")


def content_findings(c: Content) -> list[Finding]:
    """Findings on what was said in one answer, judged against their bands."""
    out: list[Finding] = []
    if c.kind == "behavioural":
        present = c.star_present
        missing = c.star_missing
        band = Band((4.0, 4.0), (4.0, 4.0), "STAR: situation, task, action, result")
        out.append(
            judge(
                "star_parts",
                "STAR parts present",
                float(len(present)),
                "parts",
                band,
                moment=None,
                strength="a complete STAR story (situation, task, action, result)",
                weakness="your story has no " + " or ".join(missing) + _star_hint(missing),
            )
        )
        thin = [p for p in c.star if p.thin]
        if thin:
            out.append(
                judge(
                    "result_outcome",
                    "result with a measurable outcome",
                    0.0,
                    "present",
                    Band((1.0, 1.0), (1.0, 1.0), "a result lands when it has a number or outcome"),
                    moment=thin[0].start,
                    strength="",
                    weakness="your result has no outcome: add a number or what changed",
                )
            )
        if c.i_count + c.we_count >= 3:
            share = c.i_count / (c.i_count + c.we_count)
            out.append(
                judge(
                    "ownership",
                    "“I” share of “I” and “we”",
                    round(share, 2),
                    "share",
                    OWNERSHIP_BAND,
                    moment=None,
                    strength=f"clear ownership (“I” {c.i_count} times, “we” {c.we_count})",
                    weakness=(f"“we” ({c.we_count}) outweighs “I” ({c.i_count}): say what you did"),
                )
            )
    if c.relevance is not None:
        terms = ", ".join(f"“{t}”" for t in c.key_terms[:4])
        out.append(
            judge(
                "relevance",
                "relevance to the question",
                c.relevance,
                "share",
                RELEVANCE_BAND,
                moment=None,
                strength="an answer on the question asked",
                weakness=f"the answer barely touches what was asked ({terms})",
            )
        )
    lo, hi = c.length_band
    out.append(
        judge(
            "length_seconds",
            "answer length",
            c.length_seconds,
            "s",
            Band((lo, hi), (lo * 0.75, hi * 1.25), "career-services guidance per question kind"),
            moment=None,
            strength=f"a well-sized answer ({c.length_seconds:.0f} s)",
            weakness=(
                f"the answer took {c.length_seconds:.0f} s; aim for {lo:.0f}–{hi:.0f} s"
                + (" — add the detail that proves your point" if c.length_seconds < lo else "")
            ),
        )
    )
    if c.repeated_sentences:
        text, when = c.repeated_sentences[0]
        out.append(
            judge(
                "repeated_sentences",
                "sentences said twice",
                float(len(c.repeated_sentences)),
                "sentences",
                REPEATS_BAND,
                moment=when,
                strength="",
                weakness=f"you said “{text}” twice",
            )
        )
    return out


def _star_hint(missing: list[str]) -> str:
    if "result" in missing:
        return ": end with what happened, with a number if you can"
    if "situation" in missing:
        return ": open with where and when it happened"
    return ""
