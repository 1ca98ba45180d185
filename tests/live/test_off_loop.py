"""The loop carrying live audio never waits on the disk: a stalled disk stalls no session."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.file_worker import FileWorker
from coach.loop_lag import LoopLag
from coach.stt.scripted import ScriptedRecognizer
from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, database, fetch, settings


async def test_a_stalled_disk_holds_up_no_word_and_loses_nothing(tmp_path: Path) -> None:
    gt = truth("weakness")
    audio = pcm(FIXTURES / "weakness.wav")
    # one thread for every recording and journal, held by a write that never returns until
    # the test says so: a disk that has stopped answering
    files = FileWorker(threads=1)
    disk = threading.Event()
    files.submit("stalled disk", disk.wait)
    app = create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=database(),
        recognizer=ScriptedRecognizer.from_words(truth_words(gt)),
        files=files,
    )
    try:
        async with serve(app) as srv:
            token = await account(srv.url)
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                session_id = (await c.of_type("ready"))["sessionId"]
                await stream(c, audio)
                # every word reaches the client while nothing has reached the disk
                want = [w.text for w in truth_words(gt)]
                while len(" ".join(e["text"] for e in c.finals()).split()) < len(want):
                    await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
                journal = tmp_path / "recordings" / "journal" / f"{session_id}.jsonl"
                assert not journal.exists() and files.pending > 1
                disk.set()
                await c.send({"action": "complete"})
                done = await c.of_type("session_complete", within=30)
                # the recording is encoded after the words are stored; this says it is linked
                await c.of_type("analysis_complete", within=30)
            stored = (await fetch(srv.url, token, f"/api/interviews/{done['interviewId']}")).json()
            assert [w["word"] for w in stored["words"]] == [w.word for w in truth_words(gt)]
            rec = await fetch(srv.url, token, stored["recordingUrl"])
            assert rec.status_code == 200 and len(rec.content) > 1000
            # stored: the journal's last writes ran and it is gone
            assert not journal.exists()
    finally:
        disk.set()


async def test_loop_lag_sees_a_blocking_call() -> None:
    lag = LoopLag(interval=0.01)
    lag.start()
    await asyncio.sleep(0.05)
    before = lag.samples
    time.sleep(0.2)  # noqa: ASYNC251 -- the kind of call the live loop must never make
    await asyncio.sleep(0.05)
    await lag.aclose()
    assert lag.samples > before
    assert lag.longest >= 0.15
    assert lag.reset() >= 0.15 and lag.longest == 0.0


def test_recent_longest_forgets_stalls_older_than_a_minute() -> None:
    now = [1000.0]
    lag = LoopLag(clock=lambda: now[0])
    lag.record(0.3)
    now[0] += 30
    lag.record(0.01)
    assert lag.recent_longest() == 0.3
    now[0] += 31
    assert lag.recent_longest() == 0.01
    now[0] += 60
    assert lag.recent_longest() == 0.0
    assert lag.longest == 0.3
