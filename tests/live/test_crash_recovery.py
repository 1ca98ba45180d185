"""A server killed with SIGKILL mid-interview: the next start stores what was heard."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from tests.analysis.sessions import FIXTURES
from tests.live.server import client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], where: Path) -> tuple[IO[bytes], subprocess.Popen[bytes]]:
    """`coach serve` in its own process, its log in `where`."""
    log = (where / "server.log").open("wb")
    return log, subprocess.Popen(
        [sys.executable, "-m", "coach", "serve"], env=env, cwd=where, stderr=log
    )


def norm(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


def in_order(want: list[str], got: list[str]) -> int:
    """How many of `want` appear in `got` in the same order (longest common subsequence).

    Not a greedy scan: one missed filler would send it to the next "um" far ahead and count
    everything in between as lost.
    """
    row = [0] * (len(got) + 1)
    for w in want:
        prev_diag = 0
        for j, g in enumerate(got, start=1):
            keep = row[j]
            row[j] = prev_diag + 1 if w == g else max(row[j], row[j - 1])
            prev_diag = keep
    return row[-1]


@pytest.mark.slow
async def test_kill_9_mid_interview_loses_no_heard_words(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATA_DIR": str(tmp_path),
        "JWT_SECRET": "crash-test-secret-" + "q" * 32,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("MONGODB_URI", None)
    env.pop("DEEPGRAM_API_KEY", None)
    log, server = start_server(env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    heard: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(base_url=base) as c:
            for _ in range(300):
                try:
                    if (await c.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            r = await c.post(
                "/api/auth/register", json={"email": "k@example.com", "password": "kill nine!"}
            )
            user = r.json()
        # the start-up line tells a person where the practice page is
        assert f"http://localhost:{port}/app" in (tmp_path / "server.log").read_text()
        async with client(f"ws://127.0.0.1:{port}/", user["token"]) as ws:
            await ws.send(STREAM)
            await ws.of_type("ready")
            await stream(ws, pcm(FIXTURES / "weakness.wav"), pace=0.25)
            # wait for two utterances to be transcribed, then pull the plug
            await ws.next(lambda e: e.get("type") == "transcript" and e["isFinal"], within=60)
            await ws.next(lambda e: e.get("type") == "transcript" and e["isFinal"], within=60)
            heard = ws.finals()
            server.send_signal(signal.SIGKILL)
            server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
        log.close()
    assert server.returncode == -signal.SIGKILL
    # the recording was on disk as it grew, not only at the end
    (part,) = (tmp_path / "recordings").glob("session-*.ogg.pcm.part")
    assert part.stat().st_size > 0
    assert list((tmp_path / "recordings" / "journal").glob("*.jsonl"))

    # the next start on the same DATA_DIR: its embedded store still has the account, and the
    # journal becomes the interview
    app = create_app(settings(tmp_path), analyzer=OfflineCoach())
    async with serve(app) as srv, httpx.AsyncClient(base_url=srv.url) as c:
        creds = {"email": "k@example.com", "password": "kill nine!"}
        token = (await c.post("/api/auth/login", json=creds)).json()["token"]
        h = {"authorization": f"Bearer {token}"}
        (listed,) = (await c.get("/api/interviews", headers=h)).json()["items"]
        stored = (await c.get(f"/api/interviews/{listed['id']}", headers=h)).json()
    # the words heard before the kill are stored; the recording, which grew a page a second,
    # was transcribed again on recovery, so it may hold more than the live finals did
    texts = [norm(t) for t in " ".join(e["text"] for e in heard).split()]
    got = [norm(w["word"]) for w in stored["words"]]
    assert len(got) >= len(texts)
    assert in_order(texts, got) >= 0.8 * len(texts), (texts, got)
    assert stored["recordingUrl"]
    assert stored["status"] in ("processing", "completed")
    assert not list((tmp_path / "recordings" / "journal").glob("*.jsonl"))
