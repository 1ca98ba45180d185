"""Stream-mode recordings: 16 kHz PCM16 in, Opus in OGG on disk, written as the audio arrives."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import av
import numpy as np

from coach.audio.source import SAMPLE_RATE
from coach.private_files import private_dir, private_file

log = logging.getLogger("coach.audio.recording")

_BATCH_BYTES = SAMPLE_RATE * 2


class OpusRecorder:
    """Encodes audio to `<path>.part` as it comes and renames it to `path` when closed."""

    def __init__(self, path: Path, *, bitrate: int = 32_000) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        # made private before the encoder writes a byte into it
        private_file(self.part)
        # flush_packets: each Ogg page (about a second) reaches the file as it is made, so a
        # killed process leaves a playable recording of all but the last second
        self._container: Any = av.open(
            str(self.part), "w", format="ogg", options={"flush_packets": "1"}
        )
        # Complexity 2 of 10: a third of the CPU of the default at the same size for speech,
        # which is what lets one process record hundreds of sessions at once.
        self._stream: Any = self._container.add_stream(
            "libopus", rate=SAMPLE_RATE, layout="mono", options={"compression_level": "2"}
        )
        self._stream.codec_context.bit_rate = bitrate
        self._pts = 0
        self._closed = False
        self._sealed = False  # finished, still under the `.part` name
        self._carry = bytearray()
        # Sessions that start together would all encode on the same tick; a random first
        # batch spreads that work out instead of stalling the event loop once a second.
        self._batch = random.randrange(_BATCH_BYTES // 4, _BATCH_BYTES) // 2 * 2
        self.seconds = 0.0

    def write(self, pcm16: bytes) -> None:
        """Take one block of audio; it is encoded a second at a time."""
        self._carry += pcm16
        if len(self._carry) >= self._batch:
            self._batch = _BATCH_BYTES
            self._encode()

    def _encode(self) -> None:
        cut = len(self._carry) - len(self._carry) % 2
        data = bytes(self._carry[:cut])
        del self._carry[:cut]
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

    def seal(self) -> Path | None:
        """Finish the file under its `.part` name so it can be read whole; `close` names it."""
        if self._closed:
            return self.part if self._sealed else None
        self._encode()
        if self._pts == 0:
            self.abort()
            return None
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._closed = self._sealed = True
        return self.part

    def close(self, target: Path | None = None) -> Path | None:
        """Flush and finish the file, at `target` if given; None when no audio came.

        Closing to `self.part` keeps the unfinished name, for a session not yet stored.
        """
        if self.seal() is None:
            return None
        self._sealed = False
        final = target or self.path
        private_dir(final.parent)
        self.part.replace(final)
        return final

    def keep(self) -> None:
        """Finish the file but keep its `.part` name: the session is not stored yet."""
        self.close(self.part)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.close()
        except Exception as e:  # closing a half-written container may fail; the file goes anyway
            log.debug("closing an aborted recording failed: %s", e)
        self.part.unlink(missing_ok=True)
