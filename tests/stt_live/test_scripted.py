"""The scripted recognizer: a fixture's words come back as its audio is pushed."""

from __future__ import annotations

import json
import re
import wave
from typing import Any

import pytest

from coach.providers import ProviderError
from coach.speech.words import Word
from coach.stt.deepgram_live import DeepgramLiveRecognizer
from coach.stt.scripted import (
    ScriptedFailure,
    ScriptedRecognizer,
    ScriptedStream,
    release_time,
    script_from_words,
)
from coach.stt.streaming import Recognized, RecognizerEvent, StreamingRecognizer, UtteranceEnd
from tests.paths import FIXTURES

FRAME_SECONDS = 0.02


def load(name: str) -> tuple[dict[str, Any], bytes, int]:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    with wave.open(str(FIXTURES / f"{name}.wav")) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return truth, wav.readframes(wav.getnframes()), wav.getframerate()


def words_from_spans(truth: dict[str, Any]) -> list[Word]:
    """Spread each fixture span's words evenly over the span's time."""
    words: list[Word] = []
    for span in truth["spans"]:
        tokens = span["text"].split()
        step = (span["end"] - span["start"]) / len(tokens)
        for i, token in enumerate(tokens):
            start = span["start"] + i * step
            bare = re.sub(r"[^\w']", "", token).lower()
            words.append(Word(bare, start, start + step * 0.9, 0.9, token))
    return words


@pytest.mark.parametrize("name", ["project", "weakness"])
async def test_replays_a_fixture_in_step_with_its_audio(name: str) -> None:
    truth, audio, rate = load(name)
    words = words_from_spans(truth)
    recognizer: StreamingRecognizer = ScriptedRecognizer.from_words(words, utterance_gap=1.0)
    stream = recognizer.stream(sample_rate=rate, room=name)
    frame = int(FRAME_SECONDS * rate) * 2
    for i in range(0, len(audio), frame):
        stream.push_audio(audio[i : i + frame])
    assert isinstance(stream, ScriptedStream)
    released = list(stream.released)
    stream.end_input()
    events = [e async for e in stream]

    assert [e for _, e in released] == events[: len(released)]
    # every event came out once its audio was pushed, and no later than the next frame
    late = [pushed - release_time(e) for pushed, e in released]
    assert len(released) > 0 and all(0 <= d <= FRAME_SECONDS + 1e-9 for d in late)
    final_words = [w for e in events if isinstance(e, Recognized) and e.is_final for w in e.words]
    assert " ".join(w.text for w in final_words) == truth["transcript"]
    assert len(final_words) == truth["totalWords"]
    ends = [e for e in events if isinstance(e, UtteranceEnd)]
    assert len(ends) == len(truth["longPauses"]) + 1
    for pause, end in zip(truth["longPauses"], ends, strict=False):
        assert end.last_word_end == pytest.approx(pause["timestamp"], abs=0.5)
    interims = [e for e in events if isinstance(e, Recognized) and not e.is_final]
    assert len(interims) == len(words)


async def test_a_scripted_failure_ends_the_stream_with_the_error() -> None:
    truth, audio, rate = load("project")
    words = words_from_spans(truth)
    error = ProviderError("deepgram", "connection dropped", retryable=True)
    fail_at = truth["longPauses"][0]["timestamp"]
    script = [*script_from_words(words), ScriptedFailure(fail_at, error)]
    stream = ScriptedRecognizer(script, keep_audio=True).stream(sample_rate=rate)
    stream.push_audio(audio)
    seen: list[RecognizerEvent] = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            seen.append(event)
    assert caught.value is error
    assert seen and all(release_time(e) <= fail_at for e in seen)
    assert stream.audio == bytearray(audio)


async def test_aclose_drops_the_rest_and_push_checks_samples() -> None:
    recognizer = ScriptedRecognizer(script_from_words([Word("hello", 0.0, 0.4)]))
    stream = recognizer.stream(sample_rate=16000)
    with pytest.raises(ValueError, match="whole 2-byte samples"):
        stream.push_audio(b"\x00")
    await stream.aclose()
    stream.push_audio(b"\x00\x00" * 16000)
    assert [e async for e in stream] == []
    assert stream.pushed_bytes == 0
    assert recognizer.streams == [stream]


def test_deepgram_recognizer_fits_the_protocol() -> None:
    recognizer: StreamingRecognizer = DeepgramLiveRecognizer("key")
    assert recognizer.name == "deepgram"
