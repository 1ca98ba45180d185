"""The filled-pause detector on the hard clips: more hesitations found, none invented."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from coach.settings import Settings
from coach.speech.metrics import summarize
from coach.speech.words import Word
from coach.stt.base import Transcription
from coach.stt.whisper import LocalWhisper
from tests.paths import FIXTURES

HARD = sorted((FIXTURES / "fillers").glob("*.wav"))
HESITATIONS = {"um", "uh", "erm", "hmm", "hm", "er", "ah", "uhm", "eh"}
# The promise, summed over the hard clips: the fused words find more hesitations than Whisper
# alone, at least this share of those spoken, and what they report is right at least this often
# (measured: 36 of 54 found, five more reported in parts that held one or none, with Whisper base
# on one machine; Whisper alone found 7: recall 0.67, precision 0.88). The floors leave room for
# another CPU's Whisper to differ by a few words. Issue 14's goal of 0.9 recall is not met yet;
# `python bench/stt.py --fillers-only` prints where each clip stands, before and after.
RECALL_FLOOR = 0.5
PRECISION_FLOOR = 0.8


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Transcription]:
    """Each hard clip transcribed once, its recognized and its fused words."""
    whisper = LocalWhisper(Settings(data_dir=tmp_path_factory.mktemp("data")))
    return {wav: whisper.transcribe_file(wav) for wav in HARD}


def truth(wav: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(wav.with_suffix(".json").read_text())
    return data


def score(words: Sequence[Word], gt: dict[str, Any]) -> tuple[int, int, int]:
    """(spoken hesitations, found within their spoken part, reported ones matching none)."""
    found = [f.timestamp for f in summarize(words).fillers if f.word in HESITATIONS]
    said = [f for f in gt["fillers"] if f["word"] in HESITATIONS]
    used: set[int] = set()
    for want in said:
        span = next(s for s in gt["spans"] if abs(s["start"] - want["near"]) < 0.01)
        k = next(
            (
                k
                for k, t in enumerate(found)
                if k not in used and span["start"] - 0.5 <= t <= span["end"]
            ),
            None,
        )
        if k is not None:
            used.add(k)
    return len(said), len(used), len(found) - len(used)


def totals(runs: dict[Path, Transcription]) -> dict[str, int]:
    sums = {"said": 0, "before": 0, "after": 0, "extra": 0}
    for wav, t in runs.items():
        gt = truth(wav)
        assert t.recognized is not None
        said, before, _ = score(t.recognized, gt)
        _, after, extra = score(t.words, gt)
        sums["said"] += said
        sums["before"] += before
        sums["after"] += after
        sums["extra"] += extra
    return sums


@pytest.mark.slow
def test_read_speech_gets_no_filler(runs: dict[Path, Transcription]) -> None:
    negatives = [wav for wav in HARD if truth(wav)["readSpeech"]]
    assert negatives
    for wav in negatives:
        t = runs[wav]
        assert [w for w in t.words if w.source == "audio"] == [], wav.stem


@pytest.mark.slow
def test_fused_fillers_are_precise_and_never_lose_one(runs: dict[Path, Transcription]) -> None:
    s = totals(runs)
    assert s["after"] > s["before"], s
    assert s["after"] / max(1, s["said"]) >= RECALL_FLOOR, s
    assert s["after"] / max(1, s["after"] + s["extra"]) >= PRECISION_FLOOR, s
