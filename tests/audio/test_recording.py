"""The recording is on disk as it grows: a killed process leaves all but the last second."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from coach.audio.decode import iter_pcm
from coach.audio.recording import OpusRecorder


def test_the_part_file_grows_and_a_copy_of_it_plays(tmp_path: Path) -> None:
    rec = OpusRecorder(tmp_path / "session-x.ogg")
    rng = np.random.default_rng(0)
    sizes = []
    for _ in range(8):  # 8 s of audio, a second at a time
        rec.write((rng.standard_normal(16000) * 3000).astype("<i2").tobytes())
        sizes.append(rec.part.stat().st_size)
    assert sizes[-1] > sizes[2] > 0
    # what a kill -9 would leave: the file as it is now, never closed
    crashed = tmp_path / "crashed.ogg"
    shutil.copy(rec.part, crashed)
    seconds = sum(len(c) for c in iter_pcm(crashed)) / 16000
    assert 8 - 2.5 <= seconds <= 8
    rec.abort()
