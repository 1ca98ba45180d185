"""Stream-mode recordings: 16 kHz PCM16 kept on disk as it arrives, Opus in OGG once finished."""

from __future__ import annotations

import logging
import os
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
# Read back ten seconds at a time when encoding: bounded memory for an hour-long interview.
_ENCODE_CHUNK_BYTES = 10 * SAMPLE_RATE * 2


def pcm_part(path: Path) -> Path:
    """Where the raw audio of the recording at `path` grows while its session is live."""
    return path.with_name(path.name + ".pcm.part")


def encode_opus(pcm: Path, target: Path, bitrate: int = 32_000) -> float:
    """Encode raw 16 kHz mono PCM16 at `pcm` to Opus in OGG at `target`; returns its seconds.

    A trailing odd byte (a write cut by a crash) is ignored.
    """
    private_file(target)
    seconds = 0.0
    with av.open(str(target), "w", format="ogg") as container, pcm.open("rb") as src:
        # Complexity 0 of 10: about a quarter of the CPU of the default at the same size for
        # speech, and hundreds of interviews may end in the same minute.
        stream: Any = container.add_stream(
            "libopus",
            rate=SAMPLE_RATE,
            layout="mono",
            options={"compression_level": "0", "frame_duration": "60"},
        )
        stream.codec_context.bit_rate = bitrate
        pts = 0
        while chunk := src.read(_ENCODE_CHUNK_BYTES):
            usable = len(chunk) - len(chunk) % 2
            if not usable:
                break
            samples = np.frombuffer(chunk[:usable], dtype="<i2").reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = pts
            pts += samples.shape[1]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        seconds = pts / SAMPLE_RATE
    return seconds


def salvage(path: Path) -> Path | None:
    """Finish the recording a killed process left for `path`: the Ogg `.part`, or None.

    The raw audio is encoded (all of it that reached the disk) and then deleted; a `.part`
    left by a process that died after encoding, or by an older version, is kept as it is.
    """
    part = path.with_name(path.name + ".part")
    raw = pcm_part(path)
    if raw.is_file():
        if raw.stat().st_size >= 2:
            encode_opus(raw, part)
        raw.unlink()
    return part if part.is_file() else None


class OpusRecorder:
    """Keeps audio in `<path>.pcm.part` as it comes; finishing encodes it to Opus at `path`.

    Live, a second of audio is one `write` to the file: encoding while the session runs cost
    half a core at 200 sessions (libopus, muxing and a GIL hand-off per packet) and took the
    CPU from the loop that carries the audio. A killed process leaves the raw file, which
    `salvage` encodes at the next start. With a `FileWorker`, file work runs on its thread
    for this recording, so the loop that calls `write` only copies bytes; `seal`, `close`,
    `keep` and `abort` (called off the loop) first wait for the writes queued before them.
    """

    def __init__(
        self, path: Path, *, bitrate: int = 32_000, worker: FileWorker | None = None
    ) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.pcm = pcm_part(path)
        self._bitrate = bitrate
        self._worker = worker
        self._key = f"recording:{path.name}"
        self._last: Future[None] | None = None
        self._fd: int | None = None
        self._written = 0
        self._closed = False
        self._sealed = False  # finished, still under the `.part` name
        self._failed: Exception | None = None
        self._carry = bytearray()
        # Sessions that start together would all write on the same tick; a random first
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
        # made private before a byte of audio goes into it
        private_file(self.pcm)
        self._fd = os.open(self.pcm, os.O_WRONLY | os.O_APPEND)

    @property
    def is_open(self) -> bool:
        """The live file is held open: from the first write until the recording is finished."""
        return self._fd is not None

    def write(self, pcm16: bytes) -> None:
        """Take one block of audio; it reaches the disk a second at a time."""
        self._carry += pcm16
        if len(self._carry) >= self._batch:
            self._batch = _BATCH_BYTES
            data = self._rest()
            if self._worker is not None and self._worker.busy(self._key):
                # the disk is stalled: the words matter more than their audio, and memory
                # must not grow with every session's backlog
                self.dropped_seconds += len(data) / 2 / SAMPLE_RATE
                return
            self._queue(self._append, data)

    def _append(self, data: bytes) -> None:
        if self._failed is not None or self._fd is None or not data:
            return
        try:
            # os.write reaches the page cache, which outlives a killed process
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._written += len(data)
            self.seconds = self._written / 2 / SAMPLE_RATE
        except Exception as e:  # kept, so `seal` says the recording failed
            self._failed = e
            raise

    def _rest(self) -> bytes:
        cut = len(self._carry) - len(self._carry) % 2
        data = bytes(self._carry[:cut])
        del self._carry[:cut]
        return data

    def _finish_raw(self) -> bool:
        """Write what is left and close the raw file; False (and nothing kept) without audio."""
        if self._fd is None:
            self._open()
        if self._failed is not None:
            self.abort()
            raise RuntimeError(f"writing the recording failed: {self._failed}")
        self._append(self._rest())
        self._release()
        if self._written == 0:
            self.abort()
            return False
        return True

    def seal(self) -> Path | None:
        """Finish the file under its `.part` name so it can be read whole; `close` names it."""
        wait_for(self._last)
        if self._closed:
            return self.part if self._sealed else None
        if not self._finish_raw():
            return None
        try:
            if self._worker is None:
                encode_opus(self.pcm, self.part, self._bitrate)
            else:
                self._worker.submit_heavy(encode_opus, self.pcm, self.part, self._bitrate).result()
        except Exception:
            self.abort()
            raise
        self.pcm.unlink(missing_ok=True)
        self._closed = self._sealed = True
        return self.part

    def close(self, target: Path | None = None) -> Path | None:
        """Encode and finish the file, at `target` if given; None when no audio came."""
        if self.seal() is None:
            return None
        self._sealed = False
        final = target or self.path
        private_dir(final.parent)
        self.part.replace(final)
        return final

    @property
    def sealed(self) -> bool:
        """Encoded already (by `seal`): `close` only names the file."""
        return self._closed and self._sealed

    def keep(self, target: Path | None = None) -> bool:
        """Leave the raw audio to be encoded later, renamed for `target` if given.

        Nothing is encoded here: hundreds of sessions ending together (a shutdown, a class)
        must not wait in line for the encoder. False when no audio came (nothing is kept).
        """
        wait_for(self._last)
        if self._closed:
            return False
        if not self._finish_raw():
            return False
        self._closed = True
        if target is not None:
            private_dir(target.parent)
            self.pcm.replace(pcm_part(target))
        return True

    def abort(self) -> None:
        """Drop the partial files (nothing once the recording is finished)."""
        wait_for(self._last)
        if self._closed:
            return
        self._closed = True
        self._sealed = False
        self._release()
        self.pcm.unlink(missing_ok=True)
        self.part.unlink(missing_ok=True)

    def _release(self) -> None:
        # An ended session is kept a while for a late resume; its file must not stay open.
        fd, self._fd = self._fd, None
        self._last = None
        self._carry = bytearray()
        if fd is not None:
            try:
                os.close(fd)
            except OSError as e:  # the data is written already; a failed close loses nothing
                log.debug("closing a recording failed: %s", e)
