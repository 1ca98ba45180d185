"""Stream-mode sessions over real WebSockets to the real app on uvicorn."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.audio.decode import probe_duration
from coach.sessions.journal import recover
from coach.settings import Settings
from coach.speech.accumulator import SpeechConfig
from coach.speech.words import Word
from coach.store.memory import in_process_client
from coach.stt.scripted import ScriptedRecognizer
from coach.stt.streaming import Recognized, SpeechStarted, SpeechStopped, UtteranceEnd
from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import Client, account, client, pcm, serve, stream


def settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": "test-secret-" + "y" * 32,
        "data_dir": tmp_path,
        "metrics_interval_seconds": 0.2,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def database() -> tuple[Any, Any]:
    c = in_process_client()
    return c, c["coach"]


def app_for(tmp_path: Any, name: str = "weakness", db: Any = None, **overrides: Any) -> Any:
    return create_app(
        settings(tmp_path, **overrides),
        analyzer=OfflineCoach(),
        database=db or database(),
        recognizer=ScriptedRecognizer.from_words(truth_words(truth(name))),
    )


STREAM = {"action": "start", "audio": {"encoding": "linear16", "sampleRate": 16000}}


async def speak(c: Client, audio: bytes) -> str:
    """Start a stream-mode session, send `audio`, wait for a final transcript; the session id."""
    await c.send(STREAM)
    session_id = str((await c.of_type("ready"))["sessionId"])
    await stream(c, audio)
    await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
    return session_id


async def fetch(base: str, token: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as c:
        return await c.get(path, headers={"authorization": f"Bearer {token}"})


@pytest.mark.parametrize("name", ["weakness", "project"])
async def test_interview_streams_completes_and_is_analyzed(tmp_path: Any, name: str) -> None:
    gt = truth(name)
    audio = pcm(FIXTURES / f"{name}.wav")
    async with serve(app_for(tmp_path, name)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            ready = await c.of_type("ready")
            await stream(c, audio)
            await c.next(lambda e: e.get("type") == "metrics" and e["words"] > 0)
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete", within=30)
            analysed = await c.of_type("analysis_complete", within=30)
        assert analysed["interviewId"] == done["interviewId"]
        assert analysed["status"] == "completed"
        assert [e["type"] for e in c.events].count("error") == 0
        interims = [e for e in c.events if e.get("type") == "transcript" and not e["isFinal"]]
        assert interims, "interim results reach the client"
        heard = " ".join(e["text"] for e in c.finals())
        assert heard.split() == [w.text for w in truth_words(gt)]
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
        assert stored["status"] == "completed" and stored["aiAnalysis"]["overallScore"] >= 0
        assert stored["totalWords"] == gt["totalWords"]
        assert stored["roomName"] == ready["roomName"]
        # vocal variety is measured from the live audio, as in the file path
        assert stored["vocalVariety"]["voicedSeconds"] > 5
        assert stored["vocalVariety"]["pitchSdSemitones"] is not None
        spoken = sorted(f["word"] for f in gt["fillers"])
        found = sorted(f["word"] for f in stored["fillers"])
        assert found == spoken
        for want in gt["fillers"]:
            # `near` is where the spoken part holding the filler starts
            span = next(s for s in gt["spans"] if abs(s["start"] - want["near"]) < 0.01)
            assert any(
                f["word"] == want["word"] and span["start"] <= f["timestamp"] <= span["end"]
                for f in stored["fillers"]
            ), want
        assert stored["duration"] == pytest.approx(len(audio) / 32000, abs=0.05)
        rec = await fetch(srv.url, token, stored["recordingUrl"])
        assert rec.status_code == 200 and rec.headers["content-type"] == "audio/ogg"
        ogg = tmp_path / "got.ogg"
        ogg.write_bytes(rec.content)
        assert probe_duration(ogg) == pytest.approx(len(audio) / 32000, abs=0.1)
        # on disk it is sealed with the user's key: no Ogg page, no clear copy
        iid = done["interviewId"]
        kept = tmp_path / "recordings" / f"{iid}.ogg.sealed"
        assert kept.read_bytes()[:4] != b"OggS" and b"OggS" not in kept.read_bytes()[:64]
        assert not (tmp_path / "recordings" / f"{iid}.ogg").exists()
        # players seek with range requests
        async with httpx.AsyncClient(base_url=srv.url) as http:
            part = await http.get(stored["recordingUrl"], headers={
                "authorization": f"Bearer {token}", "range": "bytes=100-199"})  # fmt: skip
        assert part.status_code == 206 and part.content == rec.content[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(rec.content)}"


async def test_header_auth_and_refusals(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, None) as c:
            with pytest.raises(ConnectionClosed) as closed:
                await c.ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        async with client(srv.ws_url, "not-a-token") as c:
            with pytest.raises(ConnectionClosed) as closed:
                await c.ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        async with client(srv.ws_url, token) as c:
            await c.ws.send(b"\x00\x01" * 100)
            assert (await c.of_type("error"))["code"] == "not_started"
            await c.ws.send("{not json")
            assert (await c.of_type("error"))["code"] == "bad_json"
            await c.send({"action": "dance"})
            assert (await c.of_type("error"))["code"] == "unknown_action"
            await c.send({"action": "complete"})
            assert (await c.of_type("error"))["code"] == "not_started"
            await c.send({"action": "start", "audio": {"encoding": "mulaw"}})
            bad = await c.of_type("error")
            assert bad["code"] == "bad_start" and "encoding" in bad["message"]
            await c.send({"action": "start", "roomName": "r1", "participantIdentity": "p"})
            assert (await c.of_type("error"))["code"] == "livekit_not_configured"
            # after all that the socket still works
            await c.send(STREAM)
            await c.of_type("ready")
            await c.ws.send(b"\x00" * 70_000)
            assert (await c.of_type("error"))["code"] == "frame_too_large"
            await c.send(STREAM)
            assert (await c.of_type("error"))["code"] == "already_started"
            await c.send({"action": "complete"})
            await c.of_type("session_complete")


async def test_limits_are_named(tmp_path: Any) -> None:
    app = app_for(tmp_path, max_sessions_per_user=1, max_session_minutes=0.05)
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as first, client(srv.ws_url, token) as second:
            await first.send(STREAM)
            await first.of_type("ready")
            await second.send(STREAM)
            refused = await second.of_type("error")
            assert refused["code"] == "max_sessions_per_user"
            # three seconds of audio pass the 0.05-minute limit: the session ends itself
            await stream(first, pcm(FIXTURES / "weakness.wav")[: 3 * 32000])
            limit = await first.of_type("error")
            assert limit["code"] == "max_duration"
            done = await first.of_type("session_complete")
            assert done["interviewId"]


async def test_resampled_audio_keeps_its_clock(tmp_path: Any) -> None:
    audio16 = pcm(FIXTURES / "weakness.wav")
    import numpy as np

    x = np.frombuffer(audio16, dtype="<i2").astype(np.float32)
    t48 = np.arange(len(x) * 3) / 3
    audio48 = np.interp(t48, np.arange(len(x)), x).astype("<i2").tobytes()
    async with serve(app_for(tmp_path)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send(
                {"action": "start", "audio": {"encoding": "linear16", "sampleRate": 48000}}
            )
            await c.of_type("ready")
            await stream(c, audio48, frame_seconds=0.1 / 3)
            await c.send({"action": "complete"})
            done = await c.of_type("session_complete", within=30)
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
        assert stored["duration"] == pytest.approx(len(audio16) / 32000, abs=0.05)
        assert stored["totalWords"] == truth("weakness")["totalWords"]


async def test_dropped_socket_resumes_without_losing_words(tmp_path: Any) -> None:
    gt = truth("weakness")
    audio = pcm(FIXTURES / "weakness.wav")
    half = len(audio) // 2 // 3200 * 3200
    async with serve(app_for(tmp_path)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            session_id = (await c.of_type("ready"))["sessionId"]
            await stream(c, audio[:half])
            await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
            first_seen = c.finals()
            # the network goes: no close handshake, the app is killed
            c.ws.transport.abort()
        await asyncio.sleep(0.2)
        async with client(srv.ws_url, token) as c2:
            await c2.send(
                {"action": "resume", "sessionId": session_id, "lastSeq": first_seen[-1]["seq"]}
            )
            resumed = await c2.of_type("ready")
            assert resumed["resumed"] is True and resumed["sessionId"] == session_id
            await stream(c2, audio[half:])
            await c2.send({"action": "complete"})
            done = await c2.of_type("session_complete", within=30)
        finals = first_seen + c2.finals()
        seqs = [e["seq"] for e in finals]
        assert seqs == sorted(set(seqs)), "no final is lost or repeated across the resume"
        assert " ".join(e["text"] for e in finals).split() == [w.text for w in truth_words(gt)]
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
        assert stored["totalWords"] == gt["totalWords"]


async def test_client_that_never_returns_is_stored_after_the_grace_period(tmp_path: Any) -> None:
    gt = truth("weakness")
    audio = pcm(FIXTURES / "weakness.wav")
    async with serve(app_for(tmp_path, session_grace_seconds=0.3)) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            session_id = await speak(c, audio)
        for _ in range(100):
            listed = (await fetch(srv.url, token, "/api/interviews")).json()["items"]
            if listed:
                break
            await asyncio.sleep(0.05)
        assert len(listed) == 1 and listed[0]["totalWords"] == gt["totalWords"]
        # a late resume still finds the session and is told how it ended
        async with client(srv.ws_url, token) as late:
            await late.send({"action": "resume", "sessionId": session_id})
            assert (await late.of_type("ready"))["state"] in ("finishing", "done")
            done = await late.of_type("session_complete", within=3)
            assert done["interviewId"] == listed[0]["id"]
        async with client(srv.ws_url, token) as other:
            await other.send({"action": "resume", "sessionId": "0" * 32})
            assert (await other.of_type("error"))["code"] == "unknown_session"


class NeverFinishes:
    """An analyzer stuck on a slow provider."""

    name = "stuck"

    async def analyze(self, summary: Any, *, questions: Any = ()) -> Any:
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        return None


async def test_shutdown_stores_open_sessions_without_waiting_for_analysis(tmp_path: Any) -> None:
    db = database()
    audio = pcm(FIXTURES / "weakness.wav")
    app = create_app(
        settings(tmp_path),
        analyzer=NeverFinishes(),
        database=db,
        recognizer=ScriptedRecognizer.from_words(truth_words(truth("weakness"))),
    )
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await speak(c, audio)
            # what uvicorn's SIGTERM handler does (handle_exit would re-raise the signal
            # at this test process once the server stopped)
            srv.server.should_exit = True
            with pytest.raises(ConnectionClosed):
                await c.of_type("never")
    stored = await db[1].interviews.find_one({})
    assert stored is not None
    assert stored["totalWords"] == truth("weakness")["totalWords"]
    assert stored["status"] == "processing"  # the next start's recovery analyzes it
    # the stop encoded nothing: the audio waits raw under the interview's name
    iid = str(stored["_id"])
    recordings = tmp_path / "recordings"
    assert (recordings / f"{iid}.ogg.pcm.part").stat().st_size == len(audio)
    assert not stored.get("recordingUrl")

    # the next start encodes it, seals it and links it
    async with serve(app_for(tmp_path, db=db)) as srv:
        got = await fetch(srv.url, token, f"/api/interviews/{iid}")
        assert got.json()["recordingUrl"] == f"/api/interviews/{iid}/recording"
        rec = await fetch(srv.url, token, got.json()["recordingUrl"])
        assert rec.status_code == 200 and rec.content[:4] == b"OggS"
    kept = tmp_path / "kept.ogg"
    kept.write_bytes(rec.content)
    assert probe_duration(kept) == pytest.approx(len(audio) / 32000, abs=0.1)
    assert not list(recordings.glob("*.pcm.part"))


async def test_unstorable_session_is_kept_and_stored_on_next_start(tmp_path: Any) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("database is down")

    audio = pcm(FIXTURES / "weakness.wav")
    db = database()
    first = app_for(tmp_path, db=db)
    async with serve(first) as srv:
        token = await account(srv.url)
        uid = (await fetch(srv.url, token, "/api/me")).json()["id"]
        key = await first.state.services.sessions.data_key(uid)
        async with client(srv.ws_url, token) as c:
            await speak(c, audio)
            first.state.services.interviews.submit = down
            await c.send({"action": "complete"})
            err = await c.next(lambda e: e.get("type") == "error")
            assert err["code"] == "finish_failed"
    journals = list((tmp_path / "recordings" / "journal").glob("*.jsonl"))
    assert len(journals) == 1
    raw = journals[0].read_text()
    lines = [json.loads(line) for line in raw.splitlines()]
    # what was said is sealed line by line with the user's key; the header stays readable
    assert lines[0]["kind"] == "session" and lines[0]["sealed"] is True
    assert {r["kind"] for r in lines[1:]} == {"sealed"}
    assert not any(w.text in raw for w in truth_words(truth("weakness")) if len(w.text) > 6)
    found = recover(journals[0], SpeechConfig(), key)
    assert found is not None and found.words == truth("weakness")["totalWords"]
    second = app_for(tmp_path, db=db)
    async with serve(second):
        stored = await db[1].interviews.find_one({})
        assert stored is not None and stored["totalWords"] == truth("weakness")["totalWords"]
        assert stored["recordingUrl"].endswith("/recording")
    assert not list((tmp_path / "recordings" / "journal").glob("*.jsonl"))


async def test_recognizer_failure_stores_what_was_heard(tmp_path: Any) -> None:
    from coach.providers import ProviderError
    from coach.stt.scripted import ScriptedFailure, script_from_words

    words = truth_words(truth("weakness"))
    cut = 12.0
    script = [
        *script_from_words([w for w in words if w.end <= cut]),
        ScriptedFailure(cut + 1, ProviderError("deepgram", "key revoked", retryable=False)),
    ]
    app = create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=database(),
        recognizer=ScriptedRecognizer(script),
    )
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, pcm(FIXTURES / "weakness.wav"))
            failed = await c.of_type("error")
            assert failed["code"] == "recognizer_failed"
            # the provider's reason stays in the server log, never reaches the client
            assert "key revoked" not in failed["message"]
            done = await c.of_type("session_complete")
        stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
        assert stored["totalWords"] == sum(1 for w in words if w.end <= cut)


async def test_server_wide_session_limit(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path, max_sessions=1)) as srv:
        first_token = await account(srv.url, "one@example.com")
        second_token = await account(srv.url, "two@example.com")
        async with client(srv.ws_url, first_token) as a, client(srv.ws_url, second_token) as b:
            await a.send(STREAM)
            await a.of_type("ready")
            await b.send(STREAM)
            assert (await b.of_type("error"))["code"] == "max_sessions"
            await a.send({"action": "complete"})
            await a.of_type("session_complete")
            # the slot is free again once the first interview is stored
            await b.send(STREAM)
            await b.of_type("ready")


async def test_database_down_at_connect_closes_with_try_again(tmp_path: Any) -> None:
    from pymongo.errors import ServerSelectionTimeoutError

    async def down(user_id: str) -> Any:
        raise ServerSelectionTimeoutError("no servers")

    app = app_for(tmp_path)
    async with serve(app) as srv:
        token = await account(srv.url)
        users = app.state.services.users
        users.get = down
        try:
            async with client(srv.ws_url, token) as c:
                with pytest.raises(ConnectionClosed) as closed:
                    await c.ws.recv()
        finally:
            del users.get
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


async def test_recordings_past_their_retention_are_deleted(tmp_path: Any) -> None:
    import os
    import time

    app = app_for(tmp_path, recording_retention_days=2)
    async with serve(app):
        manager = app.state.services.sessions
        old, new = manager.recording_path("a" * 32), manager.recording_path("b" * 32)
        part = manager.recordings_dir / "session-c.ogg.part"
        for path in (old, new, part):
            path.write_bytes(b"OggS")
        three_days_ago = time.time() - 3 * 86400
        os.utime(old, (three_days_ago, three_days_ago))
        os.utime(part, (three_days_ago, three_days_ago))
        assert manager.prune_recordings() == 2
        assert not old.exists() and not part.exists() and new.exists()
        assert manager.recording_path("../../etc/passwd").name == "invalid"


async def test_voice_activity_reaches_the_client_at_once_and_pace_waits_for_speech(
    tmp_path: Any,
) -> None:
    said = [Word(w, 0.6 + 0.3 * i, 0.85 + 0.3 * i) for i, w in enumerate("we moved it".split())]
    more = [Word(w, 4.1 + 0.3 * i, 4.35 + 0.3 * i) for i, w in enumerate("then it grew".split())]
    # voice activity around each utterance; the first one also ends by the recognizer's gap
    script = [
        SpeechStarted(0.5),
        SpeechStopped(1.9),
        Recognized(tuple(said), True, True, said[0].start, said[-1].end),
        UtteranceEnd(said[-1].end),
        SpeechStarted(4.0),
        SpeechStopped(5.2),
        Recognized(tuple(more), True, True, more[0].start, more[-1].end),
    ]
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database(),
                     recognizer=ScriptedRecognizer(script))  # fmt: skip
    async with serve(app) as srv:
        token = await account(srv.url)
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, b"\0\0" * 16000 * 7)
            await c.next(lambda e: e.get("type") == "transcript" and e["text"] == "then it grew")
            metrics = await c.next(lambda e: e.get("type") == "metrics" and e["words"] == 6)
            await c.send({"action": "complete"})
            await c.of_type("session_complete", within=30)
        speech = [(e["speaking"], e["at"]) for e in c.events if e.get("type") == "speech"]
        # one event per change, at the first signal of it (the utterance end at 1.45 s came
        # before the voice activity's stop at 1.9 s, which then changed nothing)
        assert speech == [(True, 0.5), (False, 1.45), (True, 4.0), (False, 5.2)]
        early = [e for e in c.events if e.get("type") == "metrics" and e["words"] == 0]
        assert all(e["speakingWpm"] is None for e in early)
        # six words in 1.5 s of speech: too little to show a pace, so none is shown
        assert metrics["speakingWpm"] is None and metrics["recentFillers"] == 0
