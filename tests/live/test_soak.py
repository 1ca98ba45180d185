"""Many sessions and analyses leave nothing behind: no task, no event, no entry in a registry.

The 2,000-session soak with memory figures is `bench/soak.py`; this is its promise in the
suite, on what can be counted exactly.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.services import Services
from tests.analysis.sessions import FIXTURES
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for

SESSIONS = 40
AT_ONCE = 4


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Only reference counting frees objects: what the collector would find stays."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_sessions_and_analyses_leave_nothing_behind(
    tmp_path: Path, no_collector: None
) -> None:
    audio = pcm(FIXTURES / "weakness.wav")[: 16000 * 2 * 4]
    app = app_for(tmp_path, session_grace_seconds=0, rate_limits=False, max_sessions_per_user=10)
    async with serve(app) as srv:
        svc: Services = app.state.services
        token = await account(srv.url)
        await asyncio.sleep(0.2)
        before = len(asyncio.all_tasks())

        async def one() -> None:
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await stream(c, audio)
                await c.send({"action": "complete"})
                await c.of_type("session_complete", within=30)
                done = await c.of_type("analysis_complete", within=30)
                assert done["status"] == "completed"

        gate = asyncio.Semaphore(AT_ONCE)

        async def bounded() -> None:
            async with gate:
                await one()

        await asyncio.gather(*(bounded() for _ in range(SESSIONS)))
        sessions, interviews = svc.sessions, svc.interviews
        # an ended session waits out its grace with its replay log, not its audio machinery
        assert sessions._ended
        for ended in sessions._ended.values():
            assert ended.vocal is None
            assert ended.recorder is not None and not ended.recorder.is_open
        # freed as soon as they are dropped: in a reference cycle, every ended session (its
        # words, its replay log) would wait for a full collection, rare with many live objects
        kept = [weakref.ref(s) for s in sessions._ended.values()]
        del ended
        # a stored session is kept a second for a late resume, then dropped
        for _ in range(100):
            if not sessions._ended and len(asyncio.all_tasks()) <= before:
                break
            await asyncio.sleep(0.05)
        assert len(asyncio.all_tasks()) <= before, sorted(t.get_name() for t in asyncio.all_tasks())
        assert not sessions._live and not sessions._ended and not sessions._grace
        assert [r for r in kept if r() is not None] == []
        assert not sessions._address
        assert not interviews._done and not interviews._queued and not interviews._tasks
        assert sessions.files.pending == 0
        assert not list((tmp_path / "recordings" / "journal").glob("*.jsonl"))
        assert not list((tmp_path / "recordings").glob("*.part"))
        assert len(list((tmp_path / "recordings").glob("*.ogg.sealed"))) == SESSIONS
