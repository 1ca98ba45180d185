"""The voice interviewer in a LiveKit room: a livekit-agents `AgentSession`, run in-process.

Deepgram hears the candidate, an OpenAI model asks the questions, OpenAI's TTS speaks them,
Silero decides when someone is talking. The instructions keep it an interviewer, not a coach;
the turn-taking is tuned so it does not cut off a candidate who is thinking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, RunContext, function_tool
from livekit.agents.voice.turn import TurnHandlingOptions

from coach.interviewer.bank import QuestionBank, load_bank
from coach.interviewer.plan import InterviewPlan
from coach.providers import ProviderError
from coach.settings import Settings
from coach.usage import LlmCall

log = logging.getLogger("coach.interviewer.agent")

# Patience, in seconds. Candidates pause to think for 2–3 s in the middle of an answer, so the
# turn is only over after `min_delay` of silence (longer than those pauses) and at most
# `max_delay` when the end-of-turn model is unsure. The interviewer yields only to real
# speech (a second of it, three words), never to a lone "um" or a cough, and does not start
# writing a reply while the candidate may still be going on.
TURN_HANDLING: TurnHandlingOptions = {
    "endpointing": {"min_delay": 3.5, "max_delay": 8.0},
    "interruption": {
        "enabled": True,
        "min_duration": 1.0,
        "min_words": 3,
        "resume_false_interruption": True,
        "false_interruption_timeout": 2.0,
    },
    "preemptive_generation": {"enabled": False},
}


def instructions(plan: InterviewPlan, bank: QuestionBank | None = None) -> str:
    """The system instructions for one interview."""
    bank = bank or load_bank()
    family = bank.family(plan.role)
    length = f"about {plan.minutes:g} minutes" if plan.minutes else "no fixed time"
    examples = [q.text for kind in ("behavioural", "technical", "situational")
                for q in bank.families[family][kind][:2]
                if plan.seniority in q.seniority]  # fmt: skip
    job = (
        f"\nThe job description, for context (do not read it out):\n{plan.job_description}\n"
        if plan.job_description
        else ""
    )
    return (
        f"You are a friendly, professional interviewer running a realistic job interview for a "
        f"{plan.seniority}-level {plan.role} position. Ask {plan.questions} main questions "
        f"({length}), mixing behavioural, technical and situational ones suited to the role "
        f"and seniority. For example:\n- " + "\n- ".join(examples) + "\n"
        f"{job}\n"
        "Rules:\n"
        "- Start with a one-sentence greeting, then a warm-up question about their background.\n"
        "- Ask exactly one question at a time and then stop talking. Keep your turns short: "
        "one or two sentences.\n"
        "- You may ask one short follow-up about a specific detail of an answer before moving "
        "on.\n"
        "- Never coach, grade, praise at length or give feedback during the interview; "
        "a brief neutral acknowledgement is enough.\n"
        "- Be patient. Silence and filler words such as 'um' mean the candidate is thinking: "
        "wait, do not fill the silence or answer for them.\n"
        "- When the questions are done or time is up, thank the candidate politely, say the "
        "interview is over, and call the end_interview tool.\n"
    )


@dataclass
class InterviewState:
    """What the voice interviewer's tools change."""

    ended: bool = False
    reason: str = ""


class InterviewerAgent(Agent):
    """The interviewer: the plan's instructions and an `end_interview` tool."""

    def __init__(self, plan: InterviewPlan, state: InterviewState | None = None) -> None:
        super().__init__(instructions=instructions(plan), turn_handling=TURN_HANDLING)
        self.plan = plan
        self.state = state or InterviewState()

    @function_tool()
    async def end_interview(self, context: RunContext[Any], reason: str) -> str:
        """End the interview after the closing words.

        Args:
            reason: why the interview ends, e.g. "all questions asked" or "time is up".
        """
        self.state.ended = True
        self.state.reason = reason
        log.info("the interviewer ended the interview: %s", reason)
        return "The interview is over. Do not ask anything else."


def build_session(settings: Settings, *, llm: Any = None, stt: Any = None, tts: Any = None,
                  vad: Any = None) -> Any:  # fmt: skip
    """An `AgentSession` with Deepgram, OpenAI and Silero (or the given parts, for tests)."""
    from livekit.agents import AgentSession

    if llm is None or stt is None or tts is None or vad is None:
        try:
            from livekit.plugins import deepgram, openai, silero
        except ImportError as e:
            raise ProviderError(
                "livekit-agents",
                "the voice interviewer needs livekit-plugins-deepgram, -openai and -silero "
                "(pip install 'coach[voice]')",
                retryable=False,
            ) from e
        if settings.openai_api_key is None or (stt is None and settings.deepgram_api_key is None):
            raise ProviderError(
                "livekit-agents",
                "the voice interviewer needs OPENAI_API_KEY"
                + ("" if stt is not None else " and DEEPGRAM_API_KEY"),
                retryable=False,
            )
        key = settings.openai_api_key.get_secret_value()
        base = settings.openai_base_url
        if llm is None:
            llm = (
                openai.LLM(model=settings.openai_model, api_key=key, base_url=base)
                if base
                else openai.LLM(model=settings.openai_model, api_key=key)
            )
        if tts is None:
            tts = openai.TTS(api_key=key, base_url=base) if base else openai.TTS(api_key=key)
        if stt is None and settings.deepgram_api_key is not None:
            # only without a session to hear through (a standalone agent): its own Deepgram
            stt = deepgram.STT(
                model=settings.deepgram_model,
                api_key=settings.deepgram_api_key.get_secret_value(),
                filler_words=True,
                smart_format=True,
            )
        vad = vad or silero.VAD.load()
    return AgentSession(llm=llm, stt=stt, tts=tts, vad=vad, turn_handling=TURN_HANDLING)


class VoiceInterviewer:
    """A running voice interviewer in one room; `aclose()` ends it."""

    def __init__(self, session: Any, room: Any, agent: InterviewerAgent) -> None:
        self.session = session
        self.room = room
        self.agent = agent

    def usage(self) -> tuple[list[LlmCall], dict[str, float]]:
        """What it used so far: its LLM calls (one per model) and TTS seconds by model."""
        from livekit.agents.metrics.usage import LLMModelUsage, TTSModelUsage

        calls: list[LlmCall] = []
        tts: dict[str, float] = {}
        for u in self.session.usage.model_usage:
            if isinstance(u, LLMModelUsage):
                calls.append(
                    LlmCall(
                        model=u.model,
                        purpose="interviewer",
                        input_tokens=u.input_tokens,
                        output_tokens=u.output_tokens,
                    )
                )
            elif isinstance(u, TTSModelUsage):
                tts[u.model] = tts.get(u.model, 0.0) + u.audio_duration
        return calls, tts

    async def aclose(self) -> None:
        """Leave the room."""
        try:
            await self.session.aclose()
        finally:
            await self.room.disconnect()


async def start_voice_interviewer(
    settings: Settings,
    url: str,
    token: str,
    plan: InterviewPlan,
    on_question: Callable[[str], None] | None = None,
    stt: Any = None,
) -> VoiceInterviewer:
    """Join the room with `token` and start interviewing (needs LiveKit and OpenAI).

    `on_question` hears every line the interviewer says, so the session can time answers;
    `stt` is what it hears with (Deepgram's plugin when not given).
    """
    from livekit import rtc
    from livekit.agents import room_io

    session = build_session(settings, stt=stt)
    if on_question is not None:

        def said(event: Any) -> None:
            item = event.item
            if getattr(item, "role", None) == "assistant" and getattr(item, "text_content", None):
                on_question(item.text_content)

        session.on("conversation_item_added", said)
    room = rtc.Room()
    await room.connect(url, token)
    agent = InterviewerAgent(plan)
    # No job context here (livekit-agents 1.8 needs none to start a session in a room); the
    # room is never deleted by the agent, coach decides when an interview ends.
    await session.start(
        agent=agent, room=room, room_options=room_io.RoomOptions(delete_room_on_close=False)
    )
    session.generate_reply(instructions="Greet the candidate and ask the warm-up question.")
    return VoiceInterviewer(session, room, agent)


def voice_available(settings: Settings) -> bool:
    """Whether this server can run the voice interviewer for a live session (an OpenAI key)."""
    return settings.openai_api_key is not None


async def interview_session(
    settings: Settings, url: str, token: str, plan: InterviewPlan, session: Any
) -> VoiceInterviewer:
    """The voice interviewer for a live session, hearing through the session's recognizer.

    One recognizer stream serves the metrics and the conversation, so the interviewer
    reacts to the words the report counts and Deepgram is paid for once.
    """
    from coach.interviewer.session_stt import SessionSTT

    return await start_voice_interviewer(
        settings, url, token, plan, on_question=session.interviewer_said, stt=SessionSTT(session)
    )
