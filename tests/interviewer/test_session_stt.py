"""The voice interviewer hears through the session's recognizer: one stream for both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import stt

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.audio.source import PushedAudio
from coach.interviewer.plan import InterviewPlan
from coach.interviewer.session_stt import SessionSTT, speech_events
from coach.livekit.agent_server import AssignedJob
from coach.livekit.dispatch import JobMetadata
from coach.livekit.jobs import InterviewJobs
from coach.sessions.session import LiveSession
from coach.speech.words import Word
from coach.store.documents import User
from coach.store.memory import in_process_client
from coach.stt.scripted import ScriptedRecognizer
from coach.stt.streaming import (
    Recognized,
    RecognizerEvent,
    SpeechStarted,
    SpeechStopped,
    UtteranceEnd,
)
from tests.livekit.test_results import FakeRoom
from tests.livekit.test_tokens import settings as livekit_settings

T = stt.SpeechEventType
EN = stt.stt.LanguageCode("en")


def said(text: str, start: float, final: bool) -> Recognized:
    words = tuple(
        Word(w, start + 0.3 * i, start + 0.3 * i + 0.25, confidence=0.8)
        for i, w in enumerate(text.split())
    )
    return Recognized(words, final, final, words[0].start, words[-1].end)


@pytest.mark.parametrize(
    ("event", "speaking", "kinds", "after"),
    [
        (SpeechStarted(1.0), False, [T.START_OF_SPEECH], True),
        (SpeechStarted(1.0), True, [], True),
        (said("I led", 1.0, False), False, [T.START_OF_SPEECH, T.INTERIM_TRANSCRIPT], True),
        (said("I led it", 1.0, True), True, [T.FINAL_TRANSCRIPT], True),
        (Recognized((), False, False, 1.0, 1.0), False, [], False),
        (UtteranceEnd(2.0), True, [T.END_OF_SPEECH], False),
        (UtteranceEnd(2.0), False, [], False),
        # voice activity stopping is not the end of a turn: the words may still be coming
        (SpeechStopped(2.0), True, [], True),
    ],
)
def test_each_recognizer_event_becomes_the_speech_events_an_agent_expects(
    event: RecognizerEvent, speaking: bool, kinds: list[stt.SpeechEventType], after: bool
) -> None:
    out, still = speech_events(event, speaking=speaking, origin=0.5, language=EN)
    assert [e.type for e in out] == kinds
    assert still is after
    for e in out:
        if e.type in (T.INTERIM_TRANSCRIPT, T.FINAL_TRANSCRIPT):
            assert isinstance(event, Recognized)
            (alt,) = e.alternatives
            assert alt.text == event.text
            # times on the agent's stream start when it was opened (session clock 0.5 s)
            assert alt.start_time == pytest.approx(event.start - 0.5)
            assert alt.end_time == pytest.approx(event.end - 0.5)
            assert alt.confidence == pytest.approx(0.8)


class Heard:
    """A session's `hear` and `clock`, driven by the test."""

    clock = 0.0

    def __init__(self) -> None:
        self.hearers: list[Callable[[RecognizerEvent], None]] = []

    def hear(self, hearer: Callable[[RecognizerEvent], None]) -> Callable[[], None]:
        self.hearers.append(hearer)
        return lambda: self.hearers.remove(hearer)

    def say(self, event: RecognizerEvent) -> None:
        for h in list(self.hearers):
            h(event)


async def until(check: Callable[[], bool], within: float = 30) -> None:
    # the agent's stream and the session run as tasks: polling is how the test sees them
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.02)


async def test_the_agent_s_stream_replays_the_session_and_ignores_its_audio() -> None:
    heard = Heard()
    stream = SessionSTT(heard).stream()
    got: list[stt.SpeechEvent] = []

    async def read() -> None:
        async for e in stream:
            got.append(e)

    reader = asyncio.create_task(read())
    await until(lambda: len(heard.hearers) == 1)
    # the room's audio pushed by the agent goes nowhere: the session already hears it
    stream.push_frame(rtc.AudioFrame(b"\0\0" * 160, 16_000, 1, 160))
    for event in (said("I led", 1.0, False), said("I led the team", 1.0, True), UtteranceEnd(2.2)):
        heard.say(event)
    await until(lambda: len(got) == 4)
    assert [e.type for e in got] == [
        T.START_OF_SPEECH, T.INTERIM_TRANSCRIPT, T.FINAL_TRANSCRIPT, T.END_OF_SPEECH
    ]  # fmt: skip
    assert got[2].alternatives[0].text == "I led the team"
    # the agent ends its input: the stream ends and stops listening to the session
    stream.end_input()
    await asyncio.wait_for(reader, 10)
    assert heard.hearers == []
    await stream.aclose()


async def test_a_livekit_job_s_voice_interviewer_hears_through_the_one_recognizer_stream(
    tmp_path: Path,
) -> None:
    words = [Word(w, 0.2 + 0.3 * i, 0.45 + 0.3 * i) for i, w in enumerate("I led the team".split())]
    recognizer = ScriptedRecognizer.from_words(words)
    c = in_process_client()
    app = create_app(livekit_settings(data_dir=tmp_path), analyzer=OfflineCoach(),
                     database=(c, c["coach"]), recognizer=recognizer)  # fmt: skip
    async with app.router.lifespan_context(app):
        services = app.state.services
        source = PushedAudio()
        voices: list[Any] = []
        heard: list[stt.SpeechEvent] = []

        class Voice:
            """What the job starts: an agent's STT stream on the session, closed at the end."""

            def __init__(self, session: LiveSession) -> None:
                self.session = session
                self.stream = SessionSTT(session).stream()
                self.reader = asyncio.create_task(self._read())
                self.closed = False

            async def _read(self) -> None:
                async for e in self.stream:
                    heard.append(e)

            async def aclose(self) -> None:
                self.closed = True
                await self.stream.aclose()
                self.reader.cancel()

        async def voice(session: LiveSession, plan: InterviewPlan, room: str) -> Voice:
            assert (plan.role, room) == ("Nurse", "room-v")
            voices.append(Voice(session))
            return voices[-1]

        await User(id="u1", email="u1@example.com", password_hash="-").insert()
        jobs = InterviewJobs(services.sessions, services.livekit, source_for=lambda r, i: source,
                             room_factory=FakeRoom, voice=voice)  # fmt: skip
        meta = JobMetadata(interview_id="ivvoice1", user_id="u1", participant_identity="u1",
                           plan=InterviewPlan(role="Nurse", questions=1))  # fmt: skip
        job = asyncio.create_task(jobs.run(AssignedJob("AJ_v", "room-v", meta)))
        await until(lambda: len(voices) == 1)
        for _ in range(100):  # 2 s of audio, in 20 ms frames
            source.push(b"\0\0" * 320)
        await until(lambda: any(e.type == T.FINAL_TRANSCRIPT for e in heard))
        final = next(e for e in heard if e.type == T.FINAL_TRANSCRIPT)
        assert final.alternatives[0].text == "I led the team"
        # one recognizer stream served the metrics and the interviewer
        assert len(recognizer.streams) == 1
        # LiveKit ends the job: the session is stored and the interviewer leaves with it
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
        session = voices[0].session
        await until(lambda: session.interview_id is not None)
        assert voices[0].closed
