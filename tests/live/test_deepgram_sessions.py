"""A live session over the WebSocket with the real Deepgram SDK against a local fake Deepgram."""

from __future__ import annotations

from typing import Any

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.stt.deepgram_live import DeepgramLiveRecognizer
from tests.live.server import account, client, serve, stream
from tests.live.test_stream_sessions import STREAM, database, fetch, settings
from tests.stt_live.fake_deepgram import FakeDeepgram
from tests.stt_live.test_deepgram_live import FAST_RETRY, RATE, expected_words, heard_at, ramp


async def test_deepgram_session_survives_a_dropped_connection(tmp_path: Any) -> None:
    audio = ramp(8.0)
    async with FakeDeepgram(drop_after_bytes={0: int(3.3 * RATE) * 2}) as fake:
        recognizer = DeepgramLiveRecognizer(
            fake.api_key, environment_url=fake.url, retry=FAST_RETRY
        )
        app = create_app(
            settings(tmp_path), analyzer=OfflineCoach(), database=database(), recognizer=recognizer
        )
        async with serve(app) as srv:
            token = await account(srv.url)
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await stream(c, audio, frame_seconds=0.02, pace=0.05)
                await c.send({"action": "complete"})
                done = await c.of_type("session_complete", within=30)
            stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()

    first, second = fake.connections[:2]
    for conn in (first, second):
        assert conn.query["filler_words"] == "true"
        assert conn.query["encoding"] == "linear16"
        assert conn.query["sample_rate"] == str(RATE)
    assert first.dropped
    sent_finals = [m for m in first.sent + second.sent if m["type"] == "Results" and m["is_final"]]
    words = [w["word"] for w in stored["words"]]
    want = expected_words(audio, fake.window_seconds)
    # every window heard exactly once although the server repeated finals and the link dropped
    assert words == want
    assert len(sent_finals) > len(want)
    for w in stored["words"]:
        assert w["word"] == heard_at(audio, w["start"]), w
    finals = [e for e in c.events if e.get("type") == "transcript" and e["isFinal"]]
    interims = [e for e in c.events if e.get("type") == "transcript" and not e["isFinal"]]
    shown = " ".join(e["text"] for e in finals).split()
    assert interims and [t.strip(".").lower() for t in shown] == want
