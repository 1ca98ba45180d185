"""Pitch tracking in a process of its own: the same contours as in-process, and a killed process
is replaced, so one crash costs one batch, never the rest of the server's sessions."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from coach.audio.decode import iter_pcm
from coach.audio.praat_process import PARENT_CHECK_SECONDS, PraatProcess
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


def test_the_process_ends_when_its_server_is_killed_outright(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys, time
            from coach.audio.praat_process import PARENT_CHECK_SECONDS, PraatProcess

            async def main():
                praat = PraatProcess()
                await praat.contours(b"\\0\\0" * 16000)
                print(*praat._pool._processes, flush=True)
                time.sleep(60)

            if __name__ == "__main__":
                asyncio.run(main())
            """
        )
    )
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert server.stdout is not None
        workers = [int(pid) for pid in server.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
    finally:
        server.kill()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    deadline = time.monotonic() + 10 * PARENT_CHECK_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    # a worker that exited but is not reaped yet is a zombie, gone for this purpose
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
