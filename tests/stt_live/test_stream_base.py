"""The recognizer-stream base every recognizer shares: ending, failing, owned tasks, counters."""

from __future__ import annotations

import asyncio

import pytest

from coach.providers import ProviderError
from coach.speech.words import Word
from coach.stt.streaming import Recognized, RecognizerEvent, RecognizerStreamBase


class Echo(RecognizerStreamBase):
    """A final word for every 0.5 s pushed, from a task of its own."""

    def __init__(self) -> None:
        super().__init__(sample_rate=16000, room="r")
        self.heard = asyncio.Queue[bytes]()
        self.flushed = False
        self.worker = self._spawn(self._work(), "echo")

    def _push(self, pcm16: bytes) -> None:
        self.heard.put_nowait(pcm16)

    def _input_ended(self) -> None:
        self.flushed = True
        self._end()

    async def _work(self) -> None:
        at = 0.0
        while True:
            data = await self.heard.get()
            end = at + len(data) / 32000
            self._emit(Recognized((Word("so", at, end, 0.9),), True, True, at, end))
            at = end


async def collect(stream: RecognizerStreamBase) -> list[RecognizerEvent]:
    return [e async for e in stream]


async def test_events_then_the_end_for_every_reader() -> None:
    s = Echo()
    s.push_audio(b"\0" * 16000)
    await asyncio.sleep(0.01)
    s.end_input()
    s.push_audio(b"\0" * 16000)  # after the end: ignored, not an error
    assert len(await collect(s)) == 1
    assert await collect(s) == []  # a second reader ends too
    assert s.flushed and s.pushed_bytes == 16000 and s.finals == 1
    await s.aclose()


async def test_a_failure_is_raised_after_the_events_before_it() -> None:
    s = Echo()
    s.push_audio(b"\0" * 32000)
    await asyncio.sleep(0.01)
    s._fail(ProviderError("echo", "gone", retryable=False))
    s._emit(Recognized((), True, True, 0, 1))  # nothing after the end
    seen: list[RecognizerEvent] = []
    with pytest.raises(ProviderError, match="gone"):
        async for e in s:
            seen.append(e)
    assert len(seen) == 1
    await s.aclose()


async def test_aclose_cancels_and_awaits_the_tasks_it_owns() -> None:
    s = Echo()
    await s.aclose()
    assert s.worker.cancelled() and s.closed
    assert await collect(s) == []


async def test_odd_audio_is_refused_and_the_lag_is_measured() -> None:
    s = Echo()
    with pytest.raises(ValueError, match="2-byte"):
        s.push_audio(b"\0")
    s.push_audio(b"\0" * 64000)  # 2 s pushed; Echo's word ends at 2 s: no lag
    await asyncio.sleep(0.01)
    assert s.audio_seconds == 2.0 and s.last_final_lag == 0.0
    # a final for audio ending at 1.2 s, with 2 s already pushed, came 0.8 s behind
    s._emit(Recognized((Word("late", 1.0, 1.2, 0.9),), True, True, 1.0, 1.2))
    assert s.last_final_lag == pytest.approx(0.8) and s.max_final_lag == pytest.approx(0.8)
    await s.aclose()
