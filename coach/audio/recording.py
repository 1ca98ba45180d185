"""Stream-mode recordings: 16 kHz PCM16 in, Opus in OGG on disk, written as the audio arrives."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import av
import numpy as np

from coach.audio.source import SAMPLE_RATE

log = logging.getLogger("coach.audio.recording")


class OpusRecorder:
    """Encodes audio to `<path>.part` as it comes and renames it to `path` when closed."""

    def __init__(self, path: Path, *, bitrate: int = 32_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._part = path.with_name(path.name + ".part")
        self._container: Any = av.open(str(self._part), "w", format="ogg")
        self._stream: Any = self._container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        self._stream.codec_context.bit_rate = bitrate
        self._pts = 0
        self._carry = b""
        self.seconds = 0.0

    def write(self, pcm16: bytes) -> None:
        """Encode one block of audio."""
        data = self._carry + pcm16
        cut = len(data) - len(data) % 2
        data, self._carry = data[:cut], data[cut:]
        if not data:
            return
        samples = np.frombuffer(data, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += samples.shape[1]
        self.seconds = self._pts / SAMPLE_RATE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self, target: Path | None = None) -> Path | None:
        """Flush and finish the file, at `target` if given; None when no audio came."""
        if self._pts == 0:
            self.abort()
            return None
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        final = target or self.path
        final.parent.mkdir(parents=True, exist_ok=True)
        self._part.replace(final)
        return final

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._container.close()
        except Exception as e:  # closing a half-written container may fail; the file goes anyway
            log.debug("closing an aborted recording failed: %s", e)
        self._part.unlink(missing_ok=True)
