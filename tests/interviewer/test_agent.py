"""The voice interviewer's instructions, turn-taking and tool, with livekit-agents' own runner."""

from __future__ import annotations

from livekit.agents import AgentSession

from coach.interviewer.agent import TURN_HANDLING, InterviewerAgent, VoiceInterviewer, instructions
from coach.interviewer.bank import load_bank
from coach.interviewer.plan import InterviewPlan
from coach.interviewer.text import Patience
from tests.interviewer.fake_llm import ANSWER_TOKENS, PROMPT_TOKENS, Calls, FakeLLM, Said

PLAN = InterviewPlan(role="Data scientist", seniority="senior", questions=4, minutes=20,
                     job_description="Forecasting for a grocery chain")  # fmt: skip


def test_instructions_follow_the_plan() -> None:
    text = instructions(PLAN)
    assert "senior-level Data scientist" in text and "4 main questions" in text
    assert "about 20 minutes" in text and "Forecasting for a grocery chain" in text
    assert "one question at a time" in text and "Never coach" in text
    assert "end_interview" in text
    data = [q.text for q in load_bank().families["data"]["technical"]]
    assert any(q in text for q in data)  # examples come from the role's family


def test_turn_taking_waits_out_thinking_pauses() -> None:
    # A 3 s pause mid-answer is not the end of a turn: the shortest wait before the
    # interviewer may speak is longer than that, as in the text-mode interviewer.
    assert TURN_HANDLING["endpointing"]["min_delay"] > 3.0
    assert (
        TURN_HANDLING["endpointing"]["max_delay"] >= 2 * TURN_HANDLING["endpointing"]["min_delay"]
    )
    assert Patience().answer_pause > 3.0
    # a lone "um" or a cough does not interrupt it, and nothing is prepared mid-answer
    assert TURN_HANDLING["interruption"]["min_words"] >= 2
    assert TURN_HANDLING["interruption"]["min_duration"] >= 1.0
    assert TURN_HANDLING["preemptive_generation"]["enabled"] is False


async def test_interviewer_asks_one_question_and_ends_with_the_tool() -> None:
    fake = FakeLLM([
        Said("Thanks. What is a forecast you built that changed a decision?"),
        Calls("end_interview", {"reason": "all questions asked"}),
        Said("Thank you for your time today; the interview is over."),
    ])  # fmt: skip
    agent = InterviewerAgent(PLAN)
    async with AgentSession(llm=fake) as session:
        await session.start(agent)
        first = await session.run(user_input="I have eight years in analytics and forecasting.")
        first.expect.next_event().is_message(role="assistant")
        first.expect.no_more_events()
        last = await session.run(user_input="That's all from me.")
        last.expect.next_event().is_function_call(name="end_interview")
        last.expect.next_event().is_function_call_output()
        last.expect.next_event().is_message(role="assistant")
    assert agent.state.ended and agent.state.reason == "all questions asked"
    system = fake.requests[0].items[0]
    assert "Data scientist" in str(system.content)
    assert any("end_interview" in seen for seen in fake.tools_seen)


async def test_the_interviewers_tokens_are_its_usage() -> None:
    fake = FakeLLM([Said("What did you build?"), Said("And what changed?")])
    agent = InterviewerAgent(PLAN)
    async with AgentSession(llm=fake) as session:
        await session.start(agent)
        await session.run(user_input="I built a forecasting service.")
        await session.run(user_input="The planning team used it.")
        calls, tts = VoiceInterviewer(session, None, agent).usage()
    assert len(fake.requests) == 2
    assert [(c.model, c.purpose) for c in calls] == [("fake", "interviewer")]
    assert calls[0].input_tokens == 2 * PROMPT_TOKENS
    assert calls[0].output_tokens == 2 * ANSWER_TOKENS
    assert tts == {}  # no voice in this session
