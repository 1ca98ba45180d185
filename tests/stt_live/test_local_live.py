"""The local live recognizer's endpointing, driven by scripted speech probabilities."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from coach.speech.words import Word
from coach.stt.local_live import EndpointConfig, LocalLiveRecognizer
from coach.stt.streaming import (
    Recognized,
    RecognizerEvent,
    SpeechStarted,
    SpeechStopped,
    UtteranceEnd,
)

RATE = 16000
CHUNK = 512
CHUNK_S = CHUNK / RATE


def plan(*parts: tuple[float, float]) -> bytes:
    """Audio of (seconds, level) parts; the fake VAD calls a chunk speech when level > 0."""
    out = [np.full(int(sec * RATE), int(level * 10000), dtype="<i2") for sec, level in parts]
    return np.concatenate(out).tobytes()


def by_level(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    chunks = samples[: samples.size // CHUNK * CHUNK].reshape(-1, CHUNK)
    return (np.abs(chunks).mean(axis=1) > 0.1).astype(np.float32)


class Transcripts:
    """A fake Whisper: one word per utterance, named by its length, timed by the audio."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float]] = []

    def __call__(self, audio: npt.NDArray[np.float32], offset: float) -> list[Word]:
        speech = np.flatnonzero(np.abs(audio) > 0.1)
        if speech.size == 0:
            return []
        start = offset + speech[0] / RATE
        end = offset + (speech[-1] + 1) / RATE
        self.calls.append((start, end))
        return [Word(f"u{len(self.calls)}", round(start, 3), round(end, 3))]


async def run(
    audio: bytes, config: EndpointConfig | None = None
) -> tuple[list[RecognizerEvent], Transcripts]:
    whisper = Transcripts()
    recognizer = LocalLiveRecognizer(whisper, probabilities=by_level, endpoint=config)
    stream = recognizer.stream(sample_rate=RATE)
    for i in range(0, len(audio), 3200):
        stream.push_audio(audio[i : i + 3200])
        await asyncio.sleep(0)
    stream.end_input()
    try:
        async with asyncio.timeout(10):
            events = [e async for e in stream]
    finally:
        await stream.aclose()
        await recognizer.aclose()
    return events, whisper


def spans(events: Sequence[RecognizerEvent]) -> list[tuple[float, float]]:
    return [(e.start, e.end) for e in events if isinstance(e, Recognized)]


@pytest.mark.parametrize(
    ("parts", "utterances"),
    [
        # one phrase
        ([(0.5, 0), (2.0, 1), (1.5, 0)], [(0.5, 2.5)]),
        # a short breath inside a phrase does not split it
        ([(0.5, 0), (1.0, 1), (0.3, 0), (1.0, 1), (1.5, 0)], [(0.5, 2.8)]),
        # a longer gap does
        ([(0.5, 0), (1.0, 1), (0.8, 0), (1.0, 1), (1.5, 0)], [(0.5, 1.5), (2.3, 3.3)]),
        # a click shorter than min_speech is not an utterance
        ([(0.5, 0), (0.05, 1), (1.5, 0)], []),
        # speech running to the end of input is flushed
        ([(0.5, 0), (1.0, 1)], [(0.5, 1.5)]),
    ],
)
async def test_utterances_are_cut_at_pauses(
    parts: list[tuple[float, float]], utterances: list[tuple[float, float]]
) -> None:
    events, _ = await run(plan(*parts))
    got = spans(events)
    assert len(got) == len(utterances)
    for (s, e), (ws, we) in zip(got, utterances, strict=True):
        assert s == pytest.approx(ws, abs=CHUNK_S) and e == pytest.approx(we, abs=CHUNK_S)


async def test_utterance_end_follows_a_long_enough_gap_once() -> None:
    events, _ = await run(plan((0.5, 0), (1.0, 1), (0.7, 0), (1.0, 1), (2.0, 0), (1.0, 1)))
    kinds = [type(e).__name__ for e in events if not isinstance(e, SpeechStarted | SpeechStopped)]
    # 0.7 s cuts the utterance but is no utterance end; 2 s is; the tail ends the stream
    assert kinds == ["Recognized", "Recognized", "UtteranceEnd", "Recognized", "UtteranceEnd"]
    # each utterance is announced when its speech starts, before its words
    starts = [e.at for e in events if isinstance(e, SpeechStarted)]
    assert starts == pytest.approx([0.5, 2.2, 5.2], abs=CHUNK_S)
    first_final = next(i for i, e in enumerate(events) if isinstance(e, Recognized))
    assert isinstance(events[0], SpeechStarted) and first_final > 0
    ends = [e for e in events if isinstance(e, UtteranceEnd)]
    assert ends[0].last_word_end == pytest.approx(3.2, abs=CHUNK_S)


async def test_long_monologue_is_cut_at_the_window_limit() -> None:
    config = EndpointConfig(max_utterance=5.0)
    events, _whisper = await run(plan((0.2, 0), (12.0, 1), (1.5, 0)), config)
    got = spans(events)
    assert len(got) == 3
    assert all(e - s <= 5.0 + 2 * CHUNK_S for s, e in got)
    # no audio falls between the windows
    for (_, e1), (s2, _) in itertools.pairwise(got):
        assert s2 - e1 <= CHUNK_S
    assert sum(e - s for s, e in got) == pytest.approx(12.0, abs=4 * CHUNK_S)


async def test_model_failure_ends_the_stream_with_a_provider_error() -> None:
    from coach.providers import ProviderError

    def broken(audio: npt.NDArray[np.float32], offset: float) -> list[Word]:
        raise RuntimeError("model file is corrupt")

    recognizer = LocalLiveRecognizer(broken, probabilities=by_level)
    stream = recognizer.stream(sample_rate=RATE)
    stream.push_audio(plan((0.2, 0), (1.0, 1), (1.0, 0)))
    stream.end_input()
    with pytest.raises(ProviderError, match="corrupt"):
        async with asyncio.timeout(10):
            _ = [e async for e in stream]
    await stream.aclose()
    await recognizer.aclose()


async def test_the_model_loads_as_the_first_session_opens_once() -> None:
    import threading

    loads: list[str] = []
    loaded = threading.Event()

    def load() -> None:
        loads.append(threading.current_thread().name)
        loaded.set()

    recognizer = LocalLiveRecognizer(Transcripts(), probabilities=by_level, load_model=load)
    first = recognizer.stream(sample_rate=RATE)
    # no audio yet: the load is already under way on the model's worker, off the loop
    assert await asyncio.to_thread(loaded.wait, 5)
    second = recognizer.stream(sample_rate=RATE)
    for stream in (first, second):
        stream.end_input()
        await stream.aclose()
    await recognizer.aclose()
    assert len(loads) == 1 and loads[0].startswith("coach-whisper")


async def test_a_failed_early_load_fails_the_first_utterance_with_its_reason() -> None:
    from coach.providers import ProviderError

    def load() -> None:
        raise RuntimeError("no model.bin")

    def transcribe(audio: npt.NDArray[np.float32], offset: float) -> list[Word]:
        load()  # as LocalWhisper does: the model loads (again) where it is used
        return []

    recognizer = LocalLiveRecognizer(transcribe, probabilities=by_level, load_model=load)
    stream = recognizer.stream(sample_rate=RATE)
    stream.push_audio(plan((0.2, 0), (1.0, 1), (1.0, 0)))
    stream.end_input()
    with pytest.raises(ProviderError, match=r"no model\.bin"):
        async with asyncio.timeout(10):
            _ = [e async for e in stream]
    await stream.aclose()
    await recognizer.aclose()
