"""A LiveKit interview's live results, sent into its room so no client socket must reach coach.

Transcripts go on LiveKit's transcription text stream (`lk.transcription`, the attributes
LiveKit's client SDKs read); every other session event (`metrics`, `question`,
`session_complete`, `analysis_complete`, `error`) goes as its WebSocket JSON on the
`coach.events` text stream. Sending never blocks the session: a bounded queue, oldest
`metrics` dropped first when the room is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from coach.livekit.tokens import LiveKitConfig
from coach.providers import RetryPolicy
from coach.sessions.session import Event

log = logging.getLogger("coach.livekit.results")

TRANSCRIPTION_TOPIC = "lk.transcription"
EVENTS_TOPIC = "coach.events"


@dataclass(frozen=True)
class RoomMessage:
    """One text stream to send: its topic, its text and its attributes."""

    topic: str
    text: str
    attributes: dict[str, str] = field(default_factory=dict)
    superseded: bool = False  # a later message of the same kind makes this one moot


class RoomMessages:
    """Turns one session's events into room messages; transcript segments get stable ids."""

    def __init__(self, session_id: str, participant_identity: str) -> None:
        self._session_id = session_id
        self._identity = participant_identity
        self._segment = 0

    def __call__(self, event: Event) -> RoomMessage | None:
        """The message for `event`, or None for what the room does not need."""
        kind = event.get("type")
        if kind == "transcript":
            final = bool(event.get("isFinal"))
            segment = f"{self._session_id}-{self._segment}"
            if final:
                self._segment += 1
            return RoomMessage(
                TRANSCRIPTION_TOPIC,
                str(event.get("text", "")),
                {
                    "lk.segment_id": segment,
                    "lk.transcription_final": "true" if final else "false",
                    "coach.participant": self._identity,
                    "coach.start": f"{event.get('start', 0)}",
                    "coach.end": f"{event.get('end', 0)}",
                },
            )
        if kind in ("metrics", "question", "session_complete", "analysis_complete", "error"):
            text = json.dumps(event, separators=(",", ":"))
            return RoomMessage(EVENTS_TOPIC, text, superseded=kind == "metrics")
        return None


class RoomLike(Protocol):
    """The part of `rtc.Room` the results bot uses."""

    @property
    def local_participant(self) -> Any: ...

    async def connect(self, url: str, token: str) -> None: ...

    async def disconnect(self) -> None: ...


def rtc_room() -> RoomLike:
    """A new, unconnected `rtc.Room`."""
    from livekit import rtc

    room: RoomLike = rtc.Room()
    return room


class RoomResults:
    """A session sink that sends its events into the room, in order, off the session's path.

    Its own hidden bot (`results_token`) joins at the first event and stays until `aclose()`,
    after the listener has left, so `session_complete` and `analysis_complete` still arrive.
    """

    def __init__(
        self,
        messages: RoomMessages,
        config: LiveKitConfig,
        room_name: str,
        *,
        room_factory: Callable[[], RoomLike] = rtc_room,
        max_pending: int = 256,
        retry: RetryPolicy = RetryPolicy(attempts=5),  # noqa: B008 - frozen, safe to share
    ) -> None:
        self._messages = messages
        self._config = config
        self._room_name = room_name
        self._room_factory = room_factory
        self._retry = retry
        self._room: RoomLike | None = None
        self._pending: deque[RoomMessage] = deque()
        self._max = max_pending
        self._wake = asyncio.Event()
        self._closing = False
        self.sent = 0
        self.dropped = 0
        self._task = asyncio.create_task(
            self._send_all(), name=f"livekit-room-results[{room_name}]"
        )

    def __call__(self, event: Event) -> None:
        """Queue `event` (the session's sink)."""
        message = self._messages(event)
        if message is None:
            return
        if len(self._pending) >= self._max:
            # metrics are superseded by the next ones; words and outcomes are not
            old = next((m for m in self._pending if m.superseded), self._pending[0])
            self._pending.remove(old)
            self.dropped += 1
        self._pending.append(message)
        self._wake.set()

    async def _join(self) -> RoomLike | None:
        for attempt in range(1, self._retry.attempts + 1):
            room = self._room_factory()
            try:
                await room.connect(self._config.url, self._config.results_token(self._room_name))
                return room
            except Exception as e:  # the SDK's connect errors vary; all mean "try again"
                log.warning("results bot could not join room %s: %s", self._room_name, e)
                with contextlib.suppress(Exception):
                    await room.disconnect()
                if attempt < self._retry.attempts and not self._closing:
                    await asyncio.sleep(self._retry.delay(attempt))
        return None

    async def _send_all(self) -> None:
        await self._wake.wait()
        self._room = await self._join()
        if self._room is None:
            log.error("live results of room %s are not sent: cannot join it", self._room_name)
            return
        while True:
            while self._pending:
                message = self._pending.popleft()
                try:
                    await self._room.local_participant.send_text(
                        message.text, topic=message.topic, attributes=message.attributes
                    )
                except Exception as e:  # the room is going away; the stored results remain
                    log.warning("a %s stream into room %s failed: %s", message.topic,
                                self._room_name, e)  # fmt: skip
                    return
                self.sent += 1
            if self._closing:
                return
            self._wake.clear()
            await self._wake.wait()

    async def aclose(self, *, flush_seconds: float = 5.0) -> None:
        """Send what is queued (for at most `flush_seconds`), then leave the room."""
        self._closing = True
        self._wake.set()
        try:
            async with asyncio.timeout(flush_seconds):
                await asyncio.shield(self._task)
        except TimeoutError:
            log.warning("%d live results of room %s not sent", len(self._pending),
                        self._room_name)  # fmt: skip
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            if self._room is not None:
                with contextlib.suppress(Exception):
                    await self._room.disconnect()
