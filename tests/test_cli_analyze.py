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

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
OWN = REPO / "tests" / "fixtures"

SHARED_CLIPS = [SHARED / "weakness.wav", SHARED / "project.wav"]
OWN_CLIPS = [OWN / "fast-like.wav", OWN / "thinking.wav", REPO / "coach" / "samples" / "answer.wav"]
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
@pytest.mark.parametrize("wav", SHARED_CLIPS + OWN_CLIPS, ids=lambda p: p.stem)
def test_word_count_within_five_percent(wav: Path) -> None:
    rep, gt = report(wav), truth(wav)
    assert abs(rep["totalWords"] - gt["totalWords"]) <= 0.05 * gt["totalWords"]


# Where the bundled base model itself drops a filler, the miss is recorded here rather than
# hidden: these fail loudly (strict) the day a better model or decoding hears them.
MODEL_MISSES = {
    "fast-like": "at 230 wpm Whisper base drops the first of two fillers 'like'",
    "answer": "Whisper base drops the 'um' and 'uh' of this clip's fast sentences",
}
FILLER_CLIPS = [
    pytest.param(
        wav,
        id=wav.stem,
        marks=[pytest.mark.xfail(strict=True, reason=MODEL_MISSES[wav.stem])]
        if wav.stem in MODEL_MISSES
        else [],
    )
    for wav in SHARED_CLIPS + OWN_CLIPS
]


@pytest.mark.slow
@pytest.mark.parametrize("wav", FILLER_CLIPS)
def test_every_spoken_filler_is_found_near_its_time(wav: Path) -> None:
    rep, gt = report(wav), truth(wav)
    expected = gt["fillers"] + gt.get("contextFillers", [])
    found = [(family(f["word"]), f["timestamp"]) for f in rep["fillers"]]
    spans = gt["spans"]
    for want in expected:
        # A filler is attributed to the spoken part it was in: it must be found within that part.
        span = next(s for s in spans if abs(s["start"] - want["near"]) < 0.01)
        hits = [
            t
            for w, t in found
            if w == family(want["word"]) and span["start"] - 0.5 <= t <= span["end"]
        ]
        assert hits, f"{want['word']!r} in {span['text']!r} not found; found {found}"
    said = [family(w) for w in filler_words(rep)]
    for word in {family(w["word"]) for w in expected}:
        wanted = sum(1 for w in expected if family(w["word"]) == word)
        assert said.count(word) >= wanted, (word, said)


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
@pytest.mark.parametrize("wav", SHARED_CLIPS + OWN_CLIPS, ids=lambda p: p.stem)
def test_every_inserted_pause_is_found(wav: Path) -> None:
    rep, gt = report(wav), truth(wav)
    for want in gt["longPauses"]:
        assert pause_found(want, rep["pauses"]), (want, rep["pauses"])
    # and no invented pause: every reported one is an inserted silence
    assert len(rep["pauses"]) == len(gt["longPauses"]), rep["pauses"]


@pytest.mark.slow
def test_like_as_a_verb_and_so_that_are_not_fillers() -> None:
    wav = OWN / "fast-like.wav"
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
    rep = report(SHARED / "weakness.wav")
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
    starts = {w["start"] for w in rep["words"]}
    assert ai["improvements"] and all(i["timestamp"] in starts for i in ai["improvements"])


@pytest.mark.slow
def test_noisy_recording_still_finds_fillers_and_pauses(tmp_path: Path) -> None:
    src = SHARED / "weakness.wav"
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
    done = run_coach("analyze", SHARED / "project.wav", "--question", "Walk me through a project")
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
    done = run_coach("analyze", SHARED / "project.wav", PAUSE_THRESHOLD_SECONDS="soon")
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
