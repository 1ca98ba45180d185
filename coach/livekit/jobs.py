"""One LiveKit job, one interview: listen, measure and store it as stream mode does."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgi_correlation_id import correlation_id

from coach.audio.source import AudioSource
from coach.encryption import EncryptionError
from coach.interviewer.plan import InterviewPlan
from coach.livekit.agent_server import AssignedJob
from coach.livekit.results import RoomLike, RoomMessages, RoomResults, rtc_room
from coach.livekit.source import LiveKitAudioSource
from coach.livekit.tokens import LiveKitConfig
from coach.sessions.manager import SessionError, SessionManager, SessionSpec
from coach.sessions.session import Event, LiveSession

log = logging.getLogger("coach.livekit.jobs")

SourceFactory = Callable[[str, str], AudioSource]
# the voice interviewer for a session, in a room, on a plan; closed by the session at its end
VoiceStarter = Callable[[LiveSession, InterviewPlan, str], Awaitable[Any]]

# joining the room and starting the agent; past it the interview goes on without a voice
VOICE_START_TIMEOUT = 30.0


class InterviewJobs:
    """Runs each assigned job on the app's loop through the `SessionManager`."""

    def __init__(
        self,
        sessions: SessionManager,
        config: LiveKitConfig,
        source_for: SourceFactory | None = None,
        room_factory: Callable[[], RoomLike] | None = None,
        voice: VoiceStarter | None = None,
    ) -> None:
        self._sessions = sessions
        self._voice = voice
        self._config = config
        self._room_factory = room_factory or rtc_room
        self._source_for = source_for or (
            lambda room, identity: LiveKitAudioSource(
                config, room, identity, observer=sessions.metrics
            )
        )

    async def run(self, job: AssignedJob) -> None:
        """Listen until the session is stored or the job ends; what was heard is stored."""
        # no request brings a dispatched job: it gets a request id of its own for its lines
        correlation_id.set(uuid.uuid4().hex)
        meta = job.metadata
        try:
            data_key = await self._sessions.data_key(meta.user_id)
            session = self._sessions.open(
                SessionSpec(
                    user_id=meta.user_id,
                    room_name=job.room_name,
                    participant_identity=meta.participant_identity,
                    source=self._source_for(job.room_name, meta.participant_identity),
                    session_id=meta.interview_id,
                    data_key=data_key,
                )
            )
        except (SessionError, EncryptionError) as e:
            log.error("job %s (interview %s) refused: %s", job.job_id, meta.interview_id, e)
            return
        stored = asyncio.Event()
        room = RoomResults(
            RoomMessages(meta.interview_id, meta.participant_identity),
            self._config,
            job.room_name,
            room_factory=self._room_factory,
        )

        def sink(event: Event) -> None:
            room(event)
            if event.get("type") == "analysis_complete" or event.get("code") in (
                "finish_failed",
                "account_erased",
            ):
                stored.set()

        session.attach(sink)
        try:
            if self._voice is not None and meta.plan is not None:
                await self._start_voice(session, meta.plan, job)
            await stored.wait()
        finally:
            try:
                if session.state == "live":
                    # LiveKit ended the job (room closed, instance leaving): store what was heard
                    await asyncio.shield(session.finish("job_ended"))
            finally:
                await room.aclose()

    async def _start_voice(
        self, session: LiveSession, plan: InterviewPlan, job: AssignedJob
    ) -> None:
        assert self._voice is not None
        try:
            async with asyncio.timeout(VOICE_START_TIMEOUT):
                session.voice = await self._voice(session, plan, job.room_name)
        except Exception as e:  # the interview can go on without the AI voice
            log.error("voice interviewer of interview %s failed: %s", session.id, e)
            session.error(
                "interviewer_unavailable",
                "the voice interviewer could not start; the interview goes on without it",
            )
