"""FileWorker: each key's jobs in order on a thread of its own, errors kept to their job."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from coach.file_worker import FileWorker


async def test_jobs_of_one_key_run_in_order_off_the_loop() -> None:
    worker = FileWorker(threads=3)
    seen: list[tuple[str, int, str]] = []

    def job(key: str, n: int) -> None:
        seen.append((key, n, threading.current_thread().name))

    for n in range(50):
        for key in ("a", "b", "c", "d"):
            worker.submit(key, job, key, n)
    await worker.drain()
    await worker.aclose()
    assert len(seen) == 200
    for key in ("a", "b", "c", "d"):
        mine = [(n, thread) for k, n, thread in seen if k == key]
        assert [n for n, _ in mine] == list(range(50))
        # one key, one thread: that is what keeps its writes in order
        assert len({thread for _, thread in mine}) == 1
    assert all(thread.startswith("coach-files-") for _, _, thread in seen)
    assert threading.current_thread().name not in {t for _, _, t in seen}


async def test_a_failed_job_is_logged_and_the_next_ones_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = FileWorker(threads=1)
    done: list[int] = []

    def boom() -> None:
        raise OSError("disk full")

    failed = worker.submit("k", boom)
    worker.submit("k", done.append, 1)
    assert await worker.run("k", lambda: 2) == 2
    with pytest.raises(OSError):
        failed.result()
    assert done == [1]
    assert worker.failures == 1
    assert any("disk full" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    await worker.aclose()


async def test_drain_waits_and_close_runs_what_is_queued() -> None:
    worker = FileWorker(threads=2)
    gate = threading.Event()
    done: list[str] = []
    worker.submit("slow", gate.wait)
    worker.submit("slow", done.append, "after")
    drained = asyncio.create_task(worker.drain(), name="drain")
    await asyncio.sleep(0.05)
    assert not drained.done() and worker.pending >= 1
    gate.set()
    await drained
    assert done == ["after"] and worker.pending == 0
    worker.submit("x", done.append, "queued")
    await worker.aclose()
    assert done == ["after", "queued"]
    with pytest.raises(RuntimeError):
        worker.submit("x", done.append, "late")


async def test_busy_when_a_lane_falls_far_behind() -> None:
    worker = FileWorker(threads=1, busy_backlog=3)
    gate = threading.Event()
    worker.submit("k", gate.wait)
    assert not worker.busy("k")
    for _ in range(3):
        worker.submit("k", lambda: None)
    assert worker.busy("k")
    gate.set()
    await worker.drain()
    assert not worker.busy("k")
    await worker.aclose()


async def test_a_woken_thread_gathers_the_jobs_that_follow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = FileWorker(threads=1, gather_seconds=0.2)
    wakes: list[int] = []
    run_lane = FileWorker._run_lane

    def counted(self: FileWorker, lane: object) -> None:
        wakes.append(1)
        run_lane(self, lane)  # type: ignore[arg-type]

    monkeypatch.setattr(FileWorker, "_run_lane", counted)
    done: list[int] = []
    for n in range(20):  # a job every millisecond, as hundreds of sessions' appends come
        worker.submit(f"session-{n % 5}", done.append, n)
        await asyncio.sleep(0.001)
    await worker.drain()
    assert done == list(range(20))
    # one wake for the twenty (two if the loop was slower than the gathering window)
    assert len(wakes) <= 2
    await worker.aclose()
