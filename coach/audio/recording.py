"""Stream-mode recordings: 16 kHz PCM16 in, Opus in OGG on disk, written as the audio arrives."""

from __future__ import annotations

import logging
import random
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import av
import numpy as np

from coach.audio.source import SAMPLE_RATE
from coach.file_worker import FileWorker, wait_for
from coach.private_files import private_dir, private_file

log = logging.getLogger("coach.audio.recording")

_BATCH_BYTES = SAMPLE_RATE * 2


class OpusRecorder:
    """Encodes audio to `<path>.part` as it comes and renames it to `path` when closed.

    With a `FileWorker`, opening and encoding run on its thread for this recording, so the loop
    that calls `write` only copies bytes; `seal`, `close`, `keep` and `abort` (called off the
    loop) first wait for the encoding queued before them.
    """

    def __init__(
        self, path: Path, *, bitrate: int = 32_000, worker: FileWorker | None = None
    ) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self._bitrate = bitrate
        self._worker = worker
        self._key = f"recording:{path.name}"
        self._last: Future[None] | None = None
        self._container: Any = None
        self._stream: Any = None
        self._pts = 0
        self._closed = False
        self._sealed = False  # finished, still under the `.part` name
        self._failed: Exception | None = None
        self._carry = bytearray()
        # Sessions that start together would all encode on the same tick; a random first
        # batch spreads that work out instead of bunching it once a second.
        self._batch = random.randrange(_BATCH_BYTES // 4, _BATCH_BYTES) // 2 * 2
        self.seconds = 0.0
        self.dropped_seconds = 0.0
        self._queue(self._open)

    def _queue(self, job: Any, *args: Any) -> None:
        if self._worker is None:
            job(*args)
        else:
            self._last = self._worker.submit(self._key, job, *args)

    def _open(self) -> None:
        # made private before the encoder writes a byte into it
        private_file(self.part)
        # flush_packets: each Ogg page (about a second) reaches the file as it is made, so a
        # killed process leaves a playable recording of all but the last second
        self._container = av.open(str(self.part), "w", format="ogg", options={"flush_packets": "1"})
        # Complexity 0 of 10: about half the CPU of the default at the same size for speech.
        # 60 ms frames: a third of the packets of 20 ms ones, and every packet muxed is a GIL
        # hand-off; with the loop busy each hand-off can wait a switch interval (5 ms), which
        # at 20 ms frames left this thread 4 s of audio encoded per second for all sessions
        # (bench/sessions.py at 500 clients dropped seconds of every recording).
        self._stream = self._container.add_stream(
            "libopus",
            rate=SAMPLE_RATE,
            layout="mono",
            options={"compression_level": "0", "frame_duration": "60"},
        )
        self._stream.codec_context.bit_rate = self._bitrate

    @property
    def encoding(self) -> bool:
        """The encoder and muxer are held: from opening until the file is finished."""
        return self._container is not None

    def write(self, pcm16: bytes) -> None:
        """Take one block of audio; it is encoded a second at a time."""
        self._carry += pcm16
        if len(self._carry) >= self._batch:
            self._batch = _BATCH_BYTES
            cut = len(self._carry) - len(self._carry) % 2
            data = bytes(self._carry[:cut])
            del self._carry[:cut]
            if self._worker is not None and self._worker.busy(self._key):
                # the disk is stalled: the words matter more than their audio, and memory
                # must not grow with every session's backlog
                self.dropped_seconds += len(data) / 2 / SAMPLE_RATE
                return
            self._queue(self._encode, data)

    def _encode(self, data: bytes) -> None:
        if self._failed is not None or self._container is None or not data:
            return
        try:
            samples = np.frombuffer(data, dtype="<i2").reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._pts
            self._pts += samples.shape[1]
            self.seconds = self._pts / SAMPLE_RATE
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except Exception as e:  # kept, so `seal` says the recording failed
            self._failed = e
            raise

    def _rest(self) -> bytes:
        cut = len(self._carry) - len(self._carry) % 2
        data = bytes(self._carry[:cut])
        del self._carry[:cut]
        return data

    def seal(self) -> Path | None:
        """Finish the file under its `.part` name so it can be read whole; `close` names it."""
        wait_for(self._last)
        if self._closed:
            return self.part if self._sealed else None
        if self._container is None:
            self._open()
        if self._failed is not None:
            self.abort()
            raise RuntimeError(f"encoding the recording failed: {self._failed}")
        self._encode(self._rest())
        if self._pts == 0:
            self.abort()
            return None
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._closed = self._sealed = True
        self._release()
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
        wait_for(self._last)
        if self._closed:
            return
        self._closed = True
        try:
            if self._container is not None:
                self._container.close()
        except Exception as e:  # closing a half-written container may fail; the file goes anyway
            log.debug("closing an aborted recording failed: %s", e)
        self._release()
        self.part.unlink(missing_ok=True)

    def _release(self) -> None:
        # An ended session is kept a while for a late resume; the encoder and muxer (about
        # 140 kB of native memory) must not be kept with it.
        self._container = self._stream = self._last = None
        self._carry = bytearray()
