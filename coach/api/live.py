"""The client WebSocket at `/`: start, stream audio, complete, resume (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from coach.audio.source import AudioLimitError, PushedAudio
from coach.drills import DrillRequest
from coach.error_reports import report_error
from coach.sessions.manager import SessionError
from coach.sessions.session import Event, LiveSession
from coach.sessions.start import StartError, StartRequest
from coach.validation import first_error

log = logging.getLogger("coach.api.live")

CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN = 1013
_SEND_QUEUE = 1000


class AudioFormat(BaseModel):
    """The audio a stream-mode client will send."""

    model_config = ConfigDict(extra="forbid", strict=True)

    encoding: str = Field("linear16", pattern="^linear16$")
    sampleRate: int = Field(16_000, ge=8_000, le=48_000)


class StartMessage(BaseModel):
    """`{"action":"start", ...}`: stream mode when `audio` is given, else LiveKit mode."""

    # strict: "16000" is not a sample rate; what docs/protocol.md shows is what is accepted
    model_config = ConfigDict(extra="ignore", strict=True)

    action: str
    roomName: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[\w.:-]+$")
    participantIdentity: str | None = Field(None, min_length=1, max_length=200)
    audio: AudioFormat | None = None
    plan: dict[str, Any] | None = None
    drill: DrillRequest | None = None


class ResumeMessage(BaseModel):
    """`{"action":"resume","sessionId":..., "lastSeq": n}`."""

    model_config = ConfigDict(strict=True)

    action: str
    sessionId: str = Field(min_length=1, max_length=64)
    lastSeq: int | None = Field(None, ge=0)


class _Link:
    """One socket's outgoing side: a queue drained by a writer task.

    Interims and metrics beyond the bound are dropped (the next ones supersede them);
    numbered events are always queued: they are already held in the session's log, so
    queuing them costs a reference, and losing one would cost the client a word.
    """

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.queue: deque[Event] = deque()
        self.ready = asyncio.Event()
        self.written_seq = 0
        self.dropped = 0
        self.task: asyncio.Task[None] | None = asyncio.create_task(self._write(), name="ws-writer")

    def send(self, event: Event) -> None:
        if "seq" not in event and len(self.queue) >= _SEND_QUEUE:
            self.dropped += 1
            return
        self.queue.append(event)
        self.ready.set()

    async def _write(self) -> None:
        while True:
            while self.queue:
                event = self.queue.popleft()
                await self.ws.send_text(json.dumps(event))
                if "seq" in event:
                    self.written_seq = int(event["seq"])
            self.ready.clear()
            await self.ready.wait()

    async def aclose(self) -> None:
        # dropped once stopped: the cancelled task's traceback holds this link (a cycle)
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _ready(session: LiveSession, **more: Any) -> Event:
    """The `ready` event of a session started or taken back (a drill's names the drill)."""
    ready: Event = {"type": "ready", "sessionId": session.id, "roomName": session.room_name}
    ready.update(more)
    if session.drill is not None:
        ready["drill"] = session.drill.model_dump(mode="json", by_alias=True)
    return ready


class UrlCredential(Exception):
    """A long-lived credential was put in the URL; it is refused, never used."""


def _bearer(ws: WebSocket) -> str | None:
    header = ws.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


async def _user_id(ws: WebSocket) -> str | None:
    """The signed-in user: a JWT in the Authorization header, or a single-use `?ticket=`."""
    services = ws.app.state.services
    if "token" in ws.query_params:
        raise UrlCredential
    token = _bearer(ws)
    if token is not None:
        user = await services.users.bearer(services.tokens.verify(token))
        return user.id if user is not None else None
    if ticket := ws.query_params.get("ticket"):
        user_id = services.tickets.redeem(ticket)
        found = await services.users.get(user_id) if user_id is not None else None
        return found.id if found is not None else None
    return None


class _Connection:
    """The state of one client socket."""

    def __init__(self, ws: WebSocket, user_id: str, link: _Link) -> None:
        self.ws, self.user_id, self.link = ws, user_id, link
        self.address = ws.client.host if ws.client is not None else "unknown"
        self.services = ws.app.state.services
        self.session: LiveSession | None = None

    def error(self, code: str, message: str) -> None:
        self.link.send({"type": "error", "code": code, "message": message})

    async def on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
            self.error("bad_json", "messages must be JSON objects")
            return
        if not isinstance(message, dict):
            self.error("bad_json", "messages must be JSON objects")
            return
        action = message.get("action")
        if action == "start":
            await self.start(message)
        elif action == "complete":
            self.complete()
        elif action == "next":
            self.next_question()
        elif action == "resume":
            self.resume(message)
        else:
            self.error("unknown_action", f"unknown action {action!r}; see docs/protocol.md")

    async def start(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            self.error("already_started", "this socket already has a session")
            return
        try:
            start = StartMessage.model_validate(message)
        except ValidationError as e:
            self.error("bad_start", first_error(e, whole="message"))
            return
        request = StartRequest(
            user_id=self.user_id,
            address=self.address,
            sample_rate=start.audio.sampleRate if start.audio is not None else None,
            room_name=start.roomName,
            participant_identity=start.participantIdentity,
            plan=start.plan,
            drill=start.drill,
        )
        try:
            started = await self.ws.app.state.starter.start(request)
        except StartError as e:
            event: Event = {"type": "error", "code": e.code, "message": e.message}
            if e.retry_after is not None:
                event["retryAfter"] = e.retry_after
            self.link.send(event)
            return
        self.session = session = started.session
        self.link.send(_ready(session))
        session.attach(self.link.send)
        for notice in started.notices:
            self.error(notice.code, notice.message)

    def resume(self, message: dict[str, Any]) -> None:
        if self.session is not None:
            self.error("already_started", "this socket already has a session")
            return
        try:
            resume = ResumeMessage.model_validate(message)
            session = self.services.sessions.resume(self.user_id, resume.sessionId)
        except ValidationError as e:
            self.error("bad_resume", first_error(e, whole="message"))
            return
        except SessionError as e:
            self.error(e.code, e.message)
            return
        self.session = session
        self.link.send(_ready(session, resumed=True, state=session.state))
        session.attach(self.link.send, last_seq=resume.lastSeq)

    def next_question(self) -> None:
        if self.session is None:
            self.error("not_started", "send start before next")
            return
        if not self.session.next_question():
            self.error(
                "no_next_question",
                "there is no question to move on to (no interviewer plan, or the interview "
                "is over: send complete)",
            )

    def complete(self) -> None:
        if self.session is None:
            self.error("not_started", "send start before complete")
            return
        self.session.finish("complete")

    def on_audio(self, data: bytes) -> None:
        session = self.session
        if session is None:
            self.error("not_started", "send start before audio")
            return
        if session.state != "live":
            return  # frames racing `complete` are expected; the interview is over
        source = session.source
        if not isinstance(source, PushedAudio):
            self.error("not_stream_mode", "this session takes its audio from LiveKit")
            return
        try:
            source.push(data)
        except AudioLimitError as e:
            self.error(e.code, str(e))

    def gone(self) -> None:
        session = self.session
        if session is None:
            return
        # Events still queued for the dead socket were never sent: a resume replays them.
        session.detach(delivered=self.link.written_seq)
        if session.state == "live":
            self.services.sessions.dropped(session)


async def live_socket(ws: WebSocket) -> None:
    """One client connection; the session it starts outlives it for the grace period."""
    await ws.accept()
    metrics = ws.app.state.metrics
    metrics.ws_connects.inc()
    try:
        user_id = await _user_id(ws)
    except UrlCredential:
        metrics.ws_refusals.labels(str(CLOSE_UNAUTHORIZED)).inc()
        await ws.close(
            CLOSE_UNAUTHORIZED,
            "tokens in URLs are refused: use the Authorization header or a ticket",
        )
        return
    except Exception as e:  # the user lookup needs the database; say "try again", not a crash
        log.error("cannot check the user of a WebSocket: %s", e)
        metrics.ws_refusals.labels(str(CLOSE_TRY_AGAIN)).inc()
        await ws.close(CLOSE_TRY_AGAIN, "the database is unavailable; try again shortly")
        return
    if user_id is None:
        metrics.ws_refusals.labels(str(CLOSE_UNAUTHORIZED)).inc()
        await ws.close(CLOSE_UNAUTHORIZED, "missing, invalid or expired token or ticket")
        return
    link = _Link(ws)
    conn = _Connection(ws, user_id, link)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                if message.get("bytes") is not None:
                    conn.on_audio(message["bytes"])
                elif message.get("text") is not None:
                    await conn.on_text(message["text"])
            except Exception as e:  # a bug must cost one message, not the interview
                log.exception("handling a client message failed: %s", e)
                report_error(e)
                conn.error("internal_error", "the server could not handle that message")
    except WebSocketDisconnect:
        pass
    finally:
        if conn.session is not None and conn.session.state == "live":
            metrics.ws_drops.inc()
        metrics.ws_events_dropped.inc(link.dropped)
        conn.gone()
        await link.aclose()


LIVE_ROUTES = [WebSocketRoute("/", live_socket)]
