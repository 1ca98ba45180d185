"""Pitch tracking in a process of its own: the same contours as in-process, and a killed process
is replaced, so one crash costs one batch, never the rest of the server's sessions."""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from coach.audio.decode import iter_pcm
from coach.audio.praat_process import PraatProcess
from coach.audio.prosody import LiveVocalTracker, contours_of_pcm16, measure
from coach.speech.metrics import summarize
from coach.speech.words import Word
from tests.paths import FIXTURES


def fixture_pcm16(name: str) -> bytes:
    chunks = iter_pcm(FIXTURES / f"{name}.wav")
    return b"".join((np.clip(c, -1, 1) * 32767).astype(np.int16).tobytes() for c in chunks)


async def test_the_process_gives_the_same_contours_and_outlives_a_crash() -> None:
    pcm = fixture_pcm16("weakness")[: 16000 * 2 * 4]
    want = contours_of_pcm16(pcm)
    praat = PraatProcess()
    try:
        got = await praat.contours(pcm)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b)
        pool = praat._pool
        assert pool is not None
        for process in list(pool._processes.values()):
            process.kill()
            process.join(10)
        with pytest.raises(BrokenProcessPool):
            await praat.contours(pcm)
        again = await praat.contours(pcm)
        np.testing.assert_allclose(again[1], want[1])
    finally:
        await asyncio.to_thread(praat.shutdown)


async def test_a_live_tracker_on_the_process_matches_the_file_path() -> None:
    pcm = fixture_pcm16("weakness")
    words = [Word("so", 0.3 * k, 0.3 * k + 0.25, 0.9) for k in range(100)]
    summary = summarize(words, duration=len(pcm) / 32000)
    praat = PraatProcess()
    try:
        live = LiveVocalTracker(batch_seconds=5.0, contours=praat.contours)
        for k in range(0, len(pcm), 3200):
            live.push(pcm[k : k + 3200])
        got = await live.finish(summary)
    finally:
        await asyncio.to_thread(praat.shutdown)
    want = measure(iter_pcm(FIXTURES / "weakness.wav"), summary)
    assert got.pitch_sd_semitones == pytest.approx(want.pitch_sd_semitones, abs=0.3)
    assert got.voiced_seconds == pytest.approx(want.voiced_seconds, rel=0.05)
