"""One LiveKit job, one interview: listen, measure and store it as stream mode does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from coach.audio.source import AudioSource
from coach.livekit.agent_server import AssignedJob
from coach.livekit.results import RoomLike, RoomMessages, RoomResults, rtc_room
from coach.livekit.source import LiveKitAudioSource
from coach.livekit.tokens import LiveKitConfig
from coach.sessions.manager import SessionError, SessionManager, SessionSpec
from coach.sessions.session import Event

log = logging.getLogger("coach.livekit.jobs")

SourceFactory = Callable[[str, str], AudioSource]


class InterviewJobs:
    """Runs each assigned job on the app's loop through the `SessionManager`."""

    def __init__(
        self,
        sessions: SessionManager,
        config: LiveKitConfig,
        source_for: SourceFactory | None = None,
        room_factory: Callable[[], RoomLike] | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._room_factory = room_factory or rtc_room
        self._source_for = source_for or (
            lambda room, identity: LiveKitAudioSource(
                config, room, identity, observer=sessions.metrics
            )
        )

    async def run(self, job: AssignedJob) -> None:
        """Listen until the session is stored or the job ends; what was heard is stored."""
        meta = job.metadata
        try:
            session = self._sessions.open(
                SessionSpec(
                    user_id=meta.user_id,
                    room_name=job.room_name,
                    participant_identity=meta.participant_identity,
                    source=self._source_for(job.room_name, meta.participant_identity),
                    session_id=meta.interview_id,
                )
            )
        except SessionError as e:
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
            if event.get("type") == "analysis_complete" or event.get("code") == "finish_failed":
                stored.set()

        session.attach(sink)
        try:
            await stored.wait()
        finally:
            try:
                if session.state == "live":
                    # LiveKit ended the job (room closed, instance leaving): store what was heard
                    await asyncio.shield(session.finish("job_ended"))
            finally:
                await room.aclose()
