"""`kill -9` at every stage of an interview's life: after a restart on the same DATA_DIR the
user signs in and finds the interview complete, once.

Each stage is reached the way it is in use, never by a hook in the code: the final pass is
running (the client is told), the analysis request is in flight (to a language-model server
that never answers), the next start is recovering the journal (it says so in its log).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.analysis.sessions import FIXTURES, truth, truth_words
from tests.live.server import client, pcm, stream
from tests.live.test_crash_recovery import REPO, free_port, in_order, norm
from tests.live.test_stream_sessions import STREAM

pytestmark = pytest.mark.slow

CREDS = {"email": "life@example.com", "password": "kill nine, again"}


class Coach:
    """`coach serve` in a process of its own, on a DATA_DIR that outlives it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items()
               if k not in ("MONGODB_URI", "DEEPGRAM_API_KEY", "OPENAI_API_KEY")},
            "PYTHONPATH": str(REPO),
            "DATA_DIR": str(data_dir),
            "JWT_SECRET": "lifecycle-secret-" + "k" * 32,
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            # a killed process's analysis lease runs out soon, and the next start looks often
            "ANALYSIS_LEASE_SECONDS": "3",
            "ANALYSIS_RECOVERY_INTERVAL_SECONDS": "1",
            **env,
        }  # fmt: skip
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coach", "serve"],
            env=self.env, cwd=self.data_dir.parent, stderr=self._log,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url) as c:
            for _ in range(1200):
                assert self.process is not None and self.process.poll() is None, self.log()
                with contextlib.suppress(httpx.TransportError):
                    if (await c.get("/health/live")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError("the server did not start: " + self.log()[-2000:])

    async def wait_log(self, text: str) -> None:
        for _ in range(1200):
            if text in self.log():
                return
            assert self.process is not None and self.process.poll() is None, self.log()
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} never logged: " + self.log()[-2000:])

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(10) == -signal.SIGKILL
        self.close()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


@contextlib.asynccontextmanager
async def running(data_dir: Path, **env: str) -> AsyncIterator[Coach]:
    coach = Coach(data_dir, **env)
    coach.start()
    try:
        await coach.ready()
        yield coach
    finally:
        coach.close()


async def register(coach: Coach) -> str:
    async with httpx.AsyncClient(base_url=coach.url) as c:
        r = await c.post("/api/auth/register", json=CREDS)
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


async def complete_once(coach: Coach) -> dict[str, Any]:
    """Sign in, and wait until the account holds exactly one interview, analyzed."""
    async with httpx.AsyncClient(base_url=coach.url, timeout=30) as c:
        token = (await c.post("/api/auth/login", json=CREDS)).json()["token"]
        h = {"authorization": f"Bearer {token}"}
        items: list[dict[str, Any]] = []
        for _ in range(600):
            items = (await c.get("/api/interviews", headers=h)).json()["items"]
            assert len(items) <= 1, items
            if items and items[0]["status"] == "completed":
                break
            await asyncio.sleep(0.2)
        assert len(items) == 1 and items[0]["status"] == "completed", (items, coach.log()[-3000:])
        stored = (await c.get(f"/api/interviews/{items[0]['id']}", headers=h)).json()
        assert isinstance(stored, dict)
        # the recording was kept, sealed, and plays
        rec = await c.get(stored["recordingUrl"], headers=h)
        assert rec.status_code == 200 and rec.content[:4] == b"OggS"
        return stored


def heard_most_of_the_answer(stored: dict[str, Any]) -> None:
    want = [norm(w.text) for w in truth_words(truth("weakness"))]
    got = [norm(w["word"]) for w in stored["words"]]
    assert in_order(want, got) >= 0.8 * len(want), (want, got)
    assert stored["aiAnalysis"]["overallScore"] >= 0


def leftovers(data_dir: Path) -> list[Path]:
    """Journals and unfinished recordings: after a good recovery there are none."""
    rec = data_dir / "recordings"
    return [*rec.glob("journal/*.jsonl"), *rec.glob("*.part")]


async def test_kill_9_while_storing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    async with running(data) as first:
        token = await register(first)
        async with client(first.url.replace("http", "ws") + "/", token) as ws:
            await ws.send(STREAM)
            await ws.of_type("ready")
            await stream(ws, pcm(FIXTURES / "weakness.wav"), pace=0.25)
            await ws.send({"action": "complete"})
            # the full-accuracy pass over the recording is running: the interview is not
            # stored yet
            await ws.next(lambda e: e.get("type") == "final_pass" and e["state"] == "running")
            first.kill()
    assert leftovers(data)
    async with running(data) as second:
        heard_most_of_the_answer(await complete_once(second))
    assert not leftovers(data)


async def test_kill_9_while_analyzing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    asked = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def never_answers(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        asked.set()

    model = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    port = model.sockets[0].getsockname()[1]
    try:
        async with running(
            data,
            OPENAI_API_KEY="sk-made-up-for-this-test",
            OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        ) as first:
            token = await register(first)
            async with client(first.url.replace("http", "ws") + "/", token) as ws:
                await ws.send(STREAM)
                await ws.of_type("ready")
                await stream(ws, pcm(FIXTURES / "weakness.wav"), pace=0.25)
                await ws.send({"action": "complete"})
                await ws.of_type("session_complete", within=120)
                # stored, and its analysis is waiting on the language model
                await asyncio.wait_for(asked.wait(), 60)
                first.kill()
    finally:
        for w in held:
            w.close()
        model.close()
        await model.wait_closed()
    # the next start has no key: the offline coach takes the job once its lease runs out
    async with running(data) as second:
        heard_most_of_the_answer(await complete_once(second))
    assert not leftovers(data)


async def test_kill_9_mid_interview_and_again_during_recovery(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    async with running(data) as first:
        token = await register(first)
        async with client(first.url.replace("http", "ws") + "/", token) as ws:
            await ws.send(STREAM)
            await ws.of_type("ready")
            await stream(ws, pcm(FIXTURES / "weakness.wav"), pace=0.25)
            await ws.next(lambda e: e.get("type") == "transcript" and e["isFinal"], within=60)
            first.kill()
    # the next start dies while it transcribes the partial recording again
    second = Coach(data)
    second.start()
    try:
        await second.wait_log("recovering session")
        second.kill()
    finally:
        second.close()
    # killed before it stored anything: the journal is still there for the next start
    assert leftovers(data)
    async with running(data) as third:
        stored = await complete_once(third)
    assert stored["words"]
    assert not leftovers(data)
