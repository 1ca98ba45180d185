"""The live speech-recognizer interface: audio frames in, timed word events out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from coach.providers import ProviderError
from coach.speech.words import Word


@dataclass(frozen=True, slots=True)
class Recognized:
    """One recognizer result; times are seconds since the stream's start."""

    words: tuple[Word, ...]
    is_final: bool
    speech_final: bool
    start: float
    end: float

    @property
    def text(self) -> str:
        """The result's words joined as they should be shown."""
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    """The recognizer heard a long enough gap after the word ending at `last_word_end`."""

    last_word_end: float


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began at `at`; its words come later (a recognizer without interim results)."""

    at: float


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech stopped at `at` (voice activity alone: its words may still be on the way)."""

    at: float


RecognizerEvent = Recognized | UtteranceEnd | SpeechStarted | SpeechStopped


class RecognizerStream(Protocol):
    """One live recognition session; iterate it for events until the recognizer is done."""

    dropped_bytes: int

    def push_audio(self, pcm16: bytes) -> None:
        """Queue 16-bit mono PCM at the stream's rate; past the bound the oldest is dropped."""
        ...

    def end_input(self) -> None:
        """No more audio (later pushes are ignored): flush the last results, then end."""
        ...

    def __aiter__(self) -> AsyncIterator[RecognizerEvent]:
        """Events in order; raises `ProviderError` if the recognizer fails for good."""
        ...

    async def aclose(self) -> None:
        """Stop at once, dropping pending audio and results."""
        ...


class StreamingRecognizer(Protocol):
    """A live speech recognizer that opens one stream per session."""

    name: str

    def stream(self, *, sample_rate: int, room: str | None = None) -> RecognizerStream:
        """Open a stream; must be called inside a running event loop."""
        ...


class RecognizerStreamBase:
    """What every recognizer stream shares, as livekit-agents' `RecognizeStream` does.

    The event queue and its end, a failure raised to the reader, the input's end, the tasks
    the stream owns (cancelled and awaited on `aclose`) and the counters: audio pushed and
    dropped, finals and how far behind the audio each came. A recognizer writes `_push` (take
    audio), `_input_ended` (flush) and its tasks, and reports through `_emit`, `_fail`, `_end`.
    """

    def __init__(self, *, sample_rate: int, room: str | None) -> None:
        self.sample_rate = sample_rate
        self.room = room
        self.pushed_bytes = 0
        self.dropped_bytes = 0
        self.finals = 0
        # audio seconds pushed minus the final's end when it was emitted: the recognizer's lag
        self.last_final_lag = 0.0
        self.max_final_lag = 0.0
        self.input_ended = False
        self.closed = False
        self._events: asyncio.Queue[RecognizerEvent | None] = asyncio.Queue()
        self._failure: BaseException | None = None
        self._ended = False
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def audio_seconds(self) -> float:
        """How much audio has been pushed."""
        return self.pushed_bytes / (2 * self.sample_rate)

    @property
    def dropped_seconds(self) -> float:
        """How much pushed audio was dropped unheard."""
        return self.dropped_bytes / (2 * self.sample_rate)

    def push_audio(self, pcm16: bytes) -> None:
        """Queue 16-bit mono PCM; ignored once input ended or the stream is over."""
        if len(pcm16) % 2:
            raise ValueError("PCM16 audio must hold whole 2-byte samples")
        if self.input_ended or self._ended or not pcm16:
            # a frame racing the end of the interview is normal, not an error
            return
        self.pushed_bytes += len(pcm16)
        self._push(pcm16)

    def end_input(self) -> None:
        """No more audio: flush the last results, then end."""
        if self.input_ended:
            return
        self.input_ended = True
        self._input_ended()

    def __aiter__(self) -> AsyncIterator[RecognizerEvent]:
        """Events in order; raises the stream's failure (a `ProviderError`) after the last."""
        return self._iterate()

    async def aclose(self) -> None:
        """Stop at once, dropping pending audio and results."""
        self.closed = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._end()

    # -- for recognizers ---------------------------------------------------------------

    def _push(self, pcm16: bytes) -> None:
        raise NotImplementedError

    def _input_ended(self) -> None:
        raise NotImplementedError

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=f"{name}[{self.room or '-'}]")
        self._tasks.append(task)
        return task

    def _emit(self, event: RecognizerEvent) -> None:
        if self._ended:
            return
        if isinstance(event, Recognized) and event.is_final and event.words:
            self.finals += 1
            self.last_final_lag = max(0.0, self.audio_seconds - event.end)
            self.max_final_lag = max(self.max_final_lag, self.last_final_lag)
        self._events.put_nowait(event)

    def _fail(self, error: ProviderError) -> None:
        """End the stream with `error`, raised to the reader after the events before it."""
        if self._failure is None and not self._ended:
            self._failure = error
        self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._events.put_nowait(None)

    async def _iterate(self) -> AsyncIterator[RecognizerEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)  # later iterators end too
                if self._failure is not None:
                    raise self._failure
                return
            yield event
