"""The embedded store's costs: a write's time on the loop, restart time, disk, per interview.

Stores N interviews shaped like real ones (the weakness fixture's summary with its analysis)
through the durable client, then reopens the store as a restart does. One run, one machine:
`python -m bench.store --interviews 1000`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from coach.analysis.offline import OfflineCoach
from coach.store.durable import SNAPSHOT, WRITES, DurableStore, close_durable
from tests.analysis.sessions import from_truth, truth


async def run(n: int, where: Path) -> None:
    """Print the figures for `n` interviews stored in `where`."""
    summary = from_truth(truth("weakness"))
    analysis = await OfflineCoach().analyze(summary)
    doc = {**summary.model_dump(by_alias=True), "aiAnalysis": analysis.model_dump(by_alias=True)}
    store = DurableStore(where, "coach")
    interviews = store.client["coach"]["interviews"]
    inserts, updates = [], []
    for i in range(n):
        t = time.perf_counter()
        await interviews.insert_one({**doc, "_id": f"iv{i}", "status": "processing"})
        inserts.append(time.perf_counter() - t)
        t = time.perf_counter()
        await interviews.update_one({"_id": f"iv{i}"}, {"$set": {"status": "completed"}})
        updates.append(time.perf_counter() - t)
    log_mb = (where / WRITES).stat().st_size / 2**20
    close_durable(store.client)
    snap_mb = (where / SNAPSHOT).stat().st_size / 2**20
    t = time.perf_counter()
    again = DurableStore(where, "coach")
    reopen = time.perf_counter() - t
    assert await again.client["coach"]["interviews"].count_documents({}) == n
    print(f"{n} interviews: insert p50 {statistics.median(inserts) * 1e3:.2f} ms, "
          f"update p50 {statistics.median(updates) * 1e3:.2f} ms (on the loop, flushed); "
          f"log {log_mb:.1f} MB, snapshot {snap_mb:.1f} MB ({snap_mb / n * 1024:.0f} KB each); "
          f"restart {reopen:.2f} s")  # fmt: skip


def main() -> None:
    """Run once in a temporary directory."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--interviews", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(run(args.interviews, Path(d)))


if __name__ == "__main__":
    main()
