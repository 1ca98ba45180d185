"""The candidate's microphone in a LiveKit room, as a continuous 16 kHz PCM16 `AudioSource`.

coach joins the room as a hidden, subscribe-only bot, waits for the named participant's
microphone and reads it with `rtc.AudioStream`. Audio time must stay equal to the room's
wall time, whatever the track does (late, muted, republished, the participant away, the room
reconnecting): the gaps are filled with silence, so question times and word times agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from coach.audio.source import SAMPLE_RATE, Resampler
from coach.livekit.tokens import LiveKitConfig
from coach.providers import ProviderError, ProviderObserver, RetryPolicy

log = logging.getLogger("coach.livekit.source")

_BYTES_PER_SECOND = SAMPLE_RATE * 2


class FrameTimeline:
    """Frames in (any rate or channel count), a gapless 16 kHz mono PCM16 stream out.

    `clock()` is the room's time since the session started. When the track has sent nothing
    for `max_gap` seconds, silence brings the audio up to that time; frames arriving in
    bursts within the gap are kept as they are, so jitter does not add silence.
    """

    def __init__(self, clock: Callable[[], float], *, max_gap: float = 0.3) -> None:
        self._clock = clock
        self._max_gap = max_gap
        self._resamplers: dict[int, Resampler] = {}
        self._queue: deque[bytes] = deque()
        self.samples = 0  # audio produced so far
        self.silence_samples = 0

    @property
    def seconds(self) -> float:
        """Audio time produced so far."""
        return self.samples / SAMPLE_RATE

    def on_frame(self, data: bytes | memoryview, sample_rate: int, num_channels: int) -> None:
        """One frame of interleaved PCM16 from the track."""
        pcm = np.frombuffer(bytes(data), dtype="<i2")
        if num_channels > 1:
            pcm = pcm.reshape(-1, num_channels).mean(axis=1).astype("<i2")
        out = pcm.tobytes()
        if sample_rate != SAMPLE_RATE:
            resampler = self._resamplers.setdefault(sample_rate, Resampler(sample_rate))
            out = resampler.convert(out)
        self._emit(out)

    def fill(self) -> None:
        """Pad with silence up to the clock if the track has been quiet too long."""
        behind = self._clock() - self.seconds
        if behind > self._max_gap:
            n = int(behind * SAMPLE_RATE)
            self.silence_samples += n
            self._emit(b"\x00\x00" * n)

    def _emit(self, pcm: bytes) -> None:
        if pcm:
            self.samples += len(pcm) // 2
            self._queue.append(pcm)

    def drain(self) -> list[bytes]:
        """Everything produced since the last drain."""
        out = list(self._queue)
        self._queue.clear()
        return out


class LiveKitAudioSource:
    """Implements `AudioSource` for one participant's microphone in one room."""

    name = "livekit"

    def __init__(
        self,
        config: LiveKitConfig,
        room_name: str,
        participant_identity: str,
        *,
        tick_seconds: float = 0.1,
        retry: RetryPolicy = RetryPolicy(attempts=6),  # noqa: B008 - frozen, safe to share
        observer: ProviderObserver | None = None,
    ) -> None:
        self._config = config
        self._observer = observer
        self.room_name = room_name
        self.identity = participant_identity
        self._tick = tick_seconds
        self._retry = retry
        self._started = time.monotonic()
        self.timeline = FrameTimeline(lambda: time.monotonic() - self._started)
        self._ready = asyncio.Event()
        self._closed = False
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self.connections = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._main is None:
            self._started = time.monotonic()
            self._main = asyncio.create_task(self._run(), name=f"livekit-source[{self.room_name}]")
        while True:
            for frame in self.timeline.drain():
                yield frame
            if self._closed:
                return
            if self._failure is not None:
                raise self._failure
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), self._tick)
            self.timeline.fill()

    async def aclose(self) -> None:
        """Leave the room and end the stream."""
        self._closed = True
        self._ready.set()
        if self._main is not None:
            self._main.cancel()
            await asyncio.gather(self._main, return_exceptions=True)

    # -- the room -----------------------------------------------------------------------

    async def _run(self) -> None:
        from livekit import rtc

        attempt = 0
        while not self._closed:
            room = rtc.Room()
            gone = asyncio.Event()
            self._watch(room, gone)
            try:
                joining = time.monotonic()
                await room.connect(self._config.url, self._config.listener_token(self.room_name))
                if self._observer is not None:
                    self._observer.provider_call("livekit", time.monotonic() - joining, None)
                self.connections += 1
                attempt = 0
                log.info("listening in room %s", self.room_name, extra={"room": self.room_name})
                for participant in room.remote_participants.values():
                    for publication in participant.track_publications.values():
                        track = publication.track
                        if track is not None:
                            self._maybe_read(track, participant)
                await gone.wait()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the SDK's connect errors vary; all mean "try again"
                attempt += 1
                if self._observer is not None:
                    failed = ProviderError("livekit", str(e), retryable=True)
                    self._observer.provider_call("livekit", time.monotonic() - joining, failed)
                    if attempt < self._retry.attempts:
                        self._observer.provider_retry("livekit")
                if attempt >= self._retry.attempts:
                    self._failure = ProviderError(
                        "livekit", f"cannot join room {self.room_name}: {e}", retryable=False
                    )
                    self._ready.set()
                    return
                log.warning("joining room %s failed (attempt %d), retrying: %s",
                            self.room_name, attempt, e)  # fmt: skip
            finally:
                for task in self._readers.values():
                    task.cancel()
                await asyncio.gather(*self._readers.values(), return_exceptions=True)
                self._readers.clear()
                with contextlib.suppress(Exception):
                    await room.disconnect()
            if not self._closed:
                await asyncio.sleep(self._retry.delay(attempt))

    def _watch(self, room: Any, gone: asyncio.Event) -> None:
        def subscribed(track: Any, publication: Any, participant: Any) -> None:
            self._maybe_read(track, participant)

        def unsubscribed(track: Any, publication: Any, participant: Any) -> None:
            # unpublished, or the participant left: silence fills in until it is back
            task = self._readers.pop(track.sid, None)
            if task is not None:
                task.cancel()

        def disconnected(*args: Any) -> None:
            log.warning(
                "left room %s; reconnecting", self.room_name, extra={"room": self.room_name}
            )
            gone.set()

        room.on("track_subscribed", subscribed)
        room.on("track_unsubscribed", unsubscribed)
        room.on("disconnected", disconnected)

    def _maybe_read(self, track: Any, participant: Any) -> None:
        from livekit import rtc

        if participant.identity != self.identity or track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        if track.sid in self._readers:
            return
        self._readers[track.sid] = asyncio.create_task(
            self._read(track), name=f"livekit-track[{self.room_name}:{track.sid}]"
        )

    async def _read(self, track: Any) -> None:
        from livekit import rtc

        stream = rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1)
        try:
            async for event in stream:
                frame = event.frame
                # Muted tracks keep sending silence or nothing; either way the clock holds.
                self.timeline.on_frame(frame.data, frame.sample_rate, frame.num_channels)
                self._ready.set()
        finally:
            await stream.aclose()
