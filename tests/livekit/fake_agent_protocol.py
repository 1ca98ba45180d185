"""A local LiveKit server, as far as agent servers see it: the `/agent` WebSocket.

It speaks livekit-protocol's `WorkerMessage` / `ServerMessage` (register, status updates,
availability request and answer, job assignment, termination), so the real livekit-agents
`AgentServer` registers with it and runs the jobs it dispatches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import jwt
from aiohttp import WSMsgType, web
from livekit.protocol import agent, models


class FakeAgentProtocol:
    """One LiveKit node: accepts agent servers' connections and dispatches jobs to them."""

    def __init__(self, api_key: str, api_secret: str) -> None:
        self._key, self._secret = api_key, api_secret
        self.url = ""
        self.registered: asyncio.Queue[agent.RegisterWorkerRequest] = asyncio.Queue()
        self.statuses: list[agent.UpdateWorkerStatus] = []
        self.job_updates: list[agent.UpdateJobStatus] = []
        self.refused_auth = 0
        self._ws: web.WebSocketResponse | None = None
        self._answers: dict[str, asyncio.Future[agent.AvailabilityResponse]] = {}

    async def _agent(self, request: web.Request) -> web.WebSocketResponse:
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(auth, self._secret, algorithms=["HS256"])
            ok = claims.get("iss") == self._key and claims.get("video", {}).get("agent") is True
        except jwt.PyJWTError:
            ok = False
        if not ok:
            self.refused_auth += 1
            raise web.HTTPUnauthorized()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            m = agent.WorkerMessage()
            m.ParseFromString(msg.data)
            which = m.WhichOneof("message")
            if which == "register":
                reply = agent.ServerMessage(
                    register=agent.RegisterWorkerResponse(
                        worker_id="AW_fake", server_info=models.ServerInfo(region="test")
                    )
                )
                await ws.send_bytes(reply.SerializeToString())
                self.registered.put_nowait(m.register)
            elif which == "update_worker":
                self.statuses.append(m.update_worker)
            elif which == "availability":
                fut = self._answers.get(m.availability.job_id)
                if fut is not None and not fut.done():
                    fut.set_result(m.availability)
            elif which == "update_job":
                self.job_updates.append(m.update_job)
        return ws

    async def _send(self, message: agent.ServerMessage) -> None:
        assert self._ws is not None, "no agent server connected"
        await self._ws.send_bytes(message.SerializeToString())

    async def dispatch(self, job: agent.Job) -> bool:
        """Offer `job`; when accepted, assign it (as LiveKit does); says whether it was."""
        fut: asyncio.Future[agent.AvailabilityResponse] = asyncio.Future()
        self._answers[job.id] = fut
        await self._send(agent.ServerMessage(availability=agent.AvailabilityRequest(job=job)))
        async with asyncio.timeout(30):
            answer = await fut
        if not answer.available:
            return False
        token = "fake-room-token"  # the job's own room connection is not used by coach
        assignment = agent.JobAssignment(job=job, url=self.url, token=token)
        await self._send(agent.ServerMessage(assignment=assignment))
        return True

    async def terminate(self, job_id: str) -> None:
        """Tell the agent server the job is over (the room closed)."""
        await self._send(agent.ServerMessage(termination=agent.JobTermination(job_id=job_id)))


def room_job(job_id: str, room: str, metadata: str, agent_name: str = "coach") -> agent.Job:
    """The job LiveKit creates from a token's `roomConfig.agents` entry."""
    return agent.Job(
        id=job_id,
        dispatch_id=f"AD_{job_id}",
        type=agent.JobType.JT_ROOM,
        room=models.Room(sid=f"RM_{room}", name=room),
        agent_name=agent_name,
        metadata=metadata,
    )


@contextlib.asynccontextmanager
async def running(api_key: str, api_secret: str) -> AsyncIterator[FakeAgentProtocol]:
    """The fake on a free port of 127.0.0.1; `url` is what LIVEKIT_URL would be."""
    fake = FakeAgentProtocol(api_key, api_secret)
    app = web.Application()
    app.router.add_get("/agent", fake._agent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    port = server.sockets[0].getsockname()[1]
    fake.url = f"ws://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        if fake._ws is not None:
            await fake._ws.close()
        await runner.cleanup()
