"""Erasing an account leaves nothing: not in any collection, not under DATA_DIR, not later."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.store.documents import EgressRecord, Room
from coach.stt.scripted import ScriptedRecognizer
from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, database, settings

EMAIL = "erase-me@example.com"


def names_anywhere(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            data = path.read_bytes()
            if any(n in data or n in name.encode() for n in needles):
                found.append(str(path.relative_to(root)))
    return found


def audio_or_journals(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in (".ogg", ".part", ".jsonl")]


async def test_erasure_ends_live_sessions_unstored_and_leaves_nothing(tmp_path: Path) -> None:
    gt = truth("weakness")
    db = database()
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=db,
                     recognizer=ScriptedRecognizer.from_words(truth_words(gt)))  # fmt: skip
    audio = pcm(FIXTURES / "weakness.wav")
    async with serve(app) as srv:
        token = await account(srv.url, EMAIL)
        h = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=srv.url, headers=h) as http:
            uid = (await http.get("/api/me")).json()["id"]
            # an interview already stored and analyzed, with its recording
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await stream(c, audio)
                await c.send({"action": "complete"})
                done = await c.of_type("analysis_complete", within=60)
            # a room of theirs and its egress record
            await Room(id="erase-room", user_id=uid).insert()
            await EgressRecord(id="EG_1", room_name="erase-room").insert()
            # and a session still listening, halfway through an answer
            async with client(srv.ws_url, token) as live:
                await live.send(STREAM)
                await live.of_type("ready")
                await stream(live, audio[: len(audio) // 2])
                await live.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
                assert (await http.delete("/api/me")).status_code == 204
                erased = await live.of_type("error")
            assert (await http.get("/api/me")).status_code == 401
        await asyncio.sleep(1.0)  # time for a session that was not stopped to store itself
    assert erased["code"] == "account_erased"
    assert done["interviewId"]
    # nothing in any collection names the user, their email or a word they said
    said = [w.text for w in truth_words(gt) if len(w.text) > 6][:5]
    raw = db[1]
    for name in await raw.list_collection_names():
        docs = await raw[name].find({}).to_list(None)
        text = repr(docs)
        assert uid not in text and EMAIL not in text, name
        assert not any(w in text for w in said), name
    # and nothing under DATA_DIR does either: no journal, no recording, no partial file
    assert names_anywhere(tmp_path, [uid.encode(), EMAIL.encode()]) == []
    assert audio_or_journals(tmp_path) == []


async def test_a_journal_left_by_a_crash_is_erased_too(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database())
    async with serve(app) as srv:
        token = await account(srv.url, EMAIL)
        h = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=srv.url, headers=h) as http:
            uid = (await http.get("/api/me")).json()["id"]
            journals = app.state.services.sessions.recordings_dir / "journal"
            journals.mkdir(parents=True, exist_ok=True)
            orphan = journals / "crashed1.jsonl"
            orphan.write_text(f'{{"kind":"session","sessionId":"crashed1","userId":"{uid}"}}\n')
            other = journals / "someone.jsonl"
            other.write_text('{"kind":"session","sessionId":"someone","userId":"another"}\n')
            assert (await http.delete("/api/me")).status_code == 204
    assert not orphan.exists() and other.exists()
