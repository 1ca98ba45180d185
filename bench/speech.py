"""Benchmark: a synthetic 60-minute session streamed into the accumulator.

Prints the time per word added and per `summary()` call, which the live session calls every
few seconds; the goal is at most 10 ms per summary at 9,000 words.

    python bench/speech.py [--minutes 60] [--every 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from coach.speech.accumulator import SpeechAccumulator
from coach.speech.metrics import summarize
from coach.speech.words import Word

VOCAB = (
    "we built the service and i led the design of its ranking pipeline so that "
    "queries ran faster than before because the team had data from every user"
).split()
FILLERS = ["um,", "uh,", "like,", "you know,"]


def session(minutes: float, seed: int = 1) -> list[Word]:
    """About 150 words a minute, a filler every 15 words, a long pause every 40."""
    rng = random.Random(seed)
    words, t = [], 0.0
    while t < minutes * 60:
        token = rng.choice(FILLERS) if rng.random() < 1 / 15 else rng.choice(VOCAB)
        for part in token.split():
            length = rng.uniform(0.2, 0.45)
            words.append(Word(part.strip(",").lower(), t, t + length, 0.9, part))
            t += length + rng.uniform(0.0, 0.1)
        if rng.random() < 1 / 40:
            t += rng.uniform(1.3, 3.0)
    return words


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--every", type=int, default=50, help="words between summary() calls")
    args = parser.parse_args()

    words = session(args.minutes)
    acc = SpeechAccumulator()
    add_times, summary_times = [], []
    for i in range(0, len(words), 5):  # results of ~5 words, as a streaming recognizer sends
        chunk = words[i : i + 5]
        t0 = time.perf_counter()
        acc.update(chunk[:2], is_final=False)
        acc.update(chunk, is_final=True)
        add_times.append((time.perf_counter() - t0) / len(chunk))
        if i % args.every < 5:
            t0 = time.perf_counter()
            acc.summary()
            summary_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    final = acc.summary()
    last = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = summarize(words)
    batch = time.perf_counter() - t0
    assert whole == final

    print(
        f"session: {args.minutes:.0f} min, {len(words)} words, {len(final.fillers)} fillers,"
        f" {len(final.pauses)} pauses"
    )
    print(f"per word added:  mean {statistics.mean(add_times) * 1e6:.1f} µs")
    print(
        f"per summary():   mean {statistics.mean(summary_times) * 1e3:.2f} ms,"
        f" p95 {sorted(summary_times)[int(0.95 * len(summary_times))] * 1e3:.2f} ms,"
        f" last (all words) {last * 1e3:.2f} ms  (goal ≤ 10 ms)"
    )
    print(f"whole session at once (summarize): {batch * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
