"""Benchmark: the offline coach on a synthetic 60-minute session (goal: at most 5 ms for 60
minutes without a question), with a behavioural question (content analysis too), and the pitch
tracker's real-time factor on a fixture repeated to 10 minutes (goal: RTF at most 0.05).

    python bench/analysis.py [--minutes 10 60]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from bench.speech import session
from coach.analysis.offline import OfflineCoach
from coach.audio.decode import iter_pcm
from coach.audio.prosody import track
from coach.speech.metrics import summarize

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
QUESTION = "Tell me about a time you disagreed with your team"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="*", default=[10, 60])
    args = parser.parse_args()
    coach = OfflineCoach()
    for minutes in args.minutes:
        summary = summarize(session(minutes))
        for questions in ((), (QUESTION,)):
            runs = []
            for _ in range(5):
                t0 = time.perf_counter()
                coach.analyze_sync(summary, questions=questions)
                runs.append(time.perf_counter() - t0)
            print(
                f"{minutes:.0f} min, {summary.total_words} words, {len(summary.fillers)} fillers"
                f"{', with a question' if questions else ''}:"
                f" offline coach median {statistics.median(runs) * 1e3:.1f} ms"
            )
    clip = np.concatenate(list(iter_pcm(FIXTURES / "weakness.wav")))
    audio = np.tile(clip, int(np.ceil(600 * 16000 / clip.size)))[: 600 * 16000]
    t0 = time.perf_counter()
    track(audio[k : k + 30 * 16000] for k in range(0, audio.size, 30 * 16000))
    elapsed = time.perf_counter() - t0
    print(f"pitch tracking, 10 min of audio: {elapsed:.2f} s, RTF {elapsed / 600:.4f}")


if __name__ == "__main__":
    main()
