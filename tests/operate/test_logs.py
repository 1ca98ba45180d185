"""Logs: one handler set up by the app, a request id on every line, JSON that parses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from tests.live.server import account, client
from tests.live.test_stream_sessions import STREAM, app_for


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """uvicorn as `uvicorn coach.app:app` runs it: its access log on, its log config left out
    (the app's own, as `coach serve` does)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on",
                            ws="websockets-sansio")  # fmt: skip
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(), name="test-uvicorn")
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture(autouse=True)
def _restore_logging() -> Any:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


async def run(tmp_path: Any, log_format: str) -> tuple[str, str]:
    """A request and a live session, each with a request id the test chose; the ids."""
    http_id, ws_id = uuid.uuid4().hex, uuid.uuid4().hex
    async with served(app_for(tmp_path, log_format=log_format)) as host:
        token = await account(f"http://{host}")
        async with httpx.AsyncClient() as h:
            r = await h.get(
                f"http://{host}/health/live?ticket=never-logged", headers={"X-Request-ID": http_id}
            )
            assert r.headers["x-request-id"] == http_id
        async with client(f"ws://{host}/", token) as c:
            # the socket's id: the server picks one when the client sends none
            await c.send(STREAM)
            await c.of_type("ready")
            await c.send({"action": "complete"})
            await c.of_type("session_complete", within=30)
        async with client(f"ws://{host}/", None) as refused:
            await refused.ws.wait_closed()
        del ws_id
    return http_id, token


async def test_text_lines_carry_the_request_id_and_no_secret(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http_id, token = await run(tmp_path, "text")
    err = capsys.readouterr().err
    access = [line for line in err.splitlines() if "GET /health/live" in line]
    assert len(access) == 1 and f"[{http_id}]" in access[0], err
    assert "never-logged" not in err and token not in err
    started = [line for line in err.splitlines() if "started in room" in line]
    assert len(started) == 1
    ws_id = started[0].split("[", 1)[1].split("]", 1)[0]
    assert len(ws_id) == 32 and ws_id != http_id
    # the socket's access line and the session's lines share its id
    assert any("WebSocket /" in line and f"[{ws_id}]" in line for line in err.splitlines()), err


async def test_json_lines_parse_and_carry_the_request_id(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http_id, token = await run(tmp_path, "json")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "name", "requestId", "message"} <= r.keys() for r in records)
    assert not any("color_message" in r for r in records)  # uvicorn's terminal copy
    access = [r for r in records if "GET /health/live" in r["message"]]
    assert len(access) == 1 and access[0]["requestId"] == http_id
    assert access[0]["name"] == "uvicorn.access"
    started = [r for r in records if "started in room" in r["message"]]
    assert len(started) == 1 and started[0]["requestId"] not in ("-", http_id)
    assert started[0]["room"].startswith("practice-")
    assert not any("never-logged" in line or token in line for line in lines)
