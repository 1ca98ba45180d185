"""A practice client: stream a recording to the live-session WebSocket as a microphone would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from coach.audio.decode import iter_pcm

FRAME_SECONDS = 0.1
Event = dict[str, Any]


class PracticeError(Exception):
    """The practice run could not go on; the message says why."""


@dataclass(frozen=True)
class Server:
    """Where to practise: the HTTP base URL and a bearer token."""

    base_url: str
    token: str

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint of the same server."""
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        host = self.base_url.split("://", 1)[1].rstrip("/")
        return f"{scheme}://{host}/"


def pcm_frames(path: Path) -> list[bytes]:
    """The recording as 100 ms frames of 16 kHz mono PCM16."""
    frames: list[bytes] = []
    carry = np.empty(0, dtype=np.float32)
    size = int(FRAME_SECONDS * 16000)
    for chunk in iter_pcm(path, sample_rate=16000, chunk_seconds=10.0):
        carry = np.concatenate([carry, chunk])
        whole = carry.size // size * size
        pcm = (np.clip(carry[:whole], -1.0, 1.0) * 32767).astype("<i2")
        frames += [pcm[i : i + size].tobytes() for i in range(0, whole, size)]
        carry = carry[whole:]
    if carry.size:
        frames.append((np.clip(carry, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return frames


async def stream_recording(
    server: Server,
    frames: list[bytes],
    *,
    speed: float,
    on_event: Callable[[Event], None],
    start: Event | None = None,
) -> Event:
    """Stream `frames` at `speed` times real time, complete, and return the analyzed interview.

    `start` adds fields to the `start` message (a `drill`, say).
    """
    start_message = {
        "action": "start",
        "audio": {"encoding": "linear16", "sampleRate": 16000},
        **(start or {}),
    }
    headers = {"Authorization": f"Bearer {server.token}"}
    try:
        async with connect(
            server.ws_url, additional_headers=headers, max_size=None, max_queue=None
        ) as ws:
            await ws.send(json.dumps(start_message))
            ended: asyncio.Future[Event] = asyncio.get_running_loop().create_future()

            async def receive() -> None:
                async for raw in ws:
                    event = json.loads(raw)
                    on_event(event)
                    if event.get("type") == "analysis_complete" and not ended.done():
                        ended.set_result(event)
                    elif event.get("type") == "error" and event.get("code") in (
                        "bad_start",
                        "finish_failed",
                        "max_sessions",
                        "max_sessions_per_user",
                        "shutting_down",
                    ):
                        ended.set_exception(PracticeError(event["message"]))
                if not ended.done():
                    why = ws.close_reason or f"code {ws.close_code}"
                    ended.set_exception(PracticeError(f"the server closed the connection: {why}"))

            reader = asyncio.create_task(receive(), name="practice-reader")
            try:
                loop = asyncio.get_running_loop()
                began = loop.time()
                for k, frame in enumerate(frames):
                    if ended.done():
                        break
                    await asyncio.sleep(max(0.0, began + k * FRAME_SECONDS / speed - loop.time()))
                    await ws.send(frame)
                await ws.send(json.dumps({"action": "complete"}))
                done = await ended
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
    except (OSError, WebSocketException) as e:
        raise PracticeError(f"cannot practise on {server.ws_url}: {e}") from e
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        r = await c.get(
            f"/api/interviews/{done['interviewId']}",
            headers={"authorization": f"Bearer {server.token}"},
        )
    if r.status_code != 200:
        raise PracticeError(f"the interview could not be read back: HTTP {r.status_code}")
    interview: Event = r.json()
    return interview


@contextlib.asynccontextmanager
async def local_server(app: Any) -> AsyncIterator[Server]:
    """Run `app` on a free local port with a throwaway account, for practice with no server."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="practice-server")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise PracticeError("the local server did not start")
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as c:
            r = await c.post(
                "/api/auth/register",
                json={
                    "email": f"practice-{secrets.token_hex(4)}@localhost.localdomain",
                    "password": secrets.token_urlsafe(16),
                },
            )
        if r.status_code != 201:
            raise PracticeError(f"could not create a practice account: {r.text}")
        yield Server(base, r.json()["token"])
    finally:
        server.should_exit = True
        await task
