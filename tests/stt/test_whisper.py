"""Local transcription: VAD silences, windows across block edges, progress."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.settings import Settings
from coach.stt.vad import find_silences
from coach.stt.whisper import LocalWhisper, bare_word
from tests.paths import FIXTURES


def load(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


@pytest.mark.parametrize("name", ["weakness", "project"])
def test_vad_finds_every_inserted_silence(name: str) -> None:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    silences = find_silences(load(FIXTURES / f"{name}.wav"), 16000, min_silence=1.0)
    for pause in truth["longPauses"]:
        end = pause["timestamp"] + pause["duration"]
        assert any(abs(s.end - end) <= 0.3 and s.start <= pause["timestamp"] for s in silences)
    assert len(silences) == len(truth["longPauses"])


@pytest.mark.parametrize(
    ("token", "bare"),
    [(" Um,", "um"), ("like,", "like"), (" don't", "don't"), ("-where", "where"), ("...", "")],
)
def test_bare_word(token: str, bare: str) -> None:
    assert bare_word(token) == bare


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> LocalWhisper:
    return LocalWhisper(Settings(data_dir=tmp_path_factory.mktemp("data")), block_seconds=8.0)


@pytest.mark.slow
def test_small_blocks_lose_no_words_and_report_progress(whisper: LocalWhisper) -> None:
    truth = json.loads((FIXTURES / "weakness.json").read_text())
    seen: list[tuple[float, float | None]] = []
    result = whisper.transcribe_file(
        FIXTURES / "weakness.wav", on_progress=lambda d, t: seen.append((d, t))
    )
    assert abs(len(result.words) - truth["totalWords"]) <= 0.05 * truth["totalWords"]
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert len({round(s, 2) for s in starts}) == len(starts)  # nothing heard twice
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(done) >= 3
    assert done[-1] == pytest.approx(truth["duration"], abs=0.05)
    assert result.duration == pytest.approx(truth["duration"], abs=0.05)


@pytest.mark.slow
def test_silence_only_gives_no_words(whisper: LocalWhisper, tmp_path: Path) -> None:
    path = tmp_path / "hum.wav"
    rng = np.random.default_rng(3)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((rng.normal(0, 30, 16000 * 20)).astype(np.int16).tobytes())
    result = whisper.transcribe_file(path)
    assert result.words == ()
    assert result.duration == pytest.approx(20.0)


@pytest.fixture(scope="module")
def default_whisper(tmp_path_factory: pytest.TempPathFactory) -> LocalWhisper:
    return LocalWhisper(Settings(data_dir=tmp_path_factory.mktemp("data")))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["weakness", "project"])
def test_fixture_words_hesitations_and_pauses(default_whisper: LocalWhisper, name: str) -> None:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    result = default_whisper.transcribe_file(FIXTURES / f"{name}.wav")
    # Whisper base drops a few words (77 of project's 82, measured), so the count is held to
    # within 8 %; the filled-pause detector must not make up the difference with false fillers.
    assert abs(len(result.words) - truth["totalWords"]) <= 0.08 * truth["totalWords"]
    # The JSON's "near" is where the sentence holding the hesitation starts, so a hesitation
    # mid-sentence is heard a few seconds later; each heard one may match only one expected.
    heard = [w for w in result.words if w.word in ("um", "uh")]
    for filler in (f for f in truth["fillers"] if f["word"] in ("um", "uh")):
        near = filler["near"]
        match = next(
            (w for w in heard if w.word == filler["word"] and -0.3 <= w.start - near <= 4), None
        )
        assert match is not None, filler
        heard.remove(match)
    for pause in truth["longPauses"]:
        end = pause["timestamp"] + pause["duration"]
        # The synthesized speech fades out before the inserted pause, so the heard silence
        # may begin a little earlier than the insertion point, never later.
        assert any(
            abs(s.end - end) <= 0.3 and pause["timestamp"] - 0.5 <= s.start <= pause["timestamp"]
            for s in result.silences
        ), pause
