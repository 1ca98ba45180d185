"""coach as a LiveKit agent server, registered with a fake LiveKit that dispatches real jobs."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from livekit.protocol import agent

import coach
from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.livekit.agent_server import (
    AgentServerOptions,
    AssignedJob,
    CoachAgentServer,
    instance_load,
)
from coach.livekit.dispatch import JobMetadata
from coach.livekit.tokens import LiveKitConfig
from coach.store.memory import in_process_client
from coach.stt.scripted import ScriptedRecognizer
from tests.livekit.fake_agent_protocol import room_job, running
from tests.livekit.test_tokens import KEY, SECRET, decode, user
from tests.livekit.test_tokens import settings as livekit_settings


async def until(check: Callable[[], bool], within: float = 60) -> None:
    # the jobs run on the agent server's threads: polling is how the test sees them
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.05)


def meta(interview_id: str = "iv1") -> str:
    return JobMetadata(interview_id=interview_id, user_id="u1", participant_identity="u1").to_json()


async def test_the_real_agent_server_registers_and_runs_each_dispatched_job() -> None:
    async with running(KEY, SECRET) as fake:
        config = LiveKitConfig.from_settings(livekit_settings(livekit_url=fake.url))
        started: list[AssignedJob] = []
        ended: list[str] = []

        async def on_job(job: AssignedJob) -> None:
            started.append(job)
            try:
                await asyncio.Event().wait()  # an interview lasts until LiveKit ends the job
            finally:
                ended.append(job.job_id)

        # sessions only: a busy CI machine's CPU must not make it refuse the job under test
        options = AgentServerOptions(count_cpu=False)
        server = CoachAgentServer(config, options, on_job, lambda: len(started))
        await server.start()
        try:
            reg = await asyncio.wait_for(fake.registered.get(), 30)
            assert reg.agent_name == "coach" and reg.type == agent.JobType.JT_ROOM
            assert fake.refused_auth == 0
            assert await fake.dispatch(room_job("AJ_1", "room-1", meta()))
            await until(lambda: len(started) == 1)
            (job,) = started
            assert (job.job_id, job.room_name) == ("AJ_1", "room-1")
            assert job.metadata.interview_id == "iv1"
            # what is not coach's dispatch is refused, nothing runs
            assert not await fake.dispatch(room_job("AJ_2", "room-2", "not json"))
            assert len(started) == 1
            # LiveKit ends the job (the room closed): the interview's coroutine is cancelled
            await fake.terminate("AJ_1")
            await until(lambda: ended == ["AJ_1"])
        finally:
            await server.aclose()


async def test_a_full_instance_refuses_and_one_stopped_at_once_closes_cleanly() -> None:
    async with running(KEY, SECRET) as fake:
        config = LiveKitConfig.from_settings(livekit_settings(livekit_url=fake.url))

        async def on_job(job: AssignedJob) -> None:
            raise AssertionError("a full instance ran a job")

        full = AgentServerOptions(max_sessions=2, count_cpu=False)
        server = CoachAgentServer(config, full, on_job, lambda: 2)
        await server.start()
        try:
            await asyncio.wait_for(fake.registered.get(), 30)
            assert not await fake.dispatch(room_job("AJ_full", "room-f", meta()))
        finally:
            await server.aclose()
        # an app whose lifespan ends right after it started (a failed start, a short test)
        again = CoachAgentServer(config, full, on_job, lambda: 0)
        await again.start()
        await again.aclose()


@pytest.mark.parametrize(
    ("live", "cap", "cpu", "load"),
    [(0, 10, 0.0, 0.0), (5, 10, 20.0, 0.5), (1, 10, 80.0, 0.8), (20, 10, 0.0, 1.0), (1, 0, 0, 1)],
)
def test_load_is_the_busier_of_sessions_and_cpu(
    live: int, cap: int, cpu: float, load: float
) -> None:
    assert instance_load(live, cap, cpu) == pytest.approx(load)


async def test_the_app_registers_and_a_token_s_dispatch_becomes_a_stored_session(
    tmp_path: Path,
) -> None:
    async with running(KEY, SECRET) as fake:
        # a busy CI machine's CPU would make this instance refuse the job it is tested on
        s = livekit_settings(livekit_url=fake.url, livekit_agent_server=True, data_dir=tmp_path,
                             livekit_load_cpu=False)  # fmt: skip
        c = in_process_client()
        app = create_app(s, analyzer=OfflineCoach(), database=(c, c["coach"]),
                         recognizer=ScriptedRecognizer([]))  # fmt: skip
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                reg = await asyncio.wait_for(fake.registered.get(), 30)
                assert reg.agent_name == s.livekit_agent_name
                uid, h = await user(http, "agent@example.com")
                plan = {"role": "Nurse", "questions": 2}
                body = {"roomName": "room-a", "participantName": "A", "plan": plan}
                r = await http.post("/api/livekit/token", json=body, headers=h)
                granted = r.json()
                (dispatch,) = decode(granted["token"])["roomConfig"]["agents"]
                # LiveKit creates the job from the token's dispatch at the first join
                job = room_job("AJ_room_a", "room-a", dispatch["metadata"], dispatch["agentName"])
                assert await fake.dispatch(job)
                sessions = app.state.services.sessions
                iid = granted["interviewId"]

                def opened() -> Any:
                    try:
                        return sessions.get(uid, iid)
                    except Exception:
                        return None

                await until(lambda: opened() is not None)
                session = opened()
                assert (session.room_name, session.participant_identity) == ("room-a", uid)
                assert sessions.live_count == 1
                # the room closes: the job ends and the session is stored like stream mode's
                await fake.terminate("AJ_room_a")
                await until(lambda: session.interview_id is not None, within=90)
                listed = (await http.get("/api/interviews", headers=h)).json()["items"]
                assert [(i["id"], i["roomName"]) for i in listed] == [
                    (session.interview_id, "room-a")
                ]


def test_no_livekit_test_helper_runs_in_production_code() -> None:
    root = Path(coach.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.startswith("livekit.agents.testing") for n in names):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
