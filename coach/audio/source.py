"""Live audio sources: whatever the candidate's microphone arrives through, as 16 kHz PCM16."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Protocol

import av
import numpy as np

SAMPLE_RATE = 16_000
"""The rate every live source delivers and every recognizer stream is opened at."""


class AudioSource(Protocol):
    """A live source of 16 kHz mono 16-bit little-endian PCM; iteration ends with the source."""

    name: str

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Frames in order; audio time is the count of samples yielded so far."""
        ...

    async def aclose(self) -> None:
        """Stop the source and release what it holds; iteration then ends."""
        ...


class AudioLimitError(ValueError):
    """A pushed frame broke a limit of the source (size, or the source's buffer is full)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Resampler:
    """Converts mono PCM16 at `rate` to 16 kHz, keeping filter state across frames."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._pts = 0
        self._av = (
            None
            if rate == SAMPLE_RATE
            else av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        )

    def convert(self, pcm16: bytes) -> bytes:
        """Resampled audio for one frame; may hold back a few samples until the next one."""
        if self._av is None or not pcm16:
            return pcm16
        samples = np.frombuffer(pcm16, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self._pts
        self._pts += samples.shape[1]
        return b"".join(bytes(f.to_ndarray().tobytes()) for f in self._av.resample(frame))

    def flush(self) -> bytes:
        """Whatever the filter still holds."""
        if self._av is None:
            return b""
        return b"".join(bytes(f.to_ndarray().tobytes()) for f in self._av.resample(None))


class PushedAudio:
    """Stream mode: the client pushes binary frames over the WebSocket; this source yields them.

    The source outlives any one socket, so a client that reconnects within the grace period
    keeps pushing into the same source. The queue is bounded: a client that sends faster than
    the recognizer consumes gets an error instead of unbounded memory.
    """

    name = "stream"

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        *,
        max_frame_bytes: int = 64_000,
        max_queued: int = 500,
    ) -> None:
        if not 8_000 <= sample_rate <= 48_000:
            raise AudioLimitError(
                "bad_sample_rate", f"sampleRate must be 8000..48000 Hz, got {sample_rate}"
            )
        self._resampler = Resampler(sample_rate)
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self.max_frame_bytes = max_frame_bytes
        self.max_queued = max_queued
        self._closed = False
        self._carry = b""

    def push(self, data: bytes) -> None:
        """Queue one client frame; raises `AudioLimitError` naming the limit it breaks."""
        if self._closed:
            return
        if len(data) > self.max_frame_bytes:
            raise AudioLimitError(
                "frame_too_large",
                f"audio frames may be at most {self.max_frame_bytes} bytes, got {len(data)}",
            )
        # A frame may split a sample in two; keep the odd byte for the next frame.
        data = self._carry + data
        cut = len(data) - len(data) % 2
        data, self._carry = data[:cut], data[cut:]
        out = self._resampler.convert(data)
        if not out:
            return
        if len(self._queue) >= self.max_queued:
            raise AudioLimitError(
                "audio_backlog", "audio is arriving faster than it can be transcribed"
            )
        self._queue.append(out)
        self._ready.set()

    def end(self) -> None:
        """No more audio will come; iteration ends after what is queued."""
        if self._closed:
            return
        self._closed = True
        tail = self._resampler.flush()
        if tail:
            self._queue.append(tail)
        self._ready.set()

    @property
    def queued(self) -> int:
        """Frames waiting for the recognizer."""
        return len(self._queue)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            while self._queue:
                yield self._queue.popleft()
            if self._closed:
                return
            self._ready.clear()
            await self._ready.wait()

    async def aclose(self) -> None:
        """End the source."""
        self.end()
