"""Any audio file to 16 kHz mono float32 samples, streamed in chunks with PyAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


class AudioError(Exception):
    """A recording that cannot be read, said in one sentence."""


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not a recording")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise AudioError(f"{path} is not an audio file coach can read") from e
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path} has no audio track")
    return container


def probe_duration(path: Path) -> float | None:
    """The recording's length in seconds, when its header says; raises `AudioError`."""
    with _open(path) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / av.time_base
        return None


def _frames(path: Path, container: av.container.InputContainer) -> Iterator[av.AudioFrame | None]:
    try:
        for packet in container.demux(container.streams.audio[0]):
            yield from packet.decode()
    except av.error.FFmpegError as e:
        raise AudioError(f"{path}: the audio is damaged or not audio ({e.strerror})") from e
    yield None  # flushes the resampler


def iter_pcm(
    path: Path, *, sample_rate: int = 16000, chunk_seconds: float = 30.0
) -> Iterator[Samples]:
    """Yield the recording as mono float32 chunks of `chunk_seconds` (the last may be shorter)."""
    chunk = max(1, int(sample_rate * chunk_seconds))
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    pending: list[Samples] = []
    size = 0
    with _open(path) as container:
        for frame in _frames(path, container):
            for out in resampler.resample(frame):
                data = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                pending.append(data)
                size += data.size
                while size >= chunk:
                    joined = np.concatenate(pending)
                    yield joined[:chunk]
                    rest = joined[chunk:]
                    pending, size = ([rest] if rest.size else []), rest.size
    if size:
        yield np.concatenate(pending)
