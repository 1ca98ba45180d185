"""Vocal variety from a real pitch tracker: flat and varied tones made with sox, a voice, tables."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.analysis.findings import Verdict, delivery_findings
from coach.analysis.scoring import score
from coach.audio.decode import iter_pcm
from coach.audio.prosody import (
    STEP,
    LiveVocalTracker,
    measure,
    speech_spans,
    track,
    variety,
)
from coach.speech.metrics import summarize
from coach.speech.words import Word
from tests.paths import FIXTURES


def tone(path: Path, *synth: str, seconds: float = 8.0) -> Path:
    """A tone from sox (sawtooth: harmonics like a voice's, so the tracker sees a pitch)."""
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            str(path),
            "synth",
            str(seconds),
            *synth,
            "vol",
            "0.5",
        ],
        check=True,
    )
    return path


def words_over(seconds: float) -> list[Word]:
    return [Word("so", 0.25 * k, 0.25 * k + 0.2, 0.9) for k in range(int(seconds / 0.25))]


def test_a_flat_tone_is_monotone_and_a_gliding_one_is_not(tmp_path: Path) -> None:
    flat = tone(tmp_path / "flat.wav", "sawtooth", "150")
    # up and down an octave and back, twice: a caricature of lively intonation
    varied = tone(tmp_path / "varied.wav", "sawtooth", "110:220", "repeat", "1")
    summary = summarize(words_over(8.0), duration=8.0)
    f = measure(iter_pcm(flat), summary)
    v = measure(iter_pcm(varied), summary)
    assert f.pitch_median_hz == pytest.approx(150, rel=0.03)
    assert f.pitch_sd_semitones is not None and f.pitch_sd_semitones < 0.5
    assert v.pitch_sd_semitones is not None and v.pitch_sd_semitones > 2.5
    assert v.pitch_range_semitones is not None and v.pitch_range_semitones > 8
    judged = {}
    for name, vv in (("flat", f), ("varied", v)):
        s = summary.model_copy(update={"vocal_variety": vv})
        (found,) = [x for x in delivery_findings(s, score(s)) if x.measure == "pitch_variation"]
        judged[name] = found.verdict
    assert judged == {"flat": Verdict.WEAKNESS, "varied": Verdict.STRENGTH}


def test_only_speech_counts(tmp_path: Path) -> None:
    # a flat tone where the words are, a wild glide where nobody speaks: the glide is ignored
    flat = np.concatenate([c for c in iter_pcm(tone(tmp_path / "f.wav", "sawtooth", "150"))])
    glide = np.concatenate(
        [c for c in iter_pcm(tone(tmp_path / "g.wav", "sawtooth", "80:400", seconds=8.0))]
    )
    times, f0, db = track([flat, glide]).contours()
    vv = variety(times, f0, db, speech=[(0.0, 8.0)])
    assert vv.pitch_sd_semitones is not None and vv.pitch_sd_semitones < 0.5


def test_too_little_voice_gives_no_figure() -> None:
    times = np.arange(0, 10, STEP)
    f0 = np.where(times < 1.0, 150.0, 0.0)
    vv = variety(times, f0, np.full(times.shape, 60.0), speech=[(0.0, 10.0)])
    assert vv.pitch_sd_semitones is None and vv.voiced_seconds == pytest.approx(1.0, abs=0.02)


def test_speech_spans_join_short_gaps() -> None:
    assert speech_spans([(0.0, 0.5), (0.6, 1.0), (2.0, 2.5)]) == [(0.0, 1.0), (2.0, 2.5)]


async def test_live_tracker_matches_the_file_path() -> None:
    wav = FIXTURES / "weakness.wav"
    pcm = b"".join((np.clip(c, -1, 1) * 32767).astype(np.int16).tobytes() for c in iter_pcm(wav))
    words = [Word("so", 0.3 * k, 0.3 * k + 0.25, 0.9) for k in range(100)]
    summary = summarize(words, duration=len(pcm) / 32000)
    live = LiveVocalTracker(batch_seconds=5.0)
    for k in range(0, len(pcm), 3200):  # 100 ms frames, as a session pumps them
        live.push(pcm[k : k + 3200])
    got = await live.finish(summary)
    want = measure(iter_pcm(wav), summary)
    assert got.pitch_sd_semitones == pytest.approx(want.pitch_sd_semitones, abs=0.3)
    assert got.voiced_seconds == pytest.approx(want.voiced_seconds, rel=0.05)
