"""The real app on uvicorn on a free port, in the test's event loop, and a WebSocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect


class LiveServer:
    """A started uvicorn server; `url`/`ws_url` point at it."""

    def __init__(self, server: uvicorn.Server, port: int) -> None:
        self.server = server
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/"


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[LiveServer]:
    """Run `app` with its lifespan until the block ends (or the test asks it to exit)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    # The test owns the process's signals; uvicorn must not take them over.
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(), name="test-uvicorn")
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(server, port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def account(base_url: str, email: str = "ws@example.com") -> str:
    """Register a user and return their bearer token."""
    async with httpx.AsyncClient(base_url=base_url) as c:
        r = await c.post("/api/auth/register", json={"email": email, "password": "correct horse"})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


class Client:
    """A WebSocket client that keeps every event it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def next(
        self, predicate: Callable[[dict[str, Any]], bool], *, within: float = 20.0
    ) -> dict[str, Any]:
        """Read events until one matches (all are kept in `events`)."""
        async with asyncio.timeout(within):
            while True:
                event = json.loads(await self.ws.recv())
                self.events.append(event)
                if predicate(event):
                    return dict(event)

    async def of_type(self, kind: str, *, within: float = 20.0) -> dict[str, Any]:
        return await self.next(lambda e: e.get("type") == kind, within=within)

    def finals(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "transcript" and e["isFinal"]]


@contextlib.asynccontextmanager
async def client(
    url: str, token: str | None, *, ticket: str | None = None, query_token: bool = False
) -> AsyncIterator[Client]:
    """Open a WebSocket to the app: the token in the Authorization header (as apps do), or a
    ticket in the query (as browsers do); `query_token` tries the refused `?token=`."""
    headers = {"Authorization": f"Bearer {token}"} if token and not query_token else None
    target = url
    if ticket is not None:
        target = f"{url}?ticket={ticket}"
    elif query_token:
        target = f"{url}?token={token}"
    # unbounded: a test that stops reading must not stall the close handshake
    async with connect(target, additional_headers=headers, max_size=None, max_queue=None) as ws:
        yield Client(ws)


def pcm(path: Path) -> bytes:
    """A 16 kHz mono 16-bit WAV's samples."""
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return w.readframes(w.getnframes())


async def stream(c: Client, audio: bytes, *, frame_seconds: float = 0.1, pace: float = 0.0) -> None:
    """Send audio as binary frames, `pace` seconds of wall time per second of audio."""
    size = int(frame_seconds * 16000) * 2
    for i in range(0, len(audio), size):
        await c.ws.send(audio[i : i + size])
        await asyncio.sleep(frame_seconds * pace)
