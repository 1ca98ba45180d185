"""The stream-mode audio source and the recorder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from coach.audio.decode import probe_duration
from coach.audio.recording import OpusRecorder
from coach.audio.source import AudioLimitError, PushedAudio


def tone(rate: int, seconds: float) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


async def drain(source: PushedAudio) -> bytes:
    async with asyncio.timeout(5):
        return b"".join([f async for f in source])


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
async def test_any_rate_comes_out_at_16k_with_its_duration(rate: int) -> None:
    source = PushedAudio(rate)
    audio = tone(rate, 2.0)
    # odd-sized frames split samples in two; nothing may be lost or shifted
    for i in range(0, len(audio), 1001):
        source.push(audio[i : i + 1001])
    source.end()
    out = await drain(source)
    assert len(out) % 2 == 0
    assert len(out) / 2 / 16000 == pytest.approx(2.0, abs=0.01)


async def test_limits_are_named() -> None:
    with pytest.raises(AudioLimitError) as bad_rate:
        PushedAudio(96000)
    assert bad_rate.value.code == "bad_sample_rate"
    source = PushedAudio(16000, max_frame_bytes=1000, max_queued=3)
    with pytest.raises(AudioLimitError) as big:
        source.push(b"\x00" * 1002)
    assert big.value.code == "frame_too_large"
    for _ in range(3):
        source.push(b"\x00" * 1000)
    with pytest.raises(AudioLimitError) as backlog:
        source.push(b"\x00" * 1000)
    assert backlog.value.code == "audio_backlog"
    source.end()
    source.push(b"\x00" * 10)  # after the end: ignored
    assert len(await drain(source)) == 3000


def test_recorder_writes_playable_opus_and_cleans_up(tmp_path: Path) -> None:
    rec = OpusRecorder(tmp_path / "a.ogg")
    audio = tone(16000, 3.0)
    for i in range(0, len(audio), 3201):
        rec.write(audio[i : i + 3201])
    path = rec.close(tmp_path / "kept.ogg")
    assert path == tmp_path / "kept.ogg"
    assert probe_duration(path) == pytest.approx(3.0, abs=0.05)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.ogg"]
    empty = OpusRecorder(tmp_path / "b.ogg")
    assert empty.close() is None
    dropped = OpusRecorder(tmp_path / "c.ogg")
    dropped.write(audio)
    dropped.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.ogg"]
