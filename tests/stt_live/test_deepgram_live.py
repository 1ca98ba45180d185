"""The Deepgram live recognizer through the real SDK against a local Deepgram-speaking server."""

from __future__ import annotations

import array
import asyncio
import itertools

import pytest

from coach.providers import ProviderError, RetryPolicy
from coach.stt.deepgram_live import DeepgramLiveRecognizer, DeepgramLiveStream
from coach.stt.streaming import Recognized, RecognizerEvent, UtteranceEnd
from tests.stt_live.fake_deepgram import FakeDeepgram, word_for

RATE = 16000
BYTES_PER_SECOND = RATE * 2
SAMPLES_PER_STEP = 160  # the ramp's value changes every 10 ms
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


def ramp(seconds: float) -> bytes:
    """Audio whose every 10 ms carries its own index, so a word's time names its audio."""
    samples = int(seconds * RATE)
    return array.array("h", [i // SAMPLES_PER_STEP + 1 for i in range(samples)]).tobytes()


def heard_at(audio: bytes, seconds: float) -> str:
    """The word the fake server names after the pushed audio at session time `seconds`."""
    index = round(seconds * RATE)
    return word_for(array.array("h", audio[index * 2 : index * 2 + 2])[0])


def recognizer(fake: FakeDeepgram, **kwargs: object) -> DeepgramLiveRecognizer:
    options: dict[str, object] = {"retry": FAST_RETRY, **kwargs}
    return DeepgramLiveRecognizer(fake.api_key, environment_url=fake.url, **options)  # type: ignore[arg-type]


async def push_paced(stream: DeepgramLiveStream, audio: bytes, frame_seconds: float = 0.02) -> None:
    frame = int(frame_seconds * BYTES_PER_SECOND)
    for i in range(0, len(audio), frame):
        stream.push_audio(audio[i : i + frame])
        await asyncio.sleep(0.001)


async def collect(stream: DeepgramLiveStream) -> list[RecognizerEvent]:
    try:
        async with asyncio.timeout(10):
            return [event async for event in stream]
    finally:
        await stream.aclose()


def finals(events: list[RecognizerEvent]) -> list[Recognized]:
    return [e for e in events if isinstance(e, Recognized) and e.is_final]


def assert_words_match_audio(events: list[RecognizerEvent], audio: bytes) -> None:
    """Every word's session time points at the audio the server heard it in."""
    for event in events:
        if isinstance(event, Recognized):
            for w in event.words:
                assert w.word == heard_at(audio, w.start), (w, event)


def expected_words(audio: bytes, window_seconds: float) -> list[str]:
    windows = int(len(audio) / BYTES_PER_SECOND / window_seconds + 0.999)
    return [heard_at(audio, i * window_seconds) for i in range(windows)]


async def test_streams_with_deepgram_options_and_maps_results() -> None:
    audio = ramp(2.0)
    async with FakeDeepgram() as fake:
        stream = recognizer(fake, model="nova-3", utterance_end_ms=1000).stream(
            sample_rate=RATE, room="room-1"
        )
        await push_paced(stream, audio)
        stream.end_input()
        stream.push_audio(ramp(0.1))  # a frame racing the end is ignored
        events = await collect(stream)

    [conn] = fake.connections
    assert conn.query == {
        "model": "nova-3",
        "encoding": "linear16",
        "sample_rate": str(RATE),
        "channels": "1",
        "interim_results": "true",
        "punctuate": "true",
        "smart_format": "true",
        "utterance_end_ms": "1000",
        "filler_words": "true",
    }
    assert conn.authorization == f"Token {fake.api_key}"
    assert bytes(conn.audio) == audio
    assert conn.controls[-2:] == ["Finalize", "CloseStream"]

    final_results = finals(events)
    # the server repeats some finals and interims; each window is reported final exactly once
    assert [w.word for r in final_results for w in r.words] == expected_words(
        audio, fake.window_seconds
    )
    sent_finals = [m for m in conn.sent if m["type"] == "Results" and m["is_final"]]
    assert len(sent_finals) > len(final_results)
    interims = [e for e in events if isinstance(e, Recognized) and not e.is_final]
    assert interims and all(a != b for a, b in itertools.pairwise(interims))
    assert_words_match_audio(events, audio)
    first_word = final_results[0].words[0]
    sent_word = sent_finals[0]["channel"]["alternatives"][0]["words"][0]
    assert first_word.punctuated_word == sent_word["punctuated_word"]
    assert first_word.confidence == sent_word["confidence"]
    assert first_word.end == pytest.approx(sent_word["end"])

    ends = [e for e in events if isinstance(e, UtteranceEnd)]
    speech_finals = [r for r in final_results if r.speech_final]
    assert len(ends) == len(speech_finals) > 0
    assert [e.last_word_end for e in ends] == pytest.approx(
        [r.words[-1].end for r in speech_finals]
    )


async def test_reconnects_after_a_drop_without_losing_audio_or_time() -> None:
    audio = ramp(3.0)
    drop_at = int(1.3 * RATE) * 2
    async with FakeDeepgram(drop_after_bytes={0: drop_at}) as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        await push_paced(stream, audio)
        stream.end_input()
        events = await collect(stream)

    first, second = fake.connections
    assert first.dropped and not second.dropped
    assert stream.connections == 2
    # every byte reached the server: the second connection resumes at or before where the
    # first one stopped (audio Deepgram had not finalized is sent again), then runs to the end
    assert audio.startswith(bytes(first.audio))
    assert audio.endswith(bytes(second.audio))
    resume = len(audio) - len(second.audio)
    assert 0 < resume <= len(first.audio)
    # Deepgram's clock restarted at 0 on the second connection; ours did not
    assert_words_match_audio(events, audio)
    words = [w for r in finals(events) for w in r.words]
    assert [w.word for w in words] == expected_words(audio, fake.window_seconds)
    assert any(w.start >= resume / BYTES_PER_SECOND for w in words)
    assert stream.dropped_bytes == 0


async def test_audio_pushed_during_an_outage_is_buffered_within_the_bound() -> None:
    audio = ramp(2.0)
    before, kept = int(1.0 * RATE) * 2, int(0.3 * RATE) * 2
    async with FakeDeepgram(drop_after_bytes={0: before}, hold_handshake=1) as fake:
        stream = recognizer(fake, max_buffer_seconds=0.3).stream(sample_rate=RATE)
        await push_paced(stream, audio[:before])
        await fake.until(lambda: fake.handshakes == 2)  # reconnecting, and kept waiting
        for i in range(before, len(audio), 640):
            stream.push_audio(audio[i : i + 640])
        assert stream.buffered_seconds == pytest.approx(0.3)
        fake.release_handshake.set()
        stream.end_input()
        events = await collect(stream)

    first, second = fake.connections
    assert first.dropped and bytes(first.audio) == audio[:before]
    assert bytes(second.audio) == audio[-kept:]
    assert_words_match_audio(events, audio)
    resumed_at = (len(audio) - kept) / BYTES_PER_SECOND
    finalized_before = max(e.end for e in finals(events) if e.end <= resumed_at)
    assert stream.dropped_bytes == len(audio) - kept - round(finalized_before * BYTES_PER_SECOND)
    assert finals(events)[-1].end == pytest.approx(len(audio) / BYTES_PER_SECOND)


async def test_buffer_keeps_the_newest_audio_and_its_times() -> None:
    audio = ramp(1.5)
    async with FakeDeepgram(window_seconds=0.25) as fake:
        stream = recognizer(fake, max_buffer_seconds=0.5).stream(sample_rate=RATE)
        # pushed before the stream's task can connect: all of it waits in the buffer
        for i in range(0, len(audio), 640):
            stream.push_audio(audio[i : i + 640])
        assert stream.buffered_seconds == pytest.approx(0.5)
        stream.end_input()
        events = await collect(stream)

    kept = int(0.5 * RATE) * 2
    assert stream.dropped_bytes == len(audio) - kept
    assert fake.audio == audio[-kept:]
    assert_words_match_audio(events, audio)
    assert finals(events)[0].start == pytest.approx((len(audio) - kept) / BYTES_PER_SECOND)


async def test_keepalive_is_sent_while_the_candidate_is_silent() -> None:
    async with FakeDeepgram() as fake:
        stream = recognizer(fake, keepalive_seconds=0.05).stream(sample_rate=RATE)
        stream.push_audio(ramp(0.1))
        await fake.until(lambda: len(fake.audio) == int(0.1 * RATE) * 2)
        await fake.until(lambda: fake.connections[0].controls.count("KeepAlive") >= 3)
        stream.end_input()
        await collect(stream)
    assert stream.keepalives_sent >= 3


async def test_no_keepalive_while_audio_flows() -> None:
    async with FakeDeepgram() as fake:
        stream = recognizer(fake, keepalive_seconds=1.0).stream(sample_rate=RATE)
        await push_paced(stream, ramp(1.2), frame_seconds=0.02)
        stream.end_input()
        await collect(stream)
    assert "KeepAlive" not in fake.connections[0].controls


async def test_bad_key_is_not_retried() -> None:
    async with FakeDeepgram(api_key="right-key") as fake:
        stream = DeepgramLiveRecognizer(
            "wrong-key", environment_url=fake.url, retry=FAST_RETRY
        ).stream(sample_rate=RATE)
        stream.push_audio(ramp(0.1))
        with pytest.raises(ProviderError) as caught:
            await collect(stream)
    assert caught.value.provider == "deepgram"
    assert not caught.value.retryable
    assert "Deepgram refused the API key" in caught.value.message
    assert fake.handshakes == 1
    assert fake.connections == []


async def test_forbidden_key_is_not_retried() -> None:
    async with FakeDeepgram(reject_handshakes={0: 403}) as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        with pytest.raises(ProviderError) as caught:
            await collect(stream)
    assert not caught.value.retryable
    assert "Deepgram refused the API key (HTTP 403)" in caught.value.message
    assert fake.handshakes == 1


async def test_server_errors_are_retried_then_succeed() -> None:
    audio = ramp(0.5)
    async with FakeDeepgram(reject_handshakes={0: 503, 1: 502}) as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        stream.push_audio(audio)
        stream.end_input()
        events = await collect(stream)
    assert fake.handshakes == 3
    assert fake.audio == audio
    assert [w.word for r in finals(events) for w in r.words] == expected_words(
        audio, fake.window_seconds
    )


async def test_gives_up_after_the_retry_budget() -> None:
    async with FakeDeepgram(reject_handshakes=dict.fromkeys(range(10), 503)) as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        stream.push_audio(ramp(0.1))
        with pytest.raises(ProviderError) as caught:
            await collect(stream)
    assert caught.value.retryable
    assert "503" in caught.value.message
    assert fake.handshakes == FAST_RETRY.attempts


async def test_audio_refused_by_deepgram_is_not_retried() -> None:
    async with FakeDeepgram(close_code_on_audio=1008) as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        stream.push_audio(ramp(0.1))
        with pytest.raises(ProviderError) as caught:
            await collect(stream)
    assert not caught.value.retryable
    assert "1008" in caught.value.message
    assert len(fake.connections) == 1


async def test_unreachable_server_is_a_retryable_error() -> None:
    async with FakeDeepgram() as fake:
        url = fake.url
    stream = DeepgramLiveRecognizer("k", environment_url=url, retry=FAST_RETRY).stream(
        sample_rate=RATE
    )
    with pytest.raises(ProviderError) as caught:
        await collect(stream)
    assert caught.value.retryable


async def test_aclose_stops_a_live_stream() -> None:
    async with FakeDeepgram() as fake:
        stream = recognizer(fake).stream(sample_rate=RATE)
        stream.push_audio(ramp(0.1))
        await fake.until(lambda: len(fake.audio) > 0)
        await stream.aclose()
        assert [e async for e in stream] == []


def test_push_audio_rejects_half_samples() -> None:
    async def run() -> None:
        stream = DeepgramLiveRecognizer("k", environment_url="ws://127.0.0.1:9").stream(
            sample_rate=RATE
        )
        try:
            with pytest.raises(ValueError, match="whole 2-byte samples"):
                stream.push_audio(b"\x00")
        finally:
            await stream.aclose()

    asyncio.run(run())
