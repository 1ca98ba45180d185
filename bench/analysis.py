"""Benchmark: the offline coach on a synthetic 60-minute session (goal: well under 50 ms
for 10 minutes).

    python bench/analysis.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.speech import session
from coach.analysis.offline import OfflineCoach
from coach.speech.metrics import summarize


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="*", default=[10, 60])
    args = parser.parse_args()
    coach = OfflineCoach()
    for minutes in args.minutes:
        summary = summarize(session(minutes))
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            coach.analyze_sync(summary)
            runs.append(time.perf_counter() - t0)
        print(
            f"{minutes:.0f} min, {summary.total_words} words, {len(summary.fillers)} fillers:"
            f" offline coach median {statistics.median(runs) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
