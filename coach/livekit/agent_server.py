"""coach as a LiveKit agent server: LiveKit dispatches each interview's job to an instance.

The `AgentServer` (livekit-agents) registers with LiveKit under `LIVEKIT_AGENT_NAME`, reports
this process's load and accepts the jobs that candidate tokens dispatch. Jobs run in the
thread executor, in this process: the job thread only hands the interview to the app's event
loop, where the same `SessionManager` as stream mode listens, journals and stores it, keyed
on the interview id from the dispatch. A process executor would need its own database
client, recognizer and session limits per job, so one process could not count its load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import psutil  # type: ignore[import-untyped]
from livekit.agents import AgentServer, JobContext, JobExecutorType, JobRequest

from coach.livekit.dispatch import DispatchError, JobMetadata
from coach.livekit.tokens import LiveKitConfig

log = logging.getLogger("coach.livekit.agent_server")


@dataclass(frozen=True)
class AssignedJob:
    """One interview LiveKit gave this instance."""

    job_id: str
    room_name: str
    metadata: JobMetadata


JobHandler = Callable[[AssignedJob], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class AgentServerOptions:
    """How the agent server registers and when it says it is full."""

    agent_name: str = "coach"
    load_threshold: float = 0.75
    port: int = 0
    max_sessions: int = 200
    count_cpu: bool = True


def instance_load(live_sessions: int, max_sessions: int, cpu_percent: float) -> float:
    """The load LiveKit balances on: the busier of live sessions and CPU, from 0 to 1."""
    sessions = live_sessions / max_sessions if max_sessions > 0 else 1.0
    return min(1.0, max(sessions, cpu_percent / 100.0, 0.0))


class CoachAgentServer:
    """Owns the `AgentServer`: `start()` registers it, `aclose()` drains nothing and leaves."""

    def __init__(
        self,
        config: LiveKitConfig,
        options: AgentServerOptions,
        on_job: JobHandler,
        live_sessions: Callable[[], int],
    ) -> None:
        self._config = config
        self._options = options
        self._on_job = on_job
        self._live_sessions = live_sessions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started: asyncio.Event | None = None
        self.server = AgentServer(
            job_executor_type=JobExecutorType.THREAD,
            load_threshold=options.load_threshold,
            load_fnc=self._load,
            num_idle_processes=1,
            ws_url=config.url,
            api_key=config.api_key,
            api_secret=config.api_secret,
            host="127.0.0.1",
            port=options.port,
            # LiveKit's job shutdown gives the entrypoint 15 s before cancelling it; the
            # cancel is what stores the session, so the executor must outwait it
            shutdown_process_timeout=20.0,
        )
        self.server.rtc_session(
            self._entrypoint, agent_name=options.agent_name, on_request=self._request
        )

    def _load(self) -> float:
        # called in an executor thread every half second and before each availability answer
        cpu = psutil.cpu_percent(interval=None) if self._options.count_cpu else 0.0
        return instance_load(self._live_sessions(), self._options.max_sessions, cpu)

    async def start(self) -> None:
        """Register with LiveKit in the background; connection errors are retried there."""
        self._loop = asyncio.get_running_loop()
        started = self._started = asyncio.Event()
        self.server.on("worker_started", lambda: started.set())
        self._task = asyncio.create_task(self._run(), name="livekit-agent-server")

    async def _run(self) -> None:
        try:
            await self.server.run()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # LiveKit unreachable for good: the API goes on without jobs
            log.error("the LiveKit agent server stopped: %s", e)

    async def aclose(self) -> None:
        """Leave LiveKit; running jobs are cancelled and finish their sessions."""
        try:
            if self._task is not None and self._started is not None:
                # an app stopped right after start: let run() finish setting up (it holds its
                # own lock and opens servers), since AgentServer.aclose() needs a started server
                started = asyncio.create_task(self._started.wait(), name="agent-server-started")
                try:
                    await asyncio.wait(
                        {started, self._task}, timeout=10, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    started.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await started
                if self._started.is_set():
                    await self.server.aclose()
        finally:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _request(self, request: JobRequest) -> None:
        try:
            meta = JobMetadata.from_json(request.job.metadata)
        except DispatchError as e:
            log.warning("job %s refused: %s", request.id, e)
            await request.reject()
            return
        # coach's own listener bot joins the room, so the job's identity stays out of sight
        await request.accept(identity=f"coach-agent-{meta.interview_id}")

    async def _entrypoint(self, ctx: JobContext) -> None:
        # Runs on the job thread's loop; the interview runs on the app's loop, where the
        # database client, the recognizer and the session limits live.
        assert self._loop is not None
        job = AssignedJob(
            job_id=ctx.job.id,
            room_name=ctx.job.room.name,
            metadata=JobMetadata.from_json(ctx.job.metadata),
        )
        log.info("job %s: interview %s", job.job_id, job.metadata.interview_id)
        running = asyncio.run_coroutine_threadsafe(self._on_job(job), self._loop)
        try:
            await asyncio.wrap_future(running)
        finally:
            running.cancel()
        ctx.shutdown("interview stored")
