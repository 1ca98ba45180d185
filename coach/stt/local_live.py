"""Local live speech-to-text: Silero VAD cuts utterances as audio streams in, Whisper transcribes.

Nothing here needs a network or a key. VAD runs on each new block in a worker thread; whole
utterances go to one shared Whisper worker thread, so sessions queue for the model instead of
fighting over two cores, and the event loop never blocks on either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.providers import ProviderError
from coach.speech.words import Word
from coach.stt.streaming import Recognized, RecognizerEvent, SpeechStarted, UtteranceEnd

log = logging.getLogger("coach.stt.local_live")

Samples = npt.NDArray[np.float32]
SpeechProbabilities = Callable[[Samples], npt.NDArray[np.float32]]
Transcribe = Callable[[Samples, float], list[Word]]

_CHUNK = 512  # Silero's window at 16 kHz


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """When an utterance starts and ends, in seconds unless named otherwise."""

    threshold: float = 0.5
    # Silero's own hysteresis: speech continues until the probability falls this far below.
    release: float = 0.15
    min_speech: float = 0.12
    # A gap this long closes the utterance and sends it to Whisper.
    cut_silence: float = 0.5
    # A gap this long is an utterance end for the session (Deepgram's utterance_end_ms).
    utterance_end: float = 1.0
    pad: float = 0.2
    max_utterance: float = 28.0
    # Audio held for Whisper when it falls behind; past this the oldest is dropped.
    max_backlog: float = 120.0


@dataclass(frozen=True, slots=True)
class _Utterance:
    audio: Samples
    offset: float


@dataclass(frozen=True, slots=True)
class _End:
    at: float


@dataclass(frozen=True, slots=True)
class _Start:
    at: float


class _Endpointer:
    """Speech probabilities per 32 ms chunk in, utterances and utterance ends out."""

    def __init__(self, config: EndpointConfig, rate: int) -> None:
        self.c = config
        self.rate = rate
        self.audio = np.empty(0, dtype=np.float32)
        self.audio_start = 0  # absolute sample index of audio[0]
        self.chunks = 0  # chunks scored so far
        self.speech_start: int | None = None
        self.announced = False
        self.floor = 0  # end of the audio the last utterance took
        self.last_speech_end: int | None = None  # end of the last speech chunk
        self.end_sent = True
        self.heard_any = False

    def add_audio(self, samples: Samples) -> None:
        self.audio = np.concatenate([self.audio, samples])

    def scorable(self) -> Samples:
        """Unscored whole chunks, with one chunk of context before them when there is one."""
        first = self.chunks * _CHUNK - self.audio_start
        last = first + (self.audio.size - first) // _CHUNK * _CHUNK
        ctx = max(first - _CHUNK, 0)
        return self.audio[ctx:last]

    def has_context(self) -> bool:
        return self.chunks * _CHUNK - self.audio_start >= _CHUNK

    def feed(self, probs: npt.NDArray[np.float32]) -> list[_Utterance | _End | _Start]:
        out: list[_Utterance | _End | _Start] = []
        c, rate = self.c, self.rate
        for p in probs:
            start = self.chunks * _CHUNK
            self.chunks += 1
            end = start + _CHUNK
            in_speech = self.speech_start is not None
            if p >= c.threshold or (in_speech and p >= c.threshold - c.release):
                if self.speech_start is None:
                    self.speech_start = start
                    self.announced = False
                self.last_speech_end = end
                if not self.announced and (end - self.speech_start) / rate >= c.min_speech:
                    # announced once it is long enough to be speech, not a click
                    self.announced = True
                    out.append(_Start(self.speech_start / rate))
                if (end - self.speech_start) / rate >= c.max_utterance:
                    # Whisper takes 30 s at most: cut here, the rest is the next utterance
                    out.extend(self._close(at=end))
                continue
            if self.speech_start is not None and self.last_speech_end is not None:
                gap = (end - self.last_speech_end) / rate
                if gap >= c.cut_silence:
                    out.extend(self._close())
            if (
                not self.end_sent
                and self.speech_start is None
                and self.last_speech_end is not None
                and (end - self.last_speech_end) / rate >= c.utterance_end
            ):
                self.end_sent = True
                out.append(_End(self.last_speech_end / rate))
        self._trim()
        return out

    def _close(self, at: int | None = None) -> list[_Utterance | _End]:
        assert self.speech_start is not None and self.last_speech_end is not None
        start, end = self.speech_start, at if at is not None else self.last_speech_end
        self.speech_start = None
        if at is not None:
            self.last_speech_end = at
        if (end - start) / self.rate < self.c.min_speech:
            return []
        pad = int(self.c.pad * self.rate)
        # Padding never reaches back into audio an earlier utterance already covered, and a
        # forced cut is not padded forward: either would transcribe words twice.
        lo = max(start - pad, self.audio_start, self.floor)
        hi = min(end + (0 if at is not None else pad), self.audio_start + self.audio.size)
        self.floor = hi
        clip = self.audio[lo - self.audio_start : hi - self.audio_start].copy()
        self.end_sent = False
        self.heard_any = True
        return [_Utterance(clip, lo / self.rate)]

    def finish(self) -> list[_Utterance | _End]:
        out: list[_Utterance | _End] = []
        if self.speech_start is not None and self.last_speech_end is not None:
            out.extend(self._close(at=self.audio_start + self.audio.size))
        if not self.end_sent and self.last_speech_end is not None:
            self.end_sent = True
            out.append(_End(self.last_speech_end / self.rate))
        return out

    def _trim(self) -> None:
        # Keep the open utterance, or a padding's worth of lead-in while nobody speaks.
        keep_from = self.chunks * _CHUNK - int(self.c.pad * self.rate) - _CHUNK
        if self.speech_start is not None:
            keep_from = min(keep_from, self.speech_start - int(self.c.pad * self.rate))
        cut = keep_from - self.audio_start
        if cut > 0:
            self.audio = self.audio[cut:]
            self.audio_start += cut


def silero_probabilities() -> SpeechProbabilities:
    """Silero VAD speech probability per 512-sample chunk, from the model faster-whisper ships."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()

    def probs(samples: Samples) -> npt.NDArray[np.float32]:
        if samples.size == 0:
            return np.empty(0, dtype=np.float32)
        out: Any = model(samples)
        return np.asarray(out, dtype=np.float32).reshape(-1)

    return probs


class LocalLiveRecognizer:
    """Streams through Silero VAD and a shared local Whisper; implements `StreamingRecognizer`."""

    name = "local"

    def __init__(
        self,
        transcribe: Transcribe,
        *,
        probabilities: SpeechProbabilities | None = None,
        endpoint: EndpointConfig | None = None,
    ) -> None:
        self._transcribe = transcribe
        self._probabilities = probabilities
        self.endpoint = endpoint or EndpointConfig()
        # One thread: utterances from every session queue for the model in arrival order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-whisper")

    def _probs(self) -> SpeechProbabilities:
        if self._probabilities is None:
            self._probabilities = silero_probabilities()
        return self._probabilities

    def stream(self, *, sample_rate: int, room: str | None = None) -> LocalLiveStream:
        """Open a stream; must be called inside a running event loop."""
        return LocalLiveStream(self, sample_rate=sample_rate, room=room)

    async def run_whisper(self, audio: Samples, offset: float) -> list[Word]:
        """Transcribe one utterance on the shared worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transcribe, audio, offset)

    async def aclose(self) -> None:
        """Stop the worker thread once the utterance it is on is done."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


class LocalLiveStream:
    """One session's stream: implements `RecognizerStream` (finals only, no interims)."""

    def __init__(self, owner: LocalLiveRecognizer, *, sample_rate: int, room: str | None) -> None:
        if sample_rate != 16_000:
            raise ValueError("the local recognizer takes 16 kHz audio")
        self._owner = owner
        self._room = room
        self._endpointer = _Endpointer(owner.endpoint, sample_rate)
        self._pending: deque[bytes] = deque()
        self._pending_bytes = 0
        self._max_pending = int(owner.endpoint.max_backlog * sample_rate) * 2
        self._audio_ready = asyncio.Event()
        self._input_ended = False
        self._work: asyncio.Queue[_Utterance | _End | None] = asyncio.Queue(maxsize=8)
        self._events: asyncio.Queue[RecognizerEvent | None] = asyncio.Queue()
        self._failure: BaseException | None = None
        self._last_word_end = 0.0
        self.dropped_bytes = 0
        name = room or "-"
        self._tasks = [
            asyncio.create_task(self._segment(), name=f"local-stt-vad[{name}]"),
            asyncio.create_task(self._recognize(), name=f"local-stt-whisper[{name}]"),
        ]

    def push_audio(self, pcm16: bytes) -> None:
        """Queue 16-bit mono PCM; past the backlog bound the oldest audio is dropped."""
        if self._input_ended or not pcm16:
            return
        self._pending.append(bytes(pcm16))
        self._pending_bytes += len(pcm16)
        while self._pending_bytes > self._max_pending and len(self._pending) > 1:
            dropped = self._pending.popleft()
            self._pending_bytes -= len(dropped)
            self.dropped_bytes += len(dropped)
            log.warning("local STT is behind; dropped audio", extra={"room": self._room})
        self._audio_ready.set()

    def end_input(self) -> None:
        """No more audio: transcribe what is left, then end."""
        self._input_ended = True
        self._audio_ready.set()

    def __aiter__(self) -> AsyncIterator[RecognizerEvent]:
        """Final results and utterance ends in order."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RecognizerEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                if self._failure is not None:
                    raise self._failure
                return
            yield event

    async def aclose(self) -> None:
        """Stop at once, dropping pending audio and results."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _segment(self) -> None:
        ep = self._endpointer
        probs = self._owner._probs()
        try:
            while True:
                await self._audio_ready.wait()
                self._audio_ready.clear()
                if self._pending:
                    raw = b"".join(self._pending)
                    self._pending.clear()
                    self._pending_bytes = 0
                    ep.add_audio(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0)
                    window = ep.scorable()
                    if window.size >= _CHUNK:
                        p = await asyncio.to_thread(probs, window)
                        if ep.has_context():
                            p = p[1:]
                        for item in ep.feed(p):
                            if isinstance(item, _Start):
                                # words come only when the utterance is over; say now that
                                # someone is talking, so nobody takes it for silence
                                self._events.put_nowait(SpeechStarted(item.at))
                            else:
                                await self._work.put(item)
                if self._input_ended and not self._pending:
                    for item in ep.finish():
                        await self._work.put(item)
                    return
        except Exception as e:  # the VAD failing ends the stream with a reason, not silently
            self._failure = ProviderError(
                "local-stt", f"voice detection failed: {e}", retryable=False
            )
            log.exception("local VAD failed", extra={"room": self._room})
        finally:
            await self._finish_work()

    async def _finish_work(self) -> None:
        try:
            await self._work.put(None)
        except asyncio.CancelledError:
            # cancelled mid-put: make room so the recognizer still sees the end
            while not self._work.empty():
                self._work.get_nowait()
            self._work.put_nowait(None)
            raise

    async def _recognize(self) -> None:
        try:
            while (item := await self._work.get()) is not None:
                if isinstance(item, _End):
                    self._events.put_nowait(UtteranceEnd(max(item.at, self._last_word_end)))
                    continue
                words = await self._owner.run_whisper(item.audio, item.offset)
                if not words:
                    continue
                self._last_word_end = words[-1].end
                self._events.put_nowait(
                    Recognized(tuple(words), True, True, words[0].start, words[-1].end)
                )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a model failure ends the stream with a reason
            self._failure = ProviderError(
                "local-stt", f"transcription failed: {e}", retryable=False
            )
            log.exception("local transcription failed", extra={"room": self._room})
        finally:
            self._events.put_nowait(None)
