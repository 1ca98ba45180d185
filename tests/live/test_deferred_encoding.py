"""A stored session's audio is encoded after `session_complete`, and never lost on the way."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import websockets.exceptions

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.file_worker import FileWorker
from coach.stt.scripted import ScriptedRecognizer
from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, database, fetch, settings


def app_with(tmp_path: Path, files: FileWorker, db: Any) -> Any:
    return create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=db,
        recognizer=ScriptedRecognizer.from_words(truth_words(truth("weakness"))),
        files=files,
    )


def encoder_held(files: FileWorker) -> threading.Event:
    """Hold the worker's encoding thread (a long recording ahead in line) until set."""
    release = threading.Event()
    files.submit_heavy(release.wait)
    return release


async def stored_session(srv: Any, token: str, audio: bytes) -> str:
    async with client(srv.ws_url, token) as c:
        await c.send(STREAM)
        await c.of_type("ready")
        await stream(c, audio)
        await c.send({"action": "complete"})
        done = await c.of_type("session_complete", within=30)
    return str(done["interviewId"])


async def test_session_complete_does_not_wait_for_the_encoder(tmp_path: Path) -> None:
    audio = pcm(FIXTURES / "weakness.wav")
    files = FileWorker()
    release = encoder_held(files)
    try:
        async with serve(app_with(tmp_path, files, database())) as srv:
            token = await account(srv.url)
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await stream(c, audio)
                await c.send({"action": "complete"})
                # stored while the encoder is busy with other work
                done = await c.of_type("session_complete", within=30)
                iid = done["interviewId"]
                stored = (await fetch(srv.url, token, f"/api/interviews/{iid}")).json()
                assert stored["totalWords"] == truth("weakness")["totalWords"]
                assert not stored.get("recordingUrl")
                raw = tmp_path / "recordings" / f"{iid}.ogg.pcm.part"
                assert raw.stat().st_size == len(audio)
                release.set()
                # `analysis_complete` comes once the recording is linked too
                analysed = await c.of_type("analysis_complete", within=30)
                assert analysed["interviewId"] == iid
            got = (await fetch(srv.url, token, f"/api/interviews/{iid}")).json()
            assert got["recordingUrl"] == f"/api/interviews/{iid}/recording"
            rec = await fetch(srv.url, token, got["recordingUrl"])
            assert rec.status_code == 200 and rec.content[:4] == b"OggS"
            assert not raw.exists()
    finally:
        release.set()


async def test_deleting_an_interview_being_encoded_leaves_no_file(tmp_path: Path) -> None:
    audio = pcm(FIXTURES / "weakness.wav")
    files = FileWorker()
    release = encoder_held(files)
    try:
        async with serve(app_with(tmp_path, files, database())) as srv:
            token = await account(srv.url)
            iid = await stored_session(srv, token, audio)
            auth = {"authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=srv.url) as http:
                deleting = asyncio.create_task(http.delete(f"/api/interviews/{iid}", headers=auth))
                await asyncio.sleep(0.3)
                assert not deleting.done()  # it waits for the encoding to end
                release.set()
                assert (await deleting).status_code == 204
            await files.drain()
            left = [p.name for p in (tmp_path / "recordings").iterdir() if iid in p.name]
            assert left == []
    finally:
        release.set()


async def test_a_stop_before_the_encoding_leaves_it_to_the_next_start(tmp_path: Path) -> None:
    audio = pcm(FIXTURES / "weakness.wav")
    db = database()
    files = FileWorker()
    release = encoder_held(files)
    try:
        async with serve(app_with(tmp_path, files, db)) as srv:
            token = await account(srv.url)
            iid = await stored_session(srv, token, audio)
            srv.server.should_exit = True
            # the stop cancels the queued encoding; the held job ends while it stops
            await asyncio.sleep(0.3)
            release.set()
    except websockets.exceptions.ConnectionClosed:
        pass
    finally:
        release.set()
    stored = await db[1].interviews.find_one({})
    assert stored is not None and not stored.get("recordingUrl")
    assert (tmp_path / "recordings" / f"{iid}.ogg.pcm.part").stat().st_size == len(audio)

    async with serve(app_with(tmp_path, FileWorker(), db)) as srv:
        got = (await fetch(srv.url, token, f"/api/interviews/{iid}")).json()
        assert got["recordingUrl"] == f"/api/interviews/{iid}/recording"
        rec = await fetch(srv.url, token, got["recordingUrl"])
        assert rec.status_code == 200 and rec.content[:4] == b"OggS"
    assert not (tmp_path / "recordings" / f"{iid}.ogg.pcm.part").exists()
