"""Benchmark: local transcription's real-time factor and peak memory.

Transcribes the shared fixtures, then (with --long-minutes) a long recording made by repeating
them, to show that memory stays flat however long the file is.

    python bench/stt.py [--long-minutes 20]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import wave
from pathlib import Path

from coach.settings import load_settings
from coach.stt.whisper import LocalWhisper

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def long_recording(minutes: float, out: Path) -> None:
    """Repeat the fixtures until `minutes` of audio are written."""
    clips = sorted(SHARED.glob("*.wav"))
    written = 0.0
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        while written < minutes * 60:
            for clip in clips:
                with wave.open(str(clip)) as c:
                    w.writeframes(c.readframes(c.getnframes()))
                    written += c.getnframes() / c.getframerate()


def run(whisper: LocalWhisper, path: Path) -> None:
    t0 = time.perf_counter()
    result = whisper.transcribe_file(path)
    took = time.perf_counter() - t0
    print(
        f"{path.name}: {result.duration:.1f} s audio, {len(result.words)} words,"
        f" {took:.1f} s -> real-time factor {took / max(result.duration, 1e-9):.3f},"
        f" peak memory {peak_mb():.0f} MB"
    )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=float, default=20.0)
    args = parser.parse_args()
    settings = load_settings()
    whisper = LocalWhisper(settings)
    model = f"{settings.whisper_model} ({settings.whisper_compute_type})"
    print(f"model {model}, peak memory before: {peak_mb():.0f} MB")
    for clip in sorted(SHARED.glob("*.wav")):
        run(whisper, clip)
    if args.long_minutes > 0:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"long-{args.long_minutes:.0f}min.wav"
            long_recording(args.long_minutes, path)
            run(whisper, path)


if __name__ == "__main__":
    main()
