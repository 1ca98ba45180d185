"""The live pass's short audio context: Whisper's padding cut off before the encoder."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.live_accuracy import live_utterances, start_shifts
from bench.stt import wer
from coach.settings import Settings
from coach.stt.factory import live_decoding
from coach.stt.whisper import (
    FRAMES_PER_SECOND,
    LIVE,
    Decoding,
    LocalWhisper,
    ShortContextEncoder,
    trimmed_features,
)
from tests.paths import FIXTURES


def padded(content: int, frames: int = 3000, mels: int = 80) -> np.ndarray:
    """Mel features as faster-whisper hands them over: speech, then zero padding."""
    f = np.zeros((mels, frames), dtype=np.float32)
    f[:, :content] = 0.5
    return f


@pytest.mark.parametrize(
    ("content", "floor", "kept"),
    [
        (250, 0, 400),  # the speech, a second after it, rounded up to a whole second
        (250, 1000, 1000),  # never under the floor
        (1000, 1000, 1100),
        (1950, 1000, 2100),
        (2950, 1000, 3000),  # never longer than the input
        (0, 1000, 1000),  # nothing but padding
    ],
)
def test_the_padding_is_cut_to_the_speech(content: int, floor: int, kept: int) -> None:
    assert trimmed_features(padded(content), floor).shape == (80, kept)
    batched = padded(content)[None]
    assert trimmed_features(batched, floor).shape == (1, 80, kept)


@given(
    content=st.integers(0, 3000),
    floor=st.integers(0, 3000),
    frames=st.integers(1, 3000),
)
def test_every_voiced_frame_is_kept(content: int, floor: int, frames: int) -> None:
    content = min(content, frames)
    out = trimmed_features(padded(content, frames, mels=4), floor)
    assert out.shape[-1] >= content
    assert out.shape[-1] >= min(floor, frames)
    assert out.shape[-1] <= frames
    # whole seconds, unless the input or the floor ends elsewhere
    assert out.shape[-1] in (frames, floor) or out.shape[-1] % FRAMES_PER_SECOND == 0
    np.testing.assert_array_equal(out, padded(content, frames, mels=4)[:, : out.shape[-1]])


@dataclass
class FakeSegment:
    compression_ratio: float


class FakeModel:
    """Records the frames each encode saw; loops (a high compression ratio) when told to."""

    def __init__(self, loop_under: int) -> None:
        self.loop_under = loop_under
        self.seen: list[int] = []

    def encode(self, features: Any) -> int:
        self.seen.append(features.shape[-1])
        return int(features.shape[-1])

    def run(self, encode: ShortContextEncoder, content: int) -> list[FakeSegment]:
        frames = encode(padded(content))
        return [FakeSegment(3.5 if frames < self.loop_under else 1.4)]


def test_a_decoding_that_loops_is_done_again_on_the_full_context() -> None:
    model = FakeModel(loop_under=1500)
    encode = ShortContextEncoder(model.encode, floor_seconds=10)
    assert encode.decode(lambda: model.run(encode, 400)) == [FakeSegment(1.4)]
    assert model.seen == [1000, 3000] and encode.retries == 1
    # the full context was for that one decoding only
    assert encode.decode(lambda: model.run(encode, 1600)) == [FakeSegment(1.4)]
    assert model.seen[2:] == [1700] and encode.retries == 1


def test_the_full_context_is_only_for_the_thread_redoing_its_decoding() -> None:
    model = FakeModel(loop_under=0)
    encode = ShortContextEncoder(model.encode, floor_seconds=5)
    other_thread: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def looping_then_waiting() -> list[FakeSegment]:
        frames = encode(padded(100))
        if frames == 3000:  # the redo: let the other thread encode meanwhile
            inside.set()
            release.wait(10)
            return [FakeSegment(1.0)]
        return [FakeSegment(9.0)]

    def other() -> None:
        inside.wait(10)
        other_thread.append(encode(padded(100)))
        release.set()

    t = threading.Thread(target=other)
    t.start()
    encode.decode(looping_then_waiting)
    t.join(10)
    assert other_thread == [500]
    assert encode(padded(100)) is not None and model.seen[-1] == 500


def test_only_the_live_pass_cuts_the_context(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, live_audio_context_seconds=8, live_beam_size=2)
    assert live_decoding(s) == Decoding(beam_size=2, temperature=(0.0,), audio_context=8)
    assert live_decoding(Settings(data_dir=tmp_path)).audio_context == LIVE.audio_context
    assert Decoding().audio_context == 30.0  # the file path and the final pass
    with pytest.raises(ValueError, match="live_audio_context_seconds"):
        Settings(data_dir=tmp_path, live_audio_context_seconds=31)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["weakness", "star-complete"])
def test_a_short_context_hears_as_well_as_the_full_one(tmp_path: Path, name: str) -> None:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    cut = live_utterances(FIXTURES / f"{name}.wav")
    heard: dict[float, str] = {}
    times: dict[float, list[tuple[str, float]]] = {}
    for context in (30.0, LIVE.audio_context):
        whisper = LocalWhisper(Settings(data_dir=tmp_path), decoding=Decoding(1, (0.0,), context))
        words = [w for audio, at in cut for w in whisper.transcribe_span(audio, at)]
        heard[context] = " ".join(w.word for w in words)
        times[context] = [(w.word, w.start) for w in words]
    full, short = (wer(truth["transcript"], heard[c]) for c in (30.0, LIVE.audio_context))
    # models differ a little by CPU: the promise is "no worse than a few words in a hundred"
    assert short <= full + 0.05, (full, short)
    shifts = start_shifts(times[30.0], times[LIVE.audio_context])
    # word times stay on the session clock
    assert len(shifts) >= 0.8 * len(times[30.0]) and float(np.median(shifts)) <= 0.1
