"""The text-mode interviewer: questions over the WebSocket, paced by the candidate's speech.

It is driven by the session with the audio clock (seconds of audio heard), never wall time,
so it behaves the same on a slow network and in tests. Being patient is the point: the most
common complaint about voice interviewers is that they cut off a candidate who is thinking.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Literal, Protocol

from coach.interviewer.bank import QuestionBank
from coach.interviewer.plan import InterviewPlan

log = logging.getLogger("coach.interviewer")

TurnKind = Literal["question", "followup", "nudge", "closing"]


@dataclass(frozen=True, slots=True)
class Turn:
    """Something the interviewer says at audio time `asked_at`."""

    text: str
    index: int
    asked_at: float
    kind: TurnKind = "question"
    # said before the question (the greeting): shown and spoken, never part of the question
    # the answer is judged against
    preface: str = ""

    @property
    def closing(self) -> bool:
        """The goodbye: nothing follows it."""
        return self.kind == "closing"


class FollowupWriter(Protocol):
    """Writes one short follow-up to an answer, or None to move on."""

    async def followup(self, plan: InterviewPlan, question: str, answer: str) -> str | None:
        """A follow-up question, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Patience:
    """How long the interviewer waits, in seconds of audio."""

    # Silence after the last word before an answer counts as finished. Thinking pauses of
    # 2–3 s mid-answer are common, so this sits above them; a short answer (fewer than
    # `short_answer_words`) gets 1.5 times as long, since that is when people stop to think.
    answer_pause: float = 4.0
    short_answer_words: int = 15
    # Fewer words than this is not an answer ("um", "so…").
    min_answer_words: int = 3
    # With no answer at all: a gentle nudge after this long, then the next question after
    # as long again.
    silence_nudge: float = 20.0


class TextInterviewer:
    """Asks the plan's questions one at a time and closes politely."""

    def __init__(
        self,
        plan: InterviewPlan,
        *,
        bank: QuestionBank,
        followups: FollowupWriter | None = None,
        patience: Patience | None = None,
        seed: int | None = None,
    ) -> None:
        self.plan = plan
        self.bank = bank
        self.patience = patience or Patience()
        self._followups = followups
        rng = random.Random(seed)
        warmup, rest = bank.choose(plan, rng)
        self._queue = [warmup, *(q.text for q in rest)]
        self._asked = 0  # main questions asked
        self._index = -1  # every question-like turn, follow-ups included
        self._current = ""
        self._asked_at = 0.0
        self._answer: list[str] = []
        self._answer_words = 0
        self._last_word_end: float | None = None
        self._last_activity = 0.0
        self._ended_after_last_word = False
        self._nudged = False
        self._followed_up = False
        self._finished = False
        self._start = 0.0

    @property
    def finished(self) -> bool:
        """The closing words were said."""
        return self._finished

    @property
    def asked(self) -> int:
        """Main questions asked so far (follow-ups not counted)."""
        return self._asked

    @property
    def total(self) -> int:
        """Main questions the plan asks for."""
        return self.plan.questions

    def skip(self, t: float) -> Turn | None:
        """The candidate says the answer is done: the next question (or the goodbye) now.

        No follow-up: the candidate chose to move on. None once the interview is over.
        """
        if self._finished:
            return None
        return self._next(t)

    def open(self, t: float) -> Turn:
        """The greeting and first question."""
        self._start = t
        role = self.plan.role if self.plan.role != "general" else "this"
        greeting = f"Hello, and thanks for joining. I'll be interviewing you for the {role} role."
        turn = self._ask(self._queue.pop(0), t, main=True)
        return Turn(turn.text, turn.index, t, "question", preface=greeting)

    def speaking(self, t: float) -> None:
        """The candidate is talking at `t`: whatever pause came before is not an ending."""
        if self._finished or t < self._asked_at:
            return
        if t >= self._last_activity:
            self._last_activity = t
            self._ended_after_last_word = False

    def heard(self, text: str, start: float, end: float) -> None:
        """A final transcript result in the current answer."""
        if self._finished or end < self._asked_at:
            return
        self._answer.append(text)
        self._answer_words += len(text.split())
        self._last_word_end = max(end, self._last_word_end or 0.0)
        self.speaking(end)

    def utterance_end(self, t: float) -> None:
        """The recognizer saw a gap after the speech ending at `t`."""
        # An end that predates speech heard since (the next utterance has begun) is stale.
        if self._last_word_end is not None and t >= self._last_activity - 1e-6:
            self._ended_after_last_word = True

    async def tick(self, t: float) -> list[Turn]:
        """Whatever is due at audio time `t`."""
        if self._finished:
            return []
        p = self.patience
        if self._answer_words == 0:
            waited = t - self._asked_at
            if self._time_up(t) and waited >= p.answer_pause:
                return [self._next(t)]
            if waited >= p.silence_nudge and not self._nudged:
                self._nudged = True
                return [Turn(self.bank.nudge, self._index, t, "nudge")]
            if waited >= 2 * p.silence_nudge:
                return [self._next(t)]
            return []
        if not self._answer_done(t):
            return []
        if self._answer_words < p.min_answer_words:
            # "um" and silence is not an answer: keep waiting for one, as with no words
            if t - self._asked_at >= 2 * p.silence_nudge:
                return [self._next(t)]
            return []
        if not self._time_up(t) and self._followups is not None and not self._followed_up:
            self._followed_up = True
            text = await self._followup()
            if text:
                return [self._ask(text, t, main=False)]
        return [self._next(t)]

    def _answer_done(self, t: float) -> bool:
        if self._last_word_end is None or not self._ended_after_last_word:
            return False
        p = self.patience
        pause = p.answer_pause
        if self._answer_words < p.short_answer_words:
            pause *= 1.5
        return t - max(self._last_word_end, self._last_activity) >= pause

    def _time_up(self, t: float) -> bool:
        minutes = self.plan.minutes
        return minutes is not None and t - self._start >= minutes * 60

    def _next(self, t: float) -> Turn:
        if self._time_up(t) or self._asked >= self.plan.questions or not self._queue:
            self._finished = True
            return Turn(self.bank.closing, self._index + 1, t, "closing")
        self._followed_up = False
        return self._ask(self._queue.pop(0), t, main=True)

    def _ask(self, text: str, t: float, *, main: bool) -> Turn:
        self._index += 1
        if main:
            self._asked += 1
        self._current = text
        self._asked_at = t
        self._answer = []
        self._answer_words = 0
        self._last_word_end = None
        self._last_activity = t
        self._ended_after_last_word = False
        self._nudged = False
        return Turn(text, self._index, t, "question" if main else "followup")

    async def _followup(self) -> str | None:
        assert self._followups is not None
        try:
            return await self._followups.followup(self.plan, self._current, " ".join(self._answer))
        except Exception as e:  # a follow-up is a nicety; the interview goes on without it
            log.warning("no follow-up: %s", e)
            return None
