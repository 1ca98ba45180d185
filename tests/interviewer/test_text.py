"""The text-mode interviewer's pacing, driven by a fake audio clock."""

from __future__ import annotations

import random

import pytest

from coach.interviewer.bank import load_bank
from coach.interviewer.plan import InterviewPlan
from coach.interviewer.text import Patience, TextInterviewer, Turn

BANK = load_bank()
P = Patience()


def interviewer(**plan: object) -> TextInterviewer:
    return TextInterviewer(InterviewPlan.model_validate(plan), bank=BANK, seed=7)


def say(iv: TextInterviewer, words: int, start: float, end: float) -> None:
    """A final result of `words` words, then the recognizer's utterance end."""
    iv.heard(" ".join(["word"] * words), start, end)
    iv.utterance_end(end)


async def ticks(iv: TextInterviewer, start: float, end: float, step: float = 0.1) -> list[Turn]:
    out: list[Turn] = []
    t = start
    while t <= end + 1e-9:
        out += await iv.tick(round(t, 3))
        t += step
    return out


async def test_opens_with_a_greeting_and_a_warm_up() -> None:
    iv = interviewer(role="Backend engineer", questions=3)
    first = iv.open(0.0)
    assert first.index == 0 and first.kind == "question" and first.asked_at == 0.0
    # the greeting names the role; it is said first but is not the question the answer is
    # judged against
    assert "Backend engineer" in first.preface and "Backend engineer" not in first.text
    assert any(w in first.text for w in BANK.warmups)


@pytest.mark.parametrize(
    ("words", "pause", "advances"),
    [
        # a thinking pause of 3 s mid-answer never ends the answer
        (40, 3.0, False),
        (8, 3.0, False),
        (8, P.answer_pause * 1.4, False),  # short answers get longer to go on
        # a finished answer does
        (40, P.answer_pause + 0.2, True),
        (8, P.answer_pause * 1.5 + 0.2, True),
        # a lone "um" is not an answer, however long the silence after it (until the nudge)
        (1, P.silence_nudge - 1, False),
    ],
)
async def test_answer_ends_only_after_a_real_answer_and_a_real_pause(
    words: int, pause: float, advances: bool
) -> None:
    iv = interviewer(questions=3)
    iv.open(0.0)
    say(iv, words, 1.0, 9.0)
    turns = await ticks(iv, 9.0, 9.0 + pause)
    assert bool(turns) == advances, turns
    if advances:
        assert [t.kind for t in turns] == ["question"] and turns[0].index == 1


async def test_speech_after_a_pause_keeps_the_answer_going() -> None:
    iv = interviewer(questions=3)
    iv.open(0.0)
    say(iv, 30, 1.0, 9.0)
    assert await ticks(iv, 9.0, 12.0) == []
    say(iv, 20, 12.0, 18.0)  # they went on after 3 s of thought
    assert await ticks(iv, 18.0, 18.0 + P.answer_pause - 0.2) == []
    assert [t.index for t in await ticks(iv, 22.0, 23.0)] == [1]


async def test_without_an_utterance_end_the_answer_is_not_over() -> None:
    iv = interviewer(questions=3)
    iv.open(0.0)
    iv.heard("a long answer " * 10, 1.0, 9.0)
    assert await ticks(iv, 9.0, 30.0) == []
    iv.utterance_end(9.0)
    assert len(await ticks(iv, 30.0, 30.0)) == 1


async def test_silence_gets_one_nudge_then_the_next_question() -> None:
    iv = interviewer(questions=3)
    iv.open(0.0)
    turns = await ticks(iv, 0.0, 2 * P.silence_nudge + 0.5)
    assert [t.kind for t in turns] == ["nudge", "question"]
    assert turns[0].text == BANK.nudge and turns[1].index == 1


async def test_closes_after_the_planned_questions_and_then_stays_quiet() -> None:
    iv = interviewer(questions=2)
    iv.open(0.0)
    say(iv, 30, 1.0, 10.0)
    [second] = await ticks(iv, 10.0, 15.0)
    say(iv, 30, 16.0, 30.0)
    [closing] = await ticks(iv, 30.0, 35.0)
    assert closing.closing and closing.text == BANK.closing and closing.index == 2
    assert iv.finished
    say(iv, 30, 36.0, 40.0)
    assert await ticks(iv, 40.0, 100.0, step=1.0) == []
    assert second.index == 1


async def test_time_up_lets_the_answer_finish_then_closes() -> None:
    iv = interviewer(questions=10, minutes=1)
    iv.open(0.0)
    say(iv, 40, 1.0, 50.0)
    assert [t.kind for t in await ticks(iv, 50.0, 55.0)] == ["question"]
    say(iv, 40, 55.5, 75.0)  # time is up mid-answer: no interruption
    assert await ticks(iv, 75.0, 75.0 + P.answer_pause - 0.2) == []
    [closing] = await ticks(iv, 79.0, 80.0)
    assert closing.closing


class Writer:
    def __init__(self, replies: list[str | Exception | None]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, str]] = []

    async def followup(self, plan: InterviewPlan, question: str, answer: str) -> str | None:
        self.calls.append((question, answer))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


async def test_at_most_one_follow_up_per_question_and_failures_move_on() -> None:
    writer = Writer(["What did you change afterwards?", RuntimeError("timeout")])
    iv = TextInterviewer(InterviewPlan(questions=3), bank=BANK, followups=writer, seed=1)
    first = iv.open(0.0)
    say(iv, 30, 1.0, 10.0)
    [follow] = await ticks(iv, 10.0, 15.0)
    assert follow.kind == "followup" and follow.index == 1
    question, answer = writer.calls[0]
    assert question in first.text and answer.startswith("word word")
    say(iv, 30, 16.0, 25.0)
    [main] = await ticks(iv, 25.0, 30.0)
    assert main.kind == "question" and main.index == 2
    say(iv, 30, 31.0, 40.0)
    [after_failure] = await ticks(iv, 40.0, 45.0)  # the writer failed: next question
    assert after_failure.kind == "question"


def test_bank_choice_is_deterministic_mixed_and_never_repeats() -> None:
    plan = InterviewPlan(role="Senior data scientist", seniority="senior", questions=8)
    a = BANK.choose(plan, random.Random(3))
    b = BANK.choose(plan, random.Random(3))
    assert a == b
    warmup, rest = a
    texts = [q.text for q in rest]
    assert len(texts) == 7 == len(set(texts)) and warmup not in texts
    assert {q.kind for q in rest} == {"behavioural", "technical", "situational"}
    assert rest[0].kind == "technical"  # seniors start with judgement and design
    data = {q.text for q in BANK.families["data"]["technical"]}
    assert any(q.text in data for q in rest)
    assert all("senior" in q.seniority for q in rest)


@pytest.mark.parametrize(
    ("role", "family"),
    [
        ("Senior backend engineer", "software"),
        ("iOS developer", "software"),
        ("Data analyst", "data"),
        ("Product manager", "product"),
        ("UX researcher", "design"),
        ("Account executive", "sales"),
        ("Nurse", "general"),
        ("Software development manager", "software"),
    ],
)
def test_roles_map_to_families(role: str, family: str) -> None:
    assert BANK.family(role) == family


def test_plan_limits() -> None:
    with pytest.raises(ValueError, match="questions"):
        InterviewPlan(questions=0)
    with pytest.raises(ValueError, match="minutes"):
        InterviewPlan.model_validate({"minutes": 500})
    assert InterviewPlan.model_validate({"jobDescription": "x"}).job_description == "x"


async def test_speech_heard_before_its_words_holds_the_next_question() -> None:
    iv = interviewer(questions=3)
    iv.open(0.0)
    say(iv, 30, 1.0, 9.0)
    iv.speaking(11.0)  # the local recognizer: speech began, words come when it ends
    assert await ticks(iv, 9.0, 30.0) == []
    iv.utterance_end(9.0)  # a late end of the previous utterance is stale
    assert await ticks(iv, 30.0, 31.0) == []
    say(iv, 20, 11.0, 32.0)
    assert [t.index for t in await ticks(iv, 32.0, 38.0)] == [1]
