"""The embedded store survives restarts and kill -9: every write is on disk when it returns."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.encryption import new_key_text
from coach.settings import Settings
from coach.store.durable import SNAPSHOT, WRITES, DurableStore, close_durable
from tests.analysis.sessions import from_truth, truth


async def everything(client: Any) -> dict[str, list[dict[str, Any]]]:
    db = client["coach"]
    out = {}
    for name in ("a", "b"):
        docs = await db[name].find({}).to_list(None)
        out[name] = sorted(docs, key=lambda d: str(d["_id"]))
    return out


async def test_every_kind_of_write_is_replayed_after_a_crash(tmp_path: Path) -> None:
    store = DurableStore(tmp_path, "coach")
    a, b = store.client["coach"]["a"], store.client["coach"]["b"]
    await a.insert_one({"_id": "u1", "n": 1, "tags": ["x"]})
    await a.insert_many([{"_id": f"u{i}", "n": i} for i in range(2, 6)])
    await a.update_one({"_id": "u1"}, {"$set": {"n": 10}, "$push": {"tags": "y"}})
    await a.update_many({"n": {"$lt": 4}}, {"$inc": {"n": 100}})
    await a.replace_one({"_id": "u4"}, {"n": 44})
    await a.delete_one({"_id": "u5"})
    await a.find_one_and_update({"_id": "u6"}, {"$set": {"n": 6}}, upsert=True)
    await a.update_one({"_id": "u7"}, {"$set": {"n": 7}}, upsert=True)
    await b.insert_one({"when": dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)})
    await b.insert_one({"gone": True})
    await b.delete_many({"gone": True})
    await a.find_one_and_delete({"_id": "u2"})
    before = await everything(store.client)
    # a kill -9: no close, no compaction; only the log on disk
    assert (tmp_path / WRITES).stat().st_size > 0
    again = DurableStore(tmp_path, "coach")
    after = await everything(again.client)
    assert after == before
    assert {d["_id"]: d["n"] for d in after["a"]} == {
        "u1": 10,
        "u3": 103,
        "u4": 44,
        "u6": 6,
        "u7": 7,
    }
    assert after["b"][0]["when"].tzinfo is not None
    # the start compacted the log into the snapshot
    assert (tmp_path / SNAPSHOT).exists() and not (tmp_path / WRITES).read_text()
    assert close_durable(again.client)
    assert await everything(DurableStore(tmp_path, "coach").client) == before


async def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    store = DurableStore(tmp_path, "coach")
    await store.client["coach"]["a"].insert_one({"_id": "kept"})
    with (tmp_path / WRITES).open("a", encoding="utf-8") as f:
        f.write('{"c": "a", "op": "put", "doc": {"_id": "torn"')  # the crash, mid-write
    again = DurableStore(tmp_path, "coach")
    assert [d["_id"] for d in (await everything(again.client))["a"]] == ["kept"]


def settings(data_dir: Path) -> Settings:
    return Settings(jwt_secret="test-secret-" + "d" * 32, data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]


async def test_an_account_and_its_analyzed_interview_outlive_the_app(tmp_path: Path) -> None:
    creds = {"email": "keep@example.com", "password": "correct horse battery"}
    session = from_truth(truth("weakness")).model_dump(by_alias=True)
    app = create_app(settings(tmp_path), analyzer=OfflineCoach())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:  # fmt: skip
            assert (await http.post("/api/auth/register", json=creds)).status_code == 201
            token = (await http.post("/api/auth/login", json=creds)).json()["token"]
            h = {"authorization": f"Bearer {token}"}
            body = {"roomName": "r", "participantIdentity": "p", "sessionData": session}
            iid = (await http.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
            for _ in range(500):
                got = (await http.get(f"/api/interviews/{iid}", headers=h)).json()
                if got["status"] == "completed":
                    break
                await asyncio.sleep(0.01)
    # a new process on the same DATA_DIR (a new app and store)
    app = create_app(settings(tmp_path), analyzer=OfflineCoach())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:  # fmt: skip
            r = await http.post("/api/auth/login", json=creds)
            assert r.status_code == 200
            h = {"authorization": f"Bearer {r.json()['token']}"}
            again = (await http.get(f"/api/interviews/{iid}", headers=h)).json()
    assert again == got and again["aiAnalysis"]["overallScore"] >= 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "JWT_SECRET": "test-secret-" + "k" * 32,
           "PORT": str(port), "HOST": "127.0.0.1"}  # fmt: skip
    env.pop("MONGODB_URI", None)
    return subprocess.Popen(
        [sys.executable, "-m", "coach", "serve"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_up(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_kill_9_loses_no_account_and_no_interview(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    creds = {"email": "crash@example.com", "password": "correct horse battery"}
    session = from_truth(truth("project")).model_dump(by_alias=True)
    server = start_server(tmp_path, port)
    try:
        wait_up(url)
        assert httpx.post(f"{url}/api/auth/register", json=creds).status_code == 201
        token = httpx.post(f"{url}/api/auth/login", json=creds).json()["token"]
        h = {"authorization": f"Bearer {token}"}
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": session}
        iid = httpx.post(f"{url}/api/interviews/analyze", json=body, headers=h).json()["id"]
        for _ in range(300):
            if httpx.get(f"{url}/api/interviews/{iid}", headers=h).json()["status"] != "processing":
                break
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        server = start_server(tmp_path, port)
        wait_up(url)
        r = httpx.post(f"{url}/api/auth/login", json=creds)
        assert r.status_code == 200
        h = {"authorization": f"Bearer {r.json()['token']}"}
        items = httpx.get(f"{url}/api/interviews", headers=h).json()["items"]
        assert [(i["id"], i["status"]) for i in items] == [(iid, "completed")]
    finally:
        server.kill()
        server.wait(10)


def test_production_needs_mongodb_unless_the_embedded_store_is_chosen() -> None:
    base = {"coach_env": "production", "jwt_secret": "s" * 40, "_env_file": None,
            "data_encryption_key": new_key_text()}  # fmt: skip
    with pytest.raises(ValueError, match="MONGODB_URI is required"):
        Settings(**base)  # type: ignore[arg-type]
    assert Settings(**base, allow_memory_store=True).allow_memory_store  # type: ignore[arg-type]
