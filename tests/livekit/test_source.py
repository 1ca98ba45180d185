"""The LiveKit source's frame handling, driven by real `rtc.AudioFrame`s, and LiveKit mode."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from livekit import rtc

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.livekit.source import FrameTimeline
from coach.stt.scripted import ScriptedRecognizer
from tests.live.server import account, client, serve
from tests.live.test_stream_sessions import database
from tests.livekit.test_tokens import settings as livekit_settings


class Clock:
    """The room's time, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frame(rate: int, channels: int, ms: int, value: int) -> rtc.AudioFrame:
    f = rtc.AudioFrame.create(rate, channels, rate * ms // 1000)
    samples = np.frombuffer(f.data, dtype="<i2")
    assert samples.size == f.samples_per_channel * channels
    np.copyto(np.frombuffer(f.data, dtype="<i2"), np.full(samples.size, value, dtype="<i2"))
    return f


def feed(timeline: FrameTimeline, f: rtc.AudioFrame) -> None:
    timeline.on_frame(f.data, f.sample_rate, f.num_channels)


def pcm(timeline: FrameTimeline) -> np.ndarray[Any, Any]:
    return np.frombuffer(b"".join(timeline.drain()), dtype="<i2")


def test_frames_pass_at_16k_mono_and_silence_fills_a_muted_track() -> None:
    clock = Clock()
    tl = FrameTimeline(clock)
    for _ in range(50):  # one second of speech in 20 ms frames
        clock.now += 0.02
        feed(tl, frame(16000, 1, 20, 1000))
        tl.fill()
    assert tl.silence_samples == 0
    assert tl.seconds == pytest.approx(1.0)
    # the candidate mutes: no frames for two seconds, the clock goes on
    for _ in range(20):
        clock.now += 0.1
        tl.fill()
    assert tl.seconds == pytest.approx(clock.now, abs=0.31)
    # unmuted: frames again, right after the silence
    for _ in range(10):
        clock.now += 0.02
        feed(tl, frame(16000, 1, 20, 2000))
    out = pcm(tl)
    assert out.size == tl.samples
    assert set(out[:16000]) == {1000}
    assert set(out[16000 : 16000 + tl.silence_samples]) == {0}
    assert set(out[-3200:]) == {2000}


def test_jitter_within_the_gap_adds_no_silence() -> None:
    clock = Clock()
    tl = FrameTimeline(clock, max_gap=0.3)
    for _burst in range(10):
        clock.now += 0.2  # frames arrive in bursts of 200 ms
        for _ in range(10):
            feed(tl, frame(16000, 1, 20, 500))
        tl.fill()
    assert tl.silence_samples == 0 and tl.seconds == pytest.approx(2.0)


@pytest.mark.parametrize(("rate", "channels"), [(48000, 1), (48000, 2), (24000, 1)])
def test_other_rates_and_stereo_come_out_16k_mono(rate: int, channels: int) -> None:
    clock = Clock()
    tl = FrameTimeline(clock)
    for _ in range(100):
        clock.now += 0.01
        feed(tl, frame(rate, channels, 10, 3000))
        tl.fill()
    out = pcm(tl)
    assert out.size / 16000 == pytest.approx(1.0, abs=0.01)
    assert abs(int(np.median(out)) - 3000) <= 30


def test_late_track_starts_after_silence_at_the_right_time() -> None:
    clock = Clock()
    tl = FrameTimeline(clock)
    clock.now = 3.0  # the participant's track arrives three seconds in
    tl.fill()
    feed(tl, frame(16000, 1, 20, 700))
    out = pcm(tl)
    first = int(np.flatnonzero(out)[0])
    assert first / 16000 == pytest.approx(3.0, abs=0.01)


async def test_livekit_mode_needs_a_room_and_an_identity_of_ones_own(tmp_path: Any) -> None:
    s = livekit_settings(data_dir=tmp_path)
    app = create_app(s, analyzer=OfflineCoach(), database=database(),
                     recognizer=ScriptedRecognizer([]))  # fmt: skip
    async with serve(app) as srv:
        mine = await account(srv.url, "owner@example.com")
        other = await account(srv.url, "other@example.com")
        async with httpx.AsyncClient(base_url=srv.url) as h:
            me = await h.get("/api/me", headers={"authorization": f"Bearer {mine}"})
        my_id = me.json()["id"]
        async with client(srv.ws_url, mine) as c:
            await c.send({"action": "start", "participantIdentity": my_id})
            assert (await c.of_type("error"))["code"] == "bad_start"
            # the LiveKit identity is the user id: naming anyone else is refused
            await c.send({"action": "start", "roomName": "room-x", "participantIdentity": "p"})
            refused = await c.of_type("error")
            assert refused["code"] == "identity_not_yours" and "user id" in refused["message"]
        async with client(srv.ws_url, other) as c:
            # the first to use a room owns it
            plan = {"role": "Designer", "questions": 2}
            await c.send({"action": "start", "roomName": "room-x", "plan": plan})
            await c.of_type("ready")
            # no OpenAI/Deepgram keys here: the interview goes on without the AI voice
            assert (await c.of_type("error"))["code"] == "interviewer_unavailable"
            assert not [e for e in c.events if e.get("type") == "question"]
            async with client(srv.ws_url, mine) as m:
                # neither mode may name another user's room, even with a made-up identity
                await m.send(
                    {"action": "start", "roomName": "room-x", "participantIdentity": my_id}
                )
                assert (await m.of_type("error"))["code"] == "room_taken"
                await m.send({"action": "start", "roomName": "room-x", "participantIdentity": "x",
                              "audio": {"encoding": "linear16", "sampleRate": 16000}})  # fmt: skip
                assert (await m.of_type("error"))["code"] == "room_taken"
                # so the owner's interview was never blocked by a stranger's session


async def test_unreachable_livekit_ends_the_session_with_a_reason(tmp_path: Any) -> None:
    s = livekit_settings(data_dir=tmp_path, livekit_url="ws://127.0.0.1:9")
    app = create_app(s, analyzer=OfflineCoach(), database=database(),
                     recognizer=ScriptedRecognizer([]))  # fmt: skip
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send({"action": "start", "roomName": "room-y"})
            await c.of_type("ready")
            failed = await c.of_type("error", within=120)
            assert failed["code"] == "audio_source_failed"
            # the connection error stays in the server log; the client hears what happened
            assert "audio stopped" in failed["message"]
            done = await c.of_type("session_complete")
            assert done["interviewId"]
