"""Soak: thousands of short sessions and analyses against one server; tasks and memory stay flat.

The server runs in its own process with the scripted recognizer (bench/sessions.py's server),
on the embedded store. Clients in a few lanes each stream a short answer, complete it, wait for
its analysis and delete the interview, so the store holds the same few documents throughout and
any growth is the server's own. Every `--every` sessions the bench reads `/metrics`: asyncio
tasks alive, resident memory, open sessions and queued analyses, after the lanes have paused.

    python -m bench.soak --sessions 2000 --lanes 20

Prints one line per checkpoint and the growth from the first checkpoint to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.sessions import SIGNUPS_AT_ONCE, _free_port, _sign_up, fixture_pcm, wait_healthy

FRAME = 3200  # 100 ms of 16 kHz PCM16


async def one_session(http: Any, base: str, token: str, audio: bytes) -> None:
    """Stream `audio`, complete, wait for the analysis, delete the interview."""
    from websockets.asyncio.client import connect

    auth = {"Authorization": f"Bearer {token}"}
    async with connect(f"ws://{base}/", additional_headers=auth, max_size=None) as ws:
        await ws.send(json.dumps({"action": "start", "audio": {"sampleRate": 16000}}))
        for i in range(0, len(audio), FRAME):
            await ws.send(audio[i : i + FRAME])
        await ws.send(json.dumps({"action": "complete"}))
        interview = None
        async with asyncio.timeout(120):
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") == "session_complete":
                    interview = event["interviewId"]
                elif event.get("type") == "analysis_complete":
                    if event["status"] != "completed":
                        raise RuntimeError(f"analysis {event['status']}")
                    break
                elif event.get("type") == "error":
                    raise RuntimeError(f"{event['code']}: {event['message']}")
    if interview is None:
        raise RuntimeError("no session_complete")
    r = await http.delete(f"/api/interviews/{interview}", headers=auth)
    r.raise_for_status()


async def checkpoint(http: Any) -> dict[str, float]:
    """The server's tasks, memory, open sessions and queued analyses, from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    wanted = {
        "coach_asyncio_tasks": "tasks",
        "process_resident_memory_bytes": "rss",
        "coach_live_sessions_open": "open",
        "coach_analysis_queue": "queued",
        "coach_file_work_pending": "writes",
    }
    out: dict[str, float] = {}
    for family in text_string_to_metric_families((await http.get("/metrics")).text):
        for sample in family.samples:
            if sample.name in wanted:
                out[wanted[sample.name]] = sample.value
    return out


async def settle(http: Any) -> dict[str, float]:
    """A checkpoint once nothing is open, queued or being written (a stored session lingers
    a moment for a late resume)."""
    seen: dict[str, float] = {}
    for _ in range(100):
        seen = await checkpoint(http)
        if not seen.get("open") and not seen.get("queued") and not seen.get("writes"):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)
    return await checkpoint(http)


async def drive(args: argparse.Namespace, port: int) -> None:
    """The clients' side: lanes of sequential sessions, checkpoints between rounds."""
    import httpx

    base = f"127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.lanes, max_keepalive_connections=args.lanes)
    async with httpx.AsyncClient(base_url=f"http://{base}", limits=limits, timeout=60) as http:
        await wait_healthy(http, 300)
        signups = asyncio.Semaphore(SIGNUPS_AT_ONCE)
        tokens = await asyncio.gather(*(_sign_up(http, n, signups) for n in range(args.lanes)))
        audio = fixture_pcm("weakness", args.seconds)
        done = 0
        errors: list[str] = []
        rows: list[tuple[int, dict[str, float]]] = []
        started = time.monotonic()
        print(f"{'sessions':>9}{'tasks':>7}{'RSS MB':>9}{'s/session':>11}", flush=True)
        while done < args.sessions:
            batch = min(args.every, args.sessions - done)
            queue: asyncio.Queue[None] = asyncio.Queue()
            for _ in range(batch):
                queue.put_nowait(None)

            async def lane(token: str, queue: asyncio.Queue[None] = queue) -> None:
                while True:
                    try:
                        queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    try:
                        await one_session(http, base, token, audio)
                    except Exception as e:  # counted and shown; the soak goes on
                        errors.append(repr(e))

            t0 = time.monotonic()
            await asyncio.gather(*(lane(t) for t in tokens))
            done += batch
            row = await settle(http)
            rows.append((done, row))
            per = (time.monotonic() - t0) / batch
            print(
                f"{done:>9}{row['tasks']:>7.0f}{row['rss'] / 2**20:>9.1f}{per:>11.3f}", flush=True
            )
    took = time.monotonic() - started
    # an ended session stays resumable for SESSION_GRACE_SECONDS (60): the last checkpoint
    # comes once every session is past it, so what is left is what the server keeps
    await asyncio.sleep(args.linger)
    async with httpx.AsyncClient(base_url=f"http://{base}", timeout=60) as http:
        idle = await settle(http)
    (n0, first), (n1, last) = rows[0], rows[-1]
    thousands = max(n1 - n0, 1) / 1000
    print(f"sessions and analyses   {done} in {took:.0f} s, errors {len(errors)}")
    print(f"tasks                   {first['tasks']:.0f} at {n0} → {last['tasks']:.0f} at {n1}")
    print(
        f"memory                  {first['rss'] / 2**20:.1f} MB → {last['rss'] / 2**20:.1f} MB "
        f"({(last['rss'] - first['rss']) / 2**20 / thousands:+.1f} MB per 1,000 sessions)"
    )
    print(
        f"after {args.linger:.0f} s idle         {idle['rss'] / 2**20:.1f} MB, "
        f"{idle['tasks']:.0f} tasks ({(idle['rss'] - first['rss']) / 2**20 / thousands:+.1f} MB "
        "per 1,000 sessions from the first checkpoint)"
    )
    if errors:
        print(f"first errors            {errors[:3]}")


def main() -> None:
    """Parse arguments, start the server process and soak it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--lanes", type=int, default=20, help="sessions at once")
    parser.add_argument("--every", type=int, default=250, help="sessions between checkpoints")
    parser.add_argument("--seconds", type=float, default=4.0, help="audio per session")
    parser.add_argument(
        "--linger", type=float, default=65.0, help="idle seconds before the last checkpoint"
    )
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        command = [sys.executable, "-m", "bench.sessions", "--serve", str(port)]
        command += ["--recognizer", "scripted", "--data-dir", data_dir]
        command += ["--seconds", str(args.seconds)]
        server = subprocess.Popen(command, env=env)
        try:
            asyncio.run(drive(args, port))
        finally:
            server.terminate()
            server.wait(60)


if __name__ == "__main__":
    main()
