"""Starting a live session: a start request in, a running session (and any notices) out.

Every network step (the rate limit's store, the room claim, the user's data key, the voice
interviewer, Egress) runs under its own timeout and fails with its own error code, so a slow
database or LiveKit server costs the client one clear error, never a socket that hangs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from coach.audio.source import AudioLimitError, AudioSource, PushedAudio
from coach.drills import DrillInterviewer, DrillRequest, new_drill
from coach.encryption import EncryptionError
from coach.interviewer.factory import PlanError
from coach.livekit.rooms import claim_room
from coach.livekit.source import LiveKitAudioSource
from coach.providers import ProviderObserver
from coach.ratelimits import RateLimited
from coach.services import Services
from coach.sessions.manager import SessionError, SessionSpec
from coach.sessions.session import Interviewer, LiveSession

log = logging.getLogger("coach.sessions.start")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What a client's `start` asks for, already parsed (docs/protocol.md)."""

    user_id: str
    address: str
    # stream mode (audio on the socket) at this rate when set; LiveKit mode otherwise
    sample_rate: int | None = None
    room_name: str | None = None
    participant_identity: str | None = None
    plan: dict[str, Any] | None = None
    drill: DrillRequest | None = None


class StartError(Exception):
    """The session was not started; `code` says which step refused or failed."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after


@dataclass(frozen=True, slots=True)
class Notice:
    """Something that went wrong while starting, though the session goes on without it."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StartTimeouts:
    """How long each network step of a start may take, in seconds."""

    database: float = 10.0
    voice: float = 20.0
    egress: float = 15.0


@dataclass(slots=True)
class Started:
    """A running session and what the client should hear about its start."""

    session: LiveSession
    notices: list[Notice] = field(default_factory=list)


class SessionStarter:
    """Turns start requests into live sessions: checks, claims, sources, interviewers."""

    def __init__(
        self,
        services: Services,
        *,
        observer: ProviderObserver | None = None,
        timeouts: StartTimeouts | None = None,
    ) -> None:
        self.services = services
        self.observer = observer
        self.timeouts = timeouts or StartTimeouts()

    async def _step(self, call: Awaitable[T], *, seconds: float, code: str, what: str) -> T:
        try:
            async with asyncio.timeout(seconds):
                return await call
        except (RateLimited, EncryptionError):
            raise
        except Exception as e:  # a timeout, a provider or a database error: one clear answer
            log.error("starting a session: %s failed: %s", what, str(e) or type(e).__name__)
            raise StartError(code, f"{what} is unavailable right now; try again shortly") from e

    async def start(self, request: StartRequest) -> Started:
        """Start the session `request` asks for, or raise `StartError`."""
        services, t = self.services, self.timeouts
        stream_mode = request.sample_rate is not None
        try:
            await self._step(
                services.rate_limits.hit(
                    "session", address=request.address, account=request.user_id
                ),
                seconds=t.database,
                code="rate_limit_unavailable",
                what="the rate limiter",
            )
        except RateLimited as e:
            raise StartError("rate_limited", str(e), retry_after=e.retry_after) from e
        if request.drill is not None and request.plan is not None:
            raise StartError("bad_start", "send either plan (an interview) or drill, not both")
        if not stream_mode:
            self._check_livekit(request)
        # a session names only rooms its user holds (for one interview's length)
        if request.room_name is not None:
            claimed = await self._step(
                claim_room(request.user_id, request.room_name, services.settings.room_hold),
                seconds=t.database,
                code="room_check_failed",
                what="the room check",
            )
            if not claimed:
                raise StartError("room_taken", "this room belongs to another user")
        try:
            data_key = await self._step(
                services.sessions.data_key(request.user_id),
                seconds=t.database,
                code="account_key_unavailable",
                what="your account's data key",
            )
        except EncryptionError as e:  # the account is gone (erased mid-request)
            log.warning("start refused: %s", e)
            raise StartError("account_erased", "this account no longer exists") from e
        session = self._open(request, data_key)
        started = Started(session)
        if not stream_mode:
            await self._livekit_extras(request, started)
        return started

    def _check_livekit(self, request: StartRequest) -> None:
        if self.services.livekit is None:
            raise StartError(
                "livekit_not_configured",
                "LiveKit mode needs LIVEKIT_URL/API_KEY/API_SECRET on the server; "
                'send "audio" to stream the microphone over this socket instead',
            )
        if not request.room_name:
            raise StartError("bad_start", "LiveKit mode needs roomName")
        # the candidate's LiveKit token carries their user id as identity: that is the only
        # participant a session of theirs may listen to
        if request.participant_identity not in (None, request.user_id):
            raise StartError(
                "identity_not_yours",
                "participantIdentity must be your own LiveKit identity (your user id, as in "
                "the token from POST /api/livekit/token), or left out",
            )

    def _open(self, request: StartRequest, data_key: bytes | None) -> LiveSession:
        services = self.services
        manager = services.sessions
        stream_mode = request.sample_rate is not None
        try:
            source: AudioSource
            if request.sample_rate is not None:
                source = PushedAudio(
                    request.sample_rate, max_frame_bytes=manager.limits.max_frame_bytes
                )
            else:
                assert services.livekit is not None and request.room_name is not None
                source = LiveKitAudioSource(
                    services.livekit, request.room_name, request.user_id, observer=self.observer
                )
            drill = new_drill(request.drill) if request.drill is not None else None
            interviewer: Interviewer | None = None
            if drill is not None:
                interviewer = DrillInterviewer(drill)
            elif request.plan and stream_mode:
                # stream mode: the text interviewer; LiveKit mode: the voice interviewer
                interviewer = services.interviewer_for(request.plan)
            session = manager.open(
                SessionSpec(
                    user_id=request.user_id,
                    room_name=request.room_name or f"practice-{uuid.uuid4().hex[:16]}",
                    participant_identity=request.participant_identity or request.user_id,
                    source=source,
                    interviewer=interviewer,
                    # LiveKit mode is recorded by Egress, in the room, when configured
                    record=services.settings.record_audio and stream_mode,
                    address=request.address,
                    data_key=data_key,
                    drill=drill,
                )
            )
        except (SessionError, AudioLimitError) as e:
            raise StartError(e.code, str(e)) from e
        except PlanError as e:
            raise StartError("bad_plan", str(e)) from e
        return session

    async def _livekit_extras(self, request: StartRequest, started: Started) -> None:
        services, session = self.services, started.session
        if request.plan and request.drill is None and services.livekit is not None:
            notice = await self._start_voice(session, request.plan)
            if notice is not None:
                started.notices.append(notice)
        egress = services.egress
        if egress is not None:
            try:
                session.egress_id = await self._step(
                    egress.start(session.room_name),
                    seconds=self.timeouts.egress,
                    code="recording_unavailable",
                    what="the recording",
                )
            except StartError as e:
                # the interview matters more than its recording: go on without one
                log.error("egress for session %s did not start: %s", session.id, e.__cause__)
                started.notices.append(
                    Notice(
                        "recording_unavailable",
                        "the recording could not start; the interview goes on unrecorded",
                    )
                )

    async def _start_voice(self, session: LiveSession, raw_plan: dict[str, Any]) -> Notice | None:
        config, settings = self.services.livekit, self.services.settings
        assert config is not None
        from coach.interviewer.agent import interview_session, voice_available
        from coach.interviewer.plan import InterviewPlan

        if not voice_available(settings):
            why = "the voice interviewer needs OPENAI_API_KEY on the server"
            return Notice("interviewer_unavailable", why)
        try:
            plan = InterviewPlan.model_validate(raw_plan)
            token = config.interviewer_token(session.room_name)
            async with asyncio.timeout(self.timeouts.voice):
                session.voice = await interview_session(settings, config.url, token, plan, session)
        except Exception as e:  # the interview can go on without the AI voice
            log.error("voice interviewer of session %s failed: %s", session.id,
                      str(e) or type(e).__name__)  # fmt: skip
            # the client hears what happened, never the internal reason
            return Notice(
                "interviewer_unavailable",
                "the voice interviewer could not start; the interview goes on without it",
            )
        return None
