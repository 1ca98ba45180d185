"""Decoding any common audio format into 16 kHz mono chunks, and refusing what is not audio."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from coach.audio.decode import AudioError, iter_pcm, probe_duration
from tests.paths import FIXTURES

CLIP = FIXTURES / "project.wav"


def reencode(src: Path, dst: Path, codec: str, rate: int, layout: str = "mono") -> None:
    """Write `src` again with PyAV in another container and codec."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)  # type: ignore[call-overload]
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        for frame in inp.decode(audio=0):
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "layout"),
    [
        (".mp3", "libmp3lame", 44100, "stereo"),
        (".ogg", "libopus", 48000, "mono"),
        (".webm", "libopus", 48000, "stereo"),
        (".m4a", "aac", 44100, "mono"),
        (".flac", "flac", 22050, "mono"),
    ],
)
def test_common_formats_decode_to_16k_mono(
    tmp_path: Path, suffix: str, codec: str, rate: int, layout: str
) -> None:
    target = tmp_path / f"answer{suffix}"
    reencode(CLIP, target, codec, rate, layout)
    chunks = list(iter_pcm(target, chunk_seconds=10))
    samples = np.concatenate(chunks)
    with wave.open(str(CLIP)) as w:
        expected = w.getnframes() / w.getframerate()
    # Encoders pad a few milliseconds at the start and end.
    assert math.isclose(samples.size / 16000, expected, abs_tol=0.15)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert all(c.size == 160000 for c in chunks[:-1])
    assert 0.01 < float(np.abs(samples).max()) <= 1.0
    duration = probe_duration(target)
    assert duration is not None and math.isclose(duration, expected, abs_tol=0.15)


def test_long_file_streams_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    rate, minutes = 16000, 10
    tone = (np.sin(np.arange(rate) * 2 * np.pi * 220 / rate) * 8000).astype(np.int16)
    silence = np.zeros(rate, dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        for second in range(minutes * 60):
            w.writeframes((tone if second % 3 else silence).tobytes())
    total = 0
    for chunk in iter_pcm(path, chunk_seconds=30):
        assert chunk.size <= 30 * 16000
        total += chunk.size
    assert total == minutes * 60 * 16000


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        probe_duration(tmp_path / "nope.wav")


def test_text_renamed_wav(tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("not audio at all\n" * 50)
    with pytest.raises(AudioError, match="not an audio file"):
        list(iter_pcm(fake))


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(AudioError):
        list(iter_pcm(empty))


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="directory"):
        probe_duration(tmp_path)


def test_truncated_file_decodes_what_is_there(tmp_path: Path) -> None:
    cut = tmp_path / "cut.wav"
    data = CLIP.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    samples = np.concatenate(list(iter_pcm(cut)))
    assert samples.size > 0
