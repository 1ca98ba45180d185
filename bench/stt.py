"""Benchmark: local Whisper on the project's fixtures and on a long file made from them.

Each measurement runs in its own process, so the peak memory (ru_maxrss) is that run's alone;
memory that stays flat from a short file to a long one is the point of the windowed design.
A second table lists, per fixture, the spoken fillers the recognizer found and the ones it
missed: the model's known misses are shown here rather than pinned in the test suite.

    python bench/stt.py [--long-minutes 10] [--data-dir DIR] [--fillers-only]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def make_long(path: Path, minutes: float) -> None:
    """The fixtures back to back with two seconds of silence between, up to `minutes`."""
    clips = []
    for name in ("weakness", "project"):
        with wave.open(str(FIXTURES / f"{name}.wav")) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1
            clips.append(np.frombuffer(w.readframes(w.getnframes()), np.int16))
    gap = np.zeros(32000, dtype=np.int16)
    target, written, i = int(minutes * 60 * 16000), 0, 0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        while written < target:
            piece = np.concatenate([clips[i % len(clips)], gap])[: target - written]
            out.writeframes(piece.tobytes())
            written += piece.size
            i += 1


def run_one(path: Path, data_dir: Path) -> dict[str, float]:
    """Transcribe `path` in this process; the figures of that run."""
    from coach.settings import load_settings
    from coach.stt.whisper import LocalWhisper

    whisper = LocalWhisper(load_settings(data_dir=data_dir))
    whisper.transcribe_file(FIXTURES / "project.wav")  # loads the model outside the timing
    began = time.perf_counter()
    result = whisper.transcribe_file(path)
    elapsed = time.perf_counter() - began
    return {
        "audio_s": result.duration,
        "elapsed_s": round(elapsed, 2),
        "rtf": round(elapsed / result.duration, 3) if result.duration else 0.0,
        "words": len(result.words),
        "silences": len(result.silences),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


HESITATIONS = {"um", "uh", "erm", "hmm", "hm"}
FILLER_CLIPS = ["weakness", "project", "fast-like", "thinking"]


def _family(word: str) -> str:
    return "hesitation" if word.lower() in HESITATIONS else word.lower()


def filler_table(data_dir: Path) -> None:
    """Per fixture: spoken fillers found in their spoken part, and each one missed."""
    from coach.settings import load_settings
    from coach.speech.metrics import summarize
    from coach.stt.whisper import LocalWhisper

    whisper = LocalWhisper(load_settings(data_dir=data_dir))
    clips = [FIXTURES / f"{n}.wav" for n in FILLER_CLIPS]
    clips.append(Path(__file__).resolve().parents[1] / "coach" / "samples" / "answer.wav")
    total_found = total_said = 0
    print(f"\n{'clip':<12}{'said':>6}{'found':>7}  missed")
    for wav in clips:
        truth = json.loads(wav.with_suffix(".json").read_text())
        said = truth["fillers"] + truth.get("contextFillers", [])
        t = whisper.transcribe_file(wav)
        summary = summarize(t.words, duration=t.duration, silences=t.silences)
        found = [(_family(f.word), f.timestamp) for f in summary.fillers]
        missed = []
        for want in said:
            span = next(s for s in truth["spans"] if abs(s["start"] - want["near"]) < 0.01)
            hit = next(
                (
                    k
                    for k, (w, ts) in enumerate(found)
                    if w == _family(want["word"]) and span["start"] - 0.5 <= ts <= span["end"]
                ),
                None,
            )
            if hit is None:
                missed.append(f"{want['word']!r} @ {span['start']:.1f}s")
            else:
                found.pop(hit)
        total_said += len(said)
        total_found += len(said) - len(missed)
        print(f"{wav.stem:<12}{len(said):>6}{len(said) - len(missed):>7}  {', '.join(missed)}")
    print(f"{'all':<12}{total_said:>6}{total_found:>7}  recall {total_found / total_said:.2f}")


def main() -> None:
    """Run each measurement in a child process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--data-dir", type=Path, help="default: the configured COACH data dir")
    parser.add_argument("--fillers-only", action="store_true", help="only the filler table")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from coach.settings import load_settings

        data_dir = args.data_dir or load_settings().data_dir
        if args.one is not None:
            print(json.dumps(run_one(args.one, data_dir)))
            return
        if args.fillers_only:
            filler_table(data_dir)
            return
        long_file = Path(tmp) / "long.wav"
        make_long(long_file, args.long_minutes)
        runs = [FIXTURES / "weakness.wav", FIXTURES / "project.wav", long_file]
        print(f"{'file':<14}{'audio s':>9}{'wall s':>9}{'RTF':>7}{'words':>7}{'peak MB':>9}")
        for path in runs:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(path), "--data-dir", str(data_dir)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{path.name:<14}{r['audio_s']:>9.1f}{r['elapsed_s']:>9.1f}{r['rtf']:>7.3f}"
                f"{r['words']:>7}{r['peak_rss_mb']:>9.1f}"
            )
        filler_table(data_dir)


if __name__ == "__main__":
    main()
