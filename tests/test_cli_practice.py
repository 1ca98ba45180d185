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
