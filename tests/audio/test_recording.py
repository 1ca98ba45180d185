"""The recording is on disk as it grows: a killed process leaves all but the last second."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from coach.audio.decode import iter_pcm, probe_duration
from coach.audio.recording import OpusRecorder, salvage
from coach.file_worker import FileWorker


def noise(seconds: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(16000 * seconds)) * 3000).astype("<i2").tobytes()


def played(path: Path) -> float:
    return sum(len(c) for c in iter_pcm(path)) / 16000


def test_the_raw_file_grows_and_what_a_kill_leaves_is_salvaged(tmp_path: Path) -> None:
    rec = OpusRecorder(tmp_path / "session-x.ogg")
    sizes = []
    for i in range(8):  # 8 s of audio, a second at a time
        rec.write(noise(1.0, i))
        sizes.append(rec.pcm.stat().st_size)
    assert sizes[-1] > sizes[2] > 0
    # what a kill -9 would leave: the raw file as it is now, never closed, cut mid-sample
    crashed = tmp_path / "crashed.ogg"
    data = rec.pcm.read_bytes()
    (tmp_path / "crashed.ogg.pcm.part").write_bytes(data[: len(data) - 1])
    part = salvage(crashed)
    assert part == tmp_path / "crashed.ogg.part"
    assert 8 - 1.5 <= played(part) <= 8
    assert not (tmp_path / "crashed.ogg.pcm.part").exists()
    rec.abort()
    assert not rec.pcm.exists() and not rec.part.exists()


def test_keep_leaves_the_audio_for_the_next_start(tmp_path: Path) -> None:
    worker = FileWorker(threads=1)
    try:
        rec = OpusRecorder(tmp_path / "session-k.ogg", worker=worker)
        audio = noise(3.0)
        for i in range(0, len(audio), 3200):
            rec.write(audio[i : i + 3200])
        rec.keep()
        assert not rec.is_open
        assert rec.pcm.stat().st_size == len(audio)
        assert not rec.part.exists()  # nothing encoded while the server stops
        rec.abort()  # finished: nothing more happens to it
        assert rec.pcm.exists()
        part = salvage(tmp_path / "session-k.ogg")
        assert part is not None
        assert probe_duration(part) == pytest.approx(3.0, abs=0.05)
        # a stored session's recording is encoded on the worker's own encoding thread
        done = OpusRecorder(tmp_path / "session-d.ogg", worker=worker)
        done.write(audio)
        kept = done.close(tmp_path / "d.ogg")
        assert kept is not None and probe_duration(kept) == pytest.approx(3.0, abs=0.05)
        assert not done.pcm.exists() and not done.part.exists()
    finally:
        worker.close()


def test_a_sealed_part_is_kept_by_salvage(tmp_path: Path) -> None:
    rec = OpusRecorder(tmp_path / "session-s.ogg")
    rec.write(noise(2.0))
    sealed = rec.seal()
    assert sealed == rec.part and not rec.pcm.exists()
    shutil.copy(sealed, tmp_path / "copy")
    assert salvage(tmp_path / "session-s.ogg") == sealed
    assert sealed.read_bytes() == (tmp_path / "copy").read_bytes()
    assert salvage(tmp_path / "nothing.ogg") is None
