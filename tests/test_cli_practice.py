"""`coach practice`: a recording streamed through a live session, end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.analysis.sessions import FIXTURES, truth
from tests.test_cli_analyze import run_coach


@pytest.mark.slow
def test_practice_streams_through_a_live_session_and_prints_the_report(tmp_path: Path) -> None:
    gt = truth("weakness")
    done = run_coach("practice", FIXTURES / "weakness.wav", "--speed", "8", DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    # words show up live, one line per utterance with its time, before the report
    live, report = done.stdout.split("Coaching report", 1)
    assert len(re.findall(r"^\d:\d\d\.\d  \S", live, re.M)) >= 2
    assert "Analyzing" in done.stderr
    words = re.search(r"(\d+) words in", report)
    assert words and abs(int(words.group(1)) - gt["totalWords"]) <= 0.1 * gt["totalWords"]
    assert re.search(r"Fillers \(\d+\)", report)


def test_practice_refuses_bad_input(tmp_path: Path) -> None:
    missing = run_coach("practice", tmp_path / "nope.wav")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    no_token = run_coach("practice", FIXTURES / "weakness.wav", "--server", "http://127.0.0.1:9")
    assert no_token.returncode == 2 and "--token" in no_token.stderr
    refused = run_coach(
        "practice", FIXTURES / "weakness.wav", "--server", "http://127.0.0.1:9", "--token", "x"
    )
    assert refused.returncode == 1 and "cannot practise" in refused.stderr


def _seconds(clock: str) -> int:
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.mark.slow
def test_practice_runs_a_drill_with_its_hints_and_its_result(tmp_path: Path) -> None:
    gt = truth("weakness")
    done = run_coach(
        "practice", FIXTURES / "weakness.wav", "--speed", "8", "--drill", "fillers",
        "--seconds", "60", DATA_DIR=str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # the prompt of a fillers drill, its hints as fillers are heard, and its result at the end
    assert "Interviewer:" in done.stdout and "pause silently" in done.stdout
    hints = re.findall(r"^\d:\d\d\.\d hint: “(\w[\w ]*)” at", done.stderr, re.M)
    assert hints and set(hints) <= {f["word"] for f in gt["fillers"]} | {"like", "so"}
    # praise for a stretch without fillers never covers a filler hinted at later
    said = [_seconds(m) for m in re.findall(r"hint: “[\w ]+” at (\d:\d\d)", done.stderr)]
    for at, stretch in re.findall(r"^(\d:\d\d)\.\d hint: (\d+) s without", done.stderr, re.M):
        end = _seconds(at)
        assert not [t for t in said if end - int(stretch) + 1 < t < end - 1], done.stderr
    drill = re.search(r"Drill: Filler words\s+(\d+)/100\n\s+(.+)", done.stdout)
    assert drill and 0 <= int(drill.group(1)) <= 100
    assert "range" in drill.group(2)


def test_practice_refuses_an_unknown_drill(tmp_path: Path) -> None:
    bad = run_coach("practice", FIXTURES / "weakness.wav", "--drill", "posture")
    assert bad.returncode == 2 and "fillers, pace, pauses" in bad.stderr
    short = run_coach("practice", FIXTURES / "weakness.wav", "--drill", "pace", "--seconds", "5")
    assert short.returncode == 2
