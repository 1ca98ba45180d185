"""Benchmark: what the live pass's short audio context costs in accuracy, and saves in time.

Every fixture (and every hard filler clip) is cut into utterances as the live recognizer cuts
it (Silero, the endpointer, 0.1 s blocks), then each utterance is transcribed with the live
decoding twice: on Whisper's full padded 30 s and on the cut context. Printed per clip: the
word error rate against the ground truth of each; then the totals, the Whisper time of each,
how many "um"/"uh" each heard, how many cut decodings looped and were done again, and how far
the same words' start times moved.

    python -m bench.live_accuracy [--contexts 30 10 5]
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
from pathlib import Path

import numpy as np

from bench.stt import wer

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def live_utterances(path: Path) -> list[tuple[np.ndarray, float]]:
    """(audio, offset) of each utterance the live recognizer would send to Whisper."""
    from coach.audio.decode import iter_pcm
    from coach.stt.endpointer import EndpointConfig, Endpointer, Utterance
    from coach.stt.local_live import silero_probabilities

    audio = np.concatenate(list(iter_pcm(path)))
    probs = silero_probabilities()
    ep = Endpointer(EndpointConfig(), 16000)
    decided = []
    for i in range(0, audio.size, 1600):
        ep.add_audio(audio[i : i + 1600])
        window = ep.to_score()
        if window is not None:
            decided += ep.feed_scored(probs(window))
    decided += ep.finish()
    return [(u.audio, u.offset) for u in decided if isinstance(u, Utterance)]


def start_shifts(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> list[float]:
    """How far each word both lists share (in order) moved in start time."""
    match = difflib.SequenceMatcher(a=[w for w, _ in a], b=[w for w, _ in b], autojunk=False)
    return [
        abs(a[blk.a + k][1] - b[blk.b + k][1])
        for blk in match.get_matching_blocks()
        for k in range(blk.size)
    ]


def main() -> None:
    """Transcribe every clip's live utterances under each context; print the figures."""
    from coach.settings import Settings
    from coach.stt.whisper import LIVE, Decoding, LocalWhisper

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contexts", type=float, nargs="+", default=[30.0, LIVE.audio_context])
    args = parser.parse_args()
    clips = sorted(FIXTURES.glob("*.wav")) + sorted((FIXTURES / "fillers").glob("*.wav"))
    cut = {c: live_utterances(c) for c in clips}
    settings = Settings(_env_file=None)
    rows: dict[str, list[float]] = {c.stem: [] for c in clips}
    totals = []
    first: dict[Path, list[tuple[str, float]]] = {}
    for context in args.contexts:
        whisper = LocalWhisper(
            settings, decoding=Decoding(LIVE.beam_size, LIVE.temperature, context)
        )
        whisper.load()
        words_all = errors = seconds = 0.0
        hesitations = 0
        shifts: list[float] = []
        for clip, utterances in cut.items():
            truth = json.loads(clip.with_suffix(".json").read_text())
            began = time.perf_counter()
            words = [w for a, o in utterances for w in whisper.transcribe_span(a, o)]
            seconds += time.perf_counter() - began
            timed = [(w.word, w.start) for w in words]
            if clip in first:
                shifts += start_shifts(first[clip], timed)
            else:
                first[clip] = timed
            e = wer(truth["transcript"], " ".join(w.word for w in words))
            rows[clip.stem].append(e)
            n = len(truth["transcript"].split())
            words_all += n
            errors += e * n
            hesitations += sum(w.word in ("um", "uh") for w in words)
        retries = whisper.full_context_retries
        shift = f"{np.median(shifts):.3f} s" if shifts else "-"
        totals.append(
            f"context {context:>4.0f} s: WER {errors / words_all:.3f}, Whisper {seconds:.1f} s, "
            f"um/uh heard {hesitations}, looped and redone {retries}, median start shift {shift}"
        )
    print(f"{'clip':<28}" + "".join(f"{f'WER {c:.0f} s':>11}" for c in args.contexts))
    for name, errs in rows.items():
        print(f"{name:<28}" + "".join(f"{e:>11.3f}" for e in errs))
    print(f"({sum(len(u) for u in cut.values())} utterances)")
    for line in totals:
        print(line)


if __name__ == "__main__":
    main()
