"""Live results into the room: what each event becomes, and the bot that sends them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from coach.livekit.results import (
    EVENTS_TOPIC,
    TRANSCRIPTION_TOPIC,
    RoomMessage,
    RoomMessages,
    RoomResults,
)
from coach.livekit.tokens import LiveKitConfig
from coach.providers import RetryPolicy
from tests.livekit.test_tokens import decode, settings


class FakeParticipant:
    def __init__(self, room: FakeRoom) -> None:
        self.room = room

    async def send_text(
        self, text: str, *, topic: str = "", attributes: dict[str, str] | None = None
    ) -> None:
        await self.room.gate.wait()
        self.room.sent.append(RoomMessage(topic, text, dict(attributes or {})))


class FakeRoom:
    """`rtc.Room` at its boundary: connect, the local participant's text streams, leave."""

    def __init__(self, *, fail_connects: int = 0) -> None:
        self.fail_connects = fail_connects
        self.tokens: list[str] = []
        self.sent: list[RoomMessage] = []
        self.left = False
        self.gate = asyncio.Event()
        self.gate.set()
        self.local_participant = FakeParticipant(self)

    async def connect(self, url: str, token: str) -> None:
        self.tokens.append(token)
        if self.fail_connects:
            self.fail_connects -= 1
            raise ConnectionError("signal failure")

    async def disconnect(self) -> None:
        self.left = True


def transcript(text: str, final: bool, start: float = 1.0) -> dict[str, Any]:
    return {"type": "transcript", "text": text, "isFinal": final, "start": start, "end": 2.0}


def test_events_become_transcription_streams_and_coach_events() -> None:
    m = RoomMessages("iv1", "cand")
    first = m(transcript("I led", False))
    again = m(transcript("I led the", True))
    second = m(transcript("then", False, start=3.0))
    assert first is not None and again is not None and second is not None
    assert {first.topic, again.topic, second.topic} == {TRANSCRIPTION_TOPIC}
    # interims and their final share a segment; the next utterance is a new one
    assert first.attributes["lk.segment_id"] == again.attributes["lk.segment_id"]
    assert second.attributes["lk.segment_id"] != again.attributes["lk.segment_id"]
    assert (first.attributes["lk.transcription_final"],
            again.attributes["lk.transcription_final"]) == ("false", "true")  # fmt: skip
    assert again.attributes["coach.participant"] == "cand" and again.text == "I led the"
    for kind in ("metrics", "question", "session_complete", "analysis_complete", "error"):
        event = {"type": kind, "x": 1}
        out = m(event)
        assert out is not None and out.topic == EVENTS_TOPIC
        assert json.loads(out.text) == event
        assert out.superseded == (kind == "metrics")
    assert m({"type": "ready", "sessionId": "s"}) is None


async def test_the_bot_joins_sends_in_order_and_leaves_after_the_outcome() -> None:
    config = LiveKitConfig.from_settings(settings())
    room = FakeRoom(fail_connects=1)
    results = RoomResults(RoomMessages("iv1", "cand"), config, "room-9",
                          room_factory=lambda: room,
                          retry=RetryPolicy(attempts=3, base_delay=0.01))  # fmt: skip
    events = [
        transcript("hello", True),
        {"type": "metrics", "wpm": 120},
        {"type": "session_complete", "interviewId": "I1"},
        {"type": "analysis_complete", "interviewId": "I1"},
    ]
    for e in events:
        results(e)
    await results.aclose()
    assert room.sent[0].topic == TRANSCRIPTION_TOPIC and room.sent[0].text == "hello"
    assert [json.loads(m.text)["type"] for m in room.sent[1:]] == [
        "metrics",
        "session_complete",
        "analysis_complete",
    ]
    assert room.left and results.sent == 4
    grants = decode(room.tokens[-1])
    assert grants["sub"] == "coach-results-room-9"
    video = grants["video"]
    assert video["hidden"] is True and video["canPublishData"] is True
    assert not video.get("canPublish") and not video.get("canSubscribe")
    assert video["room"] == "room-9" and not video.get("roomAdmin")


async def test_a_slow_room_loses_old_metrics_before_words_or_outcomes() -> None:
    config = LiveKitConfig.from_settings(settings())
    room = FakeRoom()
    room.gate.clear()  # the room takes nothing for now
    results = RoomResults(RoomMessages("iv1", "cand"), config, "room-s",
                          room_factory=lambda: room, max_pending=3)  # fmt: skip
    results(transcript("one", True))
    await asyncio.sleep(0.05)  # the first one is on its way and blocked
    for i in range(3):
        results({"type": "metrics", "n": i})
    results(transcript("two", True))
    results({"type": "session_complete", "interviewId": "I1"})
    room.gate.set()
    await results.aclose()
    texts = [m.text if m.topic == TRANSCRIPTION_TOPIC else json.loads(m.text)["type"]
             for m in room.sent]  # fmt: skip
    assert texts == ["one", "metrics", "two", "session_complete"]
    assert results.dropped == 2


async def test_a_room_that_cannot_be_joined_loses_only_the_live_view() -> None:
    config = LiveKitConfig.from_settings(settings())
    room = FakeRoom(fail_connects=5)
    results = RoomResults(RoomMessages("iv1", "cand"), config, "room-f",
                          room_factory=lambda: room,
                          retry=RetryPolicy(attempts=2, base_delay=0.01))  # fmt: skip
    results(transcript("lost", True))
    await results.aclose(flush_seconds=5)
    assert room.sent == [] and len(room.tokens) == 2
