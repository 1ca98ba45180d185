"""Vocal variety from the audio: pitch and loudness variation over speech, with Praat's trackers.

Pitch comes from Praat's autocorrelation pitch tracker (praat-parselmouth, the Python binding of
Praat, the phoneticians' reference tool) and loudness from its intensity contour. Only frames
inside speech (the recognized words' spans) count, so silences and noise between answers never
widen the range. Variation is measured in semitones against the speaker's own median, so a low
and a high voice are judged alike:

- pitch SD in semitones: lively speech varies by about 2–4 st, under about 1.5 st listeners hear
  it as flat (Traunmüller & Eriksson 1995, liveliness and F0 excursions; Hincks 2005, pitch
  variation as a measure of liveliness in presentation speech);
- pitch range, the 5th to 95th percentile in semitones (robust to octave jumps of the tracker);
- loudness SD in dB over voiced frames.

`PitchTrack` takes audio in chunks (a file streamed block by block, or a live session's audio),
keeps only the frame contours (100 frames a second), and `variety()` is a pure function of them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from coach.speech.summary import SessionSummary, VocalSegment, VocalVariety

RATE = 16000
STEP = 0.01
PITCH_FLOOR = 75.0
PITCH_CEILING = 500.0
# Under this much voiced speech a variation figure says nothing.
MIN_VOICED_SECONDS = 3.0


@dataclass(slots=True)
class PitchTrack:
    """Pitch (Hz, 0 where unvoiced) and intensity (dB) contours of the audio fed so far."""

    times: list[np.ndarray] = field(default_factory=list)
    f0: list[np.ndarray] = field(default_factory=list)
    db: list[np.ndarray] = field(default_factory=list)
    fed: float = 0.0

    def feed(self, samples: np.ndarray) -> None:
        """Track one chunk of 16 kHz mono float32 audio that follows what was fed before."""
        import parselmouth  # Praat's native library loads only where vocal variety is measured

        if samples.size < int(RATE * 0.1):
            self.fed += samples.size / RATE
            return
        sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=RATE)
        pitch = sound.to_pitch_ac(
            time_step=STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING
        )
        times = pitch.xs()
        f0 = pitch.selected_array["frequency"]
        intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR, time_step=STEP)
        db = np.interp(times, intensity.xs(), intensity.values[0])
        self.times.append(times + self.fed)
        self.f0.append(f0)
        self.db.append(db)
        self.fed += samples.size / RATE

    def contours(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All frames so far: times (s), f0 (Hz, 0 unvoiced), intensity (dB)."""
        if not self.times:
            empty = np.zeros(0)
            return empty, empty, empty
        return np.concatenate(self.times), np.concatenate(self.f0), np.concatenate(self.db)


def track(chunks: Iterable[np.ndarray]) -> PitchTrack:
    """A pitch track of consecutive audio chunks."""
    t = PitchTrack()
    for chunk in chunks:
        t.feed(chunk)
    return t


def _stats(f0: np.ndarray, db: np.ndarray, median: float) -> tuple[float, float, float]:
    st = 12 * np.log2(f0 / median)
    p5, p95 = np.percentile(st, [5, 95])
    return float(np.std(st)), float(p95 - p5), float(np.std(db))


def variety(
    times: np.ndarray,
    f0: np.ndarray,
    db: np.ndarray,
    speech: Sequence[tuple[float, float]],
    edges: Sequence[tuple[float, float]] = (),
) -> VocalVariety:
    """Pitch and loudness variation over voiced frames inside `speech`, overall and per segment."""
    inside = np.zeros(times.shape, dtype=bool)
    for a, b in speech:
        inside |= (times >= a) & (times <= b)
    voiced = inside & (f0 > 0)
    seconds = float(voiced.sum()) * STEP
    if seconds < MIN_VOICED_SECONDS:
        return VocalVariety(voiced_seconds=round(seconds, 2))
    median = float(np.median(f0[voiced]))
    sd, span, loud = _stats(f0[voiced], db[voiced], median)
    segments = []
    for a, b in edges:
        here = voiced & (times >= a) & (times < b)
        secs = float(here.sum()) * STEP
        if secs >= MIN_VOICED_SECONDS:
            s_sd, s_span, s_loud = _stats(f0[here], db[here], median)
            segments.append(
                VocalSegment(
                    segment_start=round(a, 3),
                    segment_end=round(b, 3),
                    voiced_seconds=round(secs, 2),
                    pitch_range_semitones=round(s_span, 2),
                    pitch_sd_semitones=round(s_sd, 2),
                    loudness_sd_db=round(s_loud, 2),
                )
            )
        else:
            segments.append(
                VocalSegment(
                    segment_start=round(a, 3),
                    segment_end=round(b, 3),
                    voiced_seconds=round(secs, 2),
                )
            )
    return VocalVariety(
        pitch_median_hz=round(median, 1),
        pitch_range_semitones=round(span, 2),
        pitch_sd_semitones=round(sd, 2),
        loudness_sd_db=round(loud, 2),
        voiced_seconds=round(seconds, 2),
        segments=segments,
    )


def speech_spans(
    words: Iterable[tuple[float, float]], join_gap: float = 0.3
) -> list[tuple[float, float]]:
    """The words' (start, end) spans merged across gaps shorter than `join_gap` seconds."""
    spans: list[tuple[float, float]] = []
    for start, end in sorted(words):
        if spans and start - spans[-1][1] < join_gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def measure(chunks: Iterable[np.ndarray], summary: SessionSummary) -> VocalVariety:
    """Vocal variety of a session's audio, over its words' spans and its pace segments."""
    t = track(chunks)
    times, f0, db = t.contours()
    spans = speech_spans((w.start, w.end) for w in summary.words)
    edges = [(p.segment_start, p.segment_end) for p in summary.pace_timeline]
    return variety(times, f0, db, spans, edges)


class LiveVocalTracker:
    """Tracks a live session's pitch in batches on a worker thread, never on the event loop.

    `push` only buffers (cheap, on the loop); every `batch_seconds` of audio one batch goes to a
    thread, one at a time so the contours stay in order; a batch that comes while the thread is
    busy waits in the buffer. The contours, not the audio, are kept: about 2.4 kB a second.
    """

    def __init__(
        self,
        batch_seconds: float = 10.0,
        name: str = "vocal",
        executor: Executor | None = None,
    ) -> None:
        self.track = PitchTrack()
        self._full = int(batch_seconds * RATE) * 2
        # Sessions that start together would all send a batch on the same tick; a random
        # first batch spreads the work out instead of a burst every `batch_seconds`.
        self._batch = random.randrange(self._full // 4, self._full) // 2 * 2
        self._executor = executor
        self._buf: list[bytes] = []
        self._size = 0
        self._task: asyncio.Task[None] | None = None
        self._name = name

    def push(self, pcm16: bytes) -> None:
        """Buffer 16 kHz mono PCM16; start a batch when enough is buffered and none is running."""
        self._buf.append(pcm16)
        self._size += len(pcm16)
        if self._size >= self._batch and (self._task is None or self._task.done()):
            self._start()

    def _start(self) -> None:
        data = b"".join(self._buf)
        self._buf.clear()
        self._size = 0
        self._batch = self._full
        samples = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0
        work = asyncio.get_running_loop().run_in_executor(self._executor, self.track.feed, samples)
        self._task = asyncio.create_task(_wait(work), name=f"{self._name}-pitch")

    async def finish(self, summary: SessionSummary) -> VocalVariety:
        """Track what is left, then the session's vocal variety."""
        if self._task is not None:
            await self._task
        if self._buf:
            self._start()
            assert self._task is not None
            await self._task
        times, f0, db = self.track.contours()
        spans = speech_spans((w.start, w.end) for w in summary.words)
        edges = [(p.segment_start, p.segment_end) for p in summary.pace_timeline]
        return variety(times, f0, db, spans, edges)

    async def aclose(self) -> None:
        """Cancel a running batch and wait for it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _wait(work: asyncio.Future[None]) -> None:
    await work
