"""The voice interviewer hears through the live session's own recognizer: one stream, not two.

livekit-agents' `AgentSession` wants an `stt.STT`. Giving it Deepgram's plugin would open a
second Deepgram socket on the same audio (billed per minute, twice) and a second transcript
that could disagree with the one the metrics are computed from. `SessionSTT` is an STT whose
streams ignore the audio pushed into them and replay what the session's recognizer heard,
so the interviewer reacts to exactly the words the report counts, with any recognizer
(Deepgram, local Whisper, scripted).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Literal, Protocol

from livekit.agents import stt
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer

from coach.stt.streaming import Recognized, RecognizerEvent, SpeechStarted, UtteranceEnd

# the events a slow agent has not read yet; past it the oldest interim is what is lost
_BACKLOG = 256


class Hearable(Protocol):
    """What `SessionSTT` listens to: a live session's recognizer events."""

    @property
    def clock(self) -> float:
        """Seconds of audio heard so far."""
        ...

    def hear(self, hearer: Callable[[RecognizerEvent], None]) -> Callable[[], None]:
        """Register a callback for every recognizer event; returns a stop function."""
        ...


class SessionSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """An `stt.STT` for the voice interviewer that forwards a session's recognizer events."""

    def __init__(self, session: Hearable, language: str = "en") -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=True, interim_results=True, offline_recognize=False
            )
        )
        self._session = session
        self._language = LanguageCode(language)

    @property
    def model(self) -> str:
        """The recognizer is the session's: this STT adds none of its own."""
        return "coach-session"

    @property
    def provider(self) -> str:
        """Shown in livekit-agents' metrics."""
        return "coach"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        raise NotImplementedError("SessionSTT only streams what the session recognizes")

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        """A stream of the session's recognition from now on."""
        return _SessionStream(self, self._session, self._language, conn_options)


def speech_events(
    event: RecognizerEvent, *, speaking: bool, origin: float, language: LanguageCode
) -> tuple[list[stt.SpeechEvent], bool]:
    """The livekit speech events for one recognizer event, and whether speech goes on after it."""
    out: list[stt.SpeechEvent] = []
    if isinstance(event, SpeechStarted):
        if not speaking:
            out.append(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH))
        return out, True
    if isinstance(event, Recognized):
        if not event.words:
            return out, speaking
        if not speaking:
            out.append(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH))
        confidence = sum(w.confidence for w in event.words) / len(event.words)
        kind = (
            stt.SpeechEventType.FINAL_TRANSCRIPT
            if event.is_final
            else stt.SpeechEventType.INTERIM_TRANSCRIPT
        )
        data = stt.SpeechData(
            language=language,
            text=event.text,
            start_time=max(0.0, event.start - origin),
            end_time=max(0.0, event.end - origin),
            confidence=confidence,
        )
        out.append(stt.SpeechEvent(type=kind, alternatives=[data]))
        return out, True
    if isinstance(event, UtteranceEnd) and speaking:
        out.append(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))
        return out, False
    return out, speaking


class _SessionStream(stt.RecognizeStream):
    def __init__(
        self,
        owner: SessionSTT,
        session: Hearable,
        language: LanguageCode,
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(stt=owner, conn_options=conn_options)
        self._session = session
        self._language = language

    async def _run(self) -> None:
        # None: the agent ended its input, so the stream ends
        heard: asyncio.Queue[RecognizerEvent | None] = asyncio.Queue(_BACKLOG)

        def hearer(event: RecognizerEvent | None) -> None:
            if heard.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    heard.get_nowait()
            heard.put_nowait(event)

        stop = self._session.hear(hearer)
        # times on the agent's stream start when it opened, the session's when it began
        origin = self._session.clock
        drain = asyncio.create_task(self._drain_input(hearer), name="session-stt-drain")
        speaking = False
        try:
            while (event := await heard.get()) is not None:
                out, speaking = speech_events(
                    event, speaking=speaking, origin=origin, language=self._language
                )
                for speech in out:
                    self._event_ch.send_nowait(speech)
        finally:
            stop()
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain

    async def _drain_input(self, hearer: Callable[[RecognizerEvent | None], None]) -> None:
        # the agent pushes the room's audio here too; the session already hears it
        async for _ in self._input_ch:
            pass
        hearer(None)
