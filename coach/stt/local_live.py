"""Local live speech-to-text: Silero VAD cuts utterances as audio streams in, Whisper transcribes.

Nothing here needs a network or a key. VAD runs on each new block in a worker thread; whole
utterances go to one shared Whisper worker thread, so sessions queue for the model instead of
fighting over two cores, and the event loop never blocks on either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.providers import ProviderError
from coach.speech.words import Word
from coach.stt.endpointer import (
    Began,
    Ended,
    EndpointConfig,
    Endpointer,
    Paused,
    Utterance,
)
from coach.stt.streaming import (
    Recognized,
    RecognizerStreamBase,
    SpeechStarted,
    SpeechStopped,
    UtteranceEnd,
)

log = logging.getLogger("coach.stt.local_live")

Samples = npt.NDArray[np.float32]
SpeechProbabilities = Callable[[Samples], npt.NDArray[np.float32]]
Transcribe = Callable[[Samples, float], list[Word]]


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
        workers: int = 1,
        load_model: Callable[[], object] | None = None,
    ) -> None:
        self._transcribe = transcribe
        self._load_model = load_model
        self._probabilities = probabilities
        self.endpoint = endpoint or EndpointConfig()
        # Utterances from every session queue for a few workers in arrival order, rather than
        # each session fighting the others over the cores; one session's utterances still
        # go one at a time, so its words stay in order.
        self.workers = max(1, workers)
        self._executor = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="coach-whisper"
        )
        self._warming: Future[object] | None = None

    def prepare(self) -> None:
        """Load the VAD and Whisper models now (blocking), so the first utterance waits for
        neither and readiness can say they are loaded."""
        self._probs()
        if self._load_model is not None:
            self._load_model()

    def _probs(self) -> SpeechProbabilities:
        if self._probabilities is None:
            self._probabilities = silero_probabilities()
        return self._probabilities

    def stream(self, *, sample_rate: int, room: str | None = None) -> LocalLiveStream:
        """Open a stream; must be called inside a running event loop."""
        if self._warming is None and self._load_model is not None:
            # Not preloaded (PRELOAD_MODELS off): the model loads as the first session starts,
            # on the worker its first utterance queues for, not when that utterance ends.
            # A load that fails here fails again, with its reason, for the utterance.
            self._warming = self._executor.submit(self._load_model)
        return LocalLiveStream(self, sample_rate=sample_rate, room=room)

    async def run_whisper(self, audio: Samples, offset: float) -> list[Word]:
        """Transcribe one utterance on the shared worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transcribe, audio, offset)

    async def aclose(self) -> None:
        """Stop the worker thread once the utterance it is on is done."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


class LocalLiveStream(RecognizerStreamBase):
    """One session's stream: VAD, endpointer and Whisper (finals only, no interims)."""

    def __init__(self, owner: LocalLiveRecognizer, *, sample_rate: int, room: str | None) -> None:
        if sample_rate != 16_000:
            raise ValueError("the local recognizer takes 16 kHz audio")
        super().__init__(sample_rate=sample_rate, room=room)
        self._owner = owner
        self._endpointer = Endpointer(owner.endpoint, sample_rate)
        self._pending: deque[bytes] = deque()
        self._pending_bytes = 0
        self._max_pending = int(owner.endpoint.max_backlog * sample_rate) * 2
        self._audio_ready = asyncio.Event()
        self._work: asyncio.Queue[Utterance | Ended | None] = asyncio.Queue(maxsize=8)
        self._last_word_end = 0.0
        self._spawn(self._segment(), "local-stt-vad")
        self._spawn(self._recognize(), "local-stt-whisper")

    def _push(self, pcm16: bytes) -> None:
        # past the backlog bound the oldest audio is dropped
        self._pending.append(bytes(pcm16))
        self._pending_bytes += len(pcm16)
        while self._pending_bytes > self._max_pending and len(self._pending) > 1:
            dropped = self._pending.popleft()
            self._pending_bytes -= len(dropped)
            self.dropped_bytes += len(dropped)
            log.warning("local STT of room %s is behind; dropped %.1f s of audio", self.room,
                        len(dropped) / 32000, extra={"room": self.room})  # fmt: skip
        self._audio_ready.set()

    def _input_ended(self) -> None:
        # transcribe what is left, then end
        self._audio_ready.set()

    async def _segment(self) -> None:
        ep = self._endpointer
        # the first session of a process loads Silero here, unless warm-up already did: off the
        # loop, which carries every other session's audio meanwhile
        probs = await asyncio.to_thread(self._owner._probs)
        try:
            while True:
                await self._audio_ready.wait()
                self._audio_ready.clear()
                if self._pending:
                    raw = b"".join(self._pending)
                    self._pending.clear()
                    self._pending_bytes = 0
                    ep.add_audio(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0)
                    window = ep.to_score()
                    if window is not None:
                        p = await asyncio.to_thread(probs, window)
                        for item in ep.feed_scored(p):
                            await self._route(item)
                if self.input_ended and not self._pending:
                    for item in ep.finish():
                        await self._route(item)
                    return
        except Exception as e:  # the VAD failing ends the stream with a reason, not silently
            self._failure = ProviderError(
                "local-stt", f"voice detection failed: {e}", retryable=False
            )
            log.exception(
                "local VAD of room %s failed: %s", self.room, e, extra={"room": self.room}
            )
        finally:
            await self._finish_work()

    async def _route(self, item: Utterance | Began | Paused | Ended) -> None:
        if isinstance(item, Began):
            # words come only when the utterance is over; say now that someone is talking,
            # so nobody takes it for silence
            self._emit(SpeechStarted(item.at))
        elif isinstance(item, Paused):
            self._emit(SpeechStopped(item.at))
        else:
            await self._work.put(item)

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
                if isinstance(item, Ended):
                    self._emit(UtteranceEnd(max(item.at, self._last_word_end)))
                    continue
                words = await self._owner.run_whisper(item.audio, item.offset)
                if not words:
                    continue
                self._last_word_end = words[-1].end
                self._emit(Recognized(tuple(words), True, True, words[0].start, words[-1].end))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a model failure ends the stream with a reason
            self._failure = ProviderError(
                "local-stt", f"transcription failed: {e}", retryable=False
            )
            log.exception("local transcription in room %s failed: %s", self.room, e,
                          extra={"room": self.room})  # fmt: skip
        finally:
            self._end()
