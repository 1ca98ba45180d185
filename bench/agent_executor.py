"""Thread or process job executor for coach's LiveKit agent server: start latency and memory.

Runs livekit-agents' real `AgentServer` against the test suite's fake agent-protocol server
(no LiveKit needed), dispatches N jobs one after another and keeps each running, then
reports the time from dispatch to the entrypoint and the memory the jobs cost (this process
plus its children). Run: `python -m bench.agent_executor --jobs 8`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from livekit.agents import AgentServer, JobContext, JobExecutorType, JobRequest

from tests.livekit.fake_agent_protocol import room_job, running

KEY, SECRET = "bench-key", "bench-secret-" + "s" * 32


def _rss_mb() -> float:
    me = psutil.Process(os.getpid())
    procs = [me, *me.children(recursive=True)]
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _mark(marks: str, job_id: str) -> None:
    # a file, not memory: with the process executor the job runs in another process
    with open(marks, "a", encoding="utf-8") as f:
        f.write(f"{job_id} {time.time()}\n")


def _mark_reset(marks: str) -> None:
    Path(marks).write_text("", encoding="utf-8")


def _marked(marks: str) -> dict[str, float]:
    with open(marks, encoding="utf-8") as f:
        return {jid: float(at) for jid, at in (line.split() for line in f)}


async def _entrypoint(ctx: JobContext) -> None:
    # the job's own start is what the bench times; it then holds its slot like an interview
    _mark(ctx.job.metadata, ctx.job.id)
    await asyncio.Event().wait()


async def _accept(request: JobRequest) -> None:
    await request.accept(identity=f"bench-{request.id}")


async def measure(executor: JobExecutorType, jobs: int, marks: str) -> dict[str, float]:
    """Dispatch `jobs` jobs to a fresh agent server using `executor`; latencies and memory."""
    _mark_reset(marks)
    async with running(KEY, SECRET) as fake:
        server = AgentServer(
            job_executor_type=executor,
            load_threshold=0.99,
            load_fnc=lambda *_: 0.0,
            num_idle_processes=1,
            ws_url=fake.url,
            api_key=KEY,
            api_secret=SECRET,
            host="127.0.0.1",
            port=0,
        )
        server.rtc_session(_entrypoint, agent_name="coach", on_request=_accept)
        task = asyncio.create_task(server.run(), name="bench-agent-server")
        try:
            await asyncio.wait_for(fake.registered.get(), 60)
            await asyncio.sleep(2.0)  # the idle executor warms up before the first job
            base = _rss_mb()
            sent: dict[str, float] = {}
            for i in range(jobs):
                job_id = f"AJ_{i}"
                sent[job_id] = time.time()
                if not await fake.dispatch(room_job(job_id, f"room-{i}", marks)):
                    raise RuntimeError(f"job {job_id} refused")
                # the job may run in another process: its mark file is how the bench sees it
                while True:
                    if job_id in _marked(marks):
                        break
                    await asyncio.sleep(0.01)
            started = _marked(marks)
            waits = sorted(started[j] - sent[j] for j in sent)
            await asyncio.sleep(1.0)
            grown = _rss_mb() - base
            return {
                "p50_start_s": statistics.median(waits),
                "max_start_s": waits[-1],
                "mb_per_job": grown / jobs,
                "rss_mb": _rss_mb(),
            }
        finally:
            await server.aclose()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def main() -> None:
    """Print one row per executor."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--marks", default="/tmp/coach-bench-agent-marks.txt")
    args = ap.parse_args()
    print(f"{'executor':<9} {'p50 start':>10} {'max start':>10} {'MB/job':>8} {'RSS MB':>8}")
    for executor in (JobExecutorType.THREAD, JobExecutorType.PROCESS):
        r = asyncio.run(measure(executor, args.jobs, args.marks))
        print(
            f"{executor.value:<9} {r['p50_start_s']:>9.3f}s {r['max_start_s']:>9.3f}s "
            f"{r['mb_per_job']:>8.1f} {r['rss_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
