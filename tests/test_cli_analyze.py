"""End to end: `coach analyze` on recorded answers, checked against their ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.paths import FIXTURES, REPO

CLIPS = [
    FIXTURES / "weakness.wav",
    FIXTURES / "project.wav",
    FIXTURES / "fast-like.wav",
    FIXTURES / "thinking.wav",
    REPO / "coach" / "samples" / "answer.wav",
]
# What the product promises for fillers, summed over every clip: at least this share of the
# spoken fillers is found near its time, and on any one clip at least half of them. Models
# differ by CPU and build, so no single miss is pinned here; `bench/stt.py` prints the misses.
FILLER_RECALL_FLOOR = 0.8
FILLER_RECALL_PER_CLIP = 0.5
# Words counted, against the script: summed over the clips, and on any one clip
WORD_COUNT_OVERALL = 0.05
WORD_COUNT_PER_CLIP = 0.08
PAUSE_TOLERANCE = 0.3
SYNTH_TRAIL = 0.5
# Hesitation sounds are one family: the recognizer may write a spoken "hmm" as "um".
HESITATIONS = {"um", "uh", "erm", "hmm", "hm"}


def truth(wav: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(wav.with_suffix(".json").read_text())
    return data


def run_coach(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Run outside the repo so a developer's own .env is not read.
    return subprocess.run(
        [sys.executable, "-m", "coach", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO.parent,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )


_reports: dict[Path, dict[str, Any]] = {}


def report(wav: Path) -> dict[str, Any]:
    """The `--json` report for a clip, computed once per test run."""
    if wav not in _reports:
        done = run_coach("analyze", wav, "--json")
        assert done.returncode == 0, done.stderr
        _reports[wav] = json.loads(done.stdout)
    return _reports[wav]


def family(word: str) -> str:
    return "hesitation" if word.lower() in HESITATIONS else word.lower()


def filler_words(rep: dict[str, Any]) -> list[str]:
    return [f["word"].lower() for f in rep["fillers"]]


def noisy_copy(src: Path, dst: Path, snr_db: float, seed: int = 7) -> None:
    """Write `src` with white noise mixed in at the given signal-to-noise ratio."""
    with wave.open(str(src)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    clean = np.frombuffer(frames, dtype=np.int16).astype(np.float64)
    speech_power = np.mean(clean[np.abs(clean) > 0] ** 2)
    noise = np.random.default_rng(seed).normal(
        0, np.sqrt(speech_power / 10 ** (snr_db / 10)), clean.size
    )
    mixed = np.clip(clean + noise, -32768, 32767).astype(np.int16)
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(mixed.tobytes())


@pytest.mark.slow
@pytest.mark.parametrize("wav", CLIPS, ids=lambda p: p.stem)
def test_word_count_within_eight_percent(wav: Path) -> None:
    # Whisper base drops a few words on one clip (project: 77 of 82, measured) now that the
    # filled-pause detector no longer makes up the count with a false "um"
    rep, gt = report(wav), truth(wav)
    assert abs(rep["totalWords"] - gt["totalWords"]) <= WORD_COUNT_PER_CLIP * gt["totalWords"]


@pytest.mark.slow
def test_word_count_over_every_clip_within_five_percent() -> None:
    heard = sum(report(wav)["totalWords"] for wav in CLIPS)
    said = sum(truth(wav)["totalWords"] for wav in CLIPS)
    assert abs(heard - said) <= WORD_COUNT_OVERALL * said


def filler_hits(wav: Path) -> tuple[int, list[str]]:
    """How many of the clip's spoken fillers were found within their spoken part, and the misses."""
    rep, gt = report(wav), truth(wav)
    expected = gt["fillers"] + gt.get("contextFillers", [])
    found = [(family(f["word"]), f["timestamp"]) for f in rep["fillers"]]
    used: set[int] = set()
    misses: list[str] = []
    for want in expected:
        # A filler is attributed to the spoken part it was in: it must be found within that part,
        # and each reported filler answers for one spoken filler only.
        span = next(s for s in gt["spans"] if abs(s["start"] - want["near"]) < 0.01)
        hit = next(
            (
                k
                for k, (w, t) in enumerate(found)
                if k not in used
                and w == family(want["word"])
                and span["start"] - 0.5 <= t <= span["end"]
            ),
            None,
        )
        if hit is None:
            misses.append(f"{want['word']!r} in {span['text']!r}")
        else:
            used.add(hit)
    return len(expected) - len(misses), misses


@pytest.mark.slow
@pytest.mark.parametrize("wav", CLIPS, ids=lambda p: p.stem)
def test_spoken_fillers_are_found_near_their_time(wav: Path) -> None:
    found, misses = filler_hits(wav)
    assert found >= FILLER_RECALL_PER_CLIP * (found + len(misses)), misses


@pytest.mark.slow
def test_filler_recall_over_all_clips_meets_the_floor() -> None:
    hits = expected = 0
    missed: list[str] = []
    for wav in CLIPS:
        found, misses = filler_hits(wav)
        hits, expected = hits + found, expected + found + len(misses)
        missed += misses
    assert hits / expected >= FILLER_RECALL_FLOOR, (hits, expected, missed)


def pause_found(want: dict[str, float], pauses: list[dict[str, float]]) -> bool:
    """An inserted silence is found when a reported pause holds it, within the tolerance.

    Speech resumes exactly where the inserted silence ends, so the end must match; the
    synthesizer trails off with up to half a second of silence of its own before it, so the
    reported pause may begin that much earlier than the inserted one.
    """
    start, end = want["timestamp"], want["timestamp"] + want["duration"]
    return any(
        abs(p["timestamp"] + p["duration"] - end) <= PAUSE_TOLERANCE
        and start - SYNTH_TRAIL - PAUSE_TOLERANCE <= p["timestamp"] <= start + PAUSE_TOLERANCE
        for p in pauses
    )


@pytest.mark.slow
@pytest.mark.parametrize("wav", CLIPS, ids=lambda p: p.stem)
def test_every_inserted_pause_is_found(wav: Path) -> None:
    rep, gt = report(wav), truth(wav)
    for want in gt["longPauses"]:
        assert pause_found(want, rep["pauses"]), (want, rep["pauses"])
    # and no invented pause: every reported one is an inserted silence
    assert len(rep["pauses"]) == len(gt["longPauses"]), rep["pauses"]


@pytest.mark.slow
def test_like_as_a_verb_and_so_that_are_not_fillers() -> None:
    wav = FIXTURES / "fast-like.wav"
    rep, gt = report(wav), truth(wav)
    for not_filler in gt["notFillers"]:
        span = next(s for s in gt["spans"] if abs(s["start"] - not_filler["near"]) < 0.01)
        wrong = [
            f
            for f in rep["fillers"]
            if f["word"] == not_filler["word"] and span["start"] <= f["timestamp"] <= span["end"]
        ]
        assert wrong == [], (not_filler["why"], wrong)


@pytest.mark.slow
def test_report_has_the_wire_shape_and_coaching() -> None:
    rep = report(FIXTURES / "weakness.wav")
    for key in (
        "transcript",
        "duration",
        "totalWords",
        "averagePace",
        "paceTimeline",
        "fillers",
        "pauses",
        "words",
        "transcriptSegments",
        "aiAnalysis",
    ):
        assert key in rep
    ai = rep["aiAnalysis"]
    assert 0 <= ai["overallScore"] <= 100 and 0 <= ai["confidenceScore"] <= 100
    # one clock: every improvement is at a word's start or where a long pause's silence starts
    moments = {w["start"] for w in rep["words"]} | {p["timestamp"] for p in rep["pauses"]}
    assert ai["improvements"] and all(i["timestamp"] in moments for i in ai["improvements"])
    assert ai["strengths"] or ai["weaknesses"]
    assert {f["verdict"] for f in ai["findings"]} <= {"strength", "fine", "weakness"}


@pytest.mark.slow
def test_noisy_recording_still_finds_fillers_and_pauses(tmp_path: Path) -> None:
    src = FIXTURES / "weakness.wav"
    noisy = tmp_path / "weakness-noisy.wav"
    noisy_copy(src, noisy, snr_db=20)
    rep, gt = report(noisy), truth(src)
    assert abs(rep["totalWords"] - gt["totalWords"]) <= 0.1 * gt["totalWords"]
    for want in gt["longPauses"]:
        assert pause_found(want, rep["pauses"]), (want, rep["pauses"])
    heard = [family(w) for w in filler_words(rep)].count("hesitation")
    assert heard >= sum(1 for f in gt["fillers"] if family(f["word"]) == "hesitation")


@pytest.mark.slow
def test_readable_report() -> None:
    done = run_coach("analyze", FIXTURES / "project.wav", "--question", "Walk me through a project")
    assert done.returncode == 0, done.stderr
    assert "Coaching report" in done.stdout
    assert "Fillers" in done.stdout and "Long pauses" in done.stdout
    assert "Traceback" not in done.stderr


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    done = run_coach("analyze", tmp_path / "nope.wav")
    assert done.returncode == 2
    assert "no such file" in one_line_error(done)


def test_text_renamed_wav_is_one_clear_line(tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("these are my notes, not a recording\n" * 20)
    done = run_coach("analyze", fake)
    assert done.returncode == 2
    assert "notes.wav" in one_line_error(done)


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    done = run_coach("analyze", FIXTURES / "project.wav", PAUSE_THRESHOLD_SECONDS="soon")
    assert done.returncode == 2
    assert "PAUSE_THRESHOLD_SECONDS" in one_line_error(done)


@pytest.mark.parametrize("seconds", [0.0, 5.0], ids=["empty", "silent"])
def test_empty_or_silent_recording_says_no_speech(tmp_path: Path, seconds: float) -> None:
    wav = tmp_path / "quiet.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * int(16000 * seconds))
    done = run_coach("analyze", wav)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "No speech was found" in done.stderr
