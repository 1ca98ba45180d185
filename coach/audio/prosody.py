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
keeps only the frame contours (50 frames a second), and `variety()` is a pure function of them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coach.speech.summary import SessionSummary, VocalSegment, VocalVariety

log = logging.getLogger("coach.audio.prosody")

RATE = 16000
# 20 ms frames: half the tracker's cost of 10 ms ones, and the same SD and range (within
# 0.1 st on the fixtures), since the measure is a spread over seconds of speech
STEP = 0.02
PITCH_FLOOR = 75.0
PITCH_CEILING = 500.0
# Under this much voiced speech a variation figure says nothing.
MIN_VOICED_SECONDS = 3.0

Contours = tuple[np.ndarray, np.ndarray, np.ndarray]


def _no_contours() -> Contours:
    empty = np.zeros(0)
    return empty, empty, empty


def contours_of(samples: np.ndarray) -> Contours:
    """Times (s from the chunk's start), f0 (Hz, 0 unvoiced) and intensity (dB) of 16 kHz audio."""
    import parselmouth  # Praat's native library loads only where vocal variety is measured

    if samples.size < int(RATE * 0.1):
        return _no_contours()
    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=RATE)
    pitch = sound.to_pitch_ac(time_step=STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    times = pitch.xs()
    f0 = pitch.selected_array["frequency"]
    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR, time_step=STEP)
    db = np.interp(times, intensity.xs(), intensity.values[0])
    return times, f0, db


def contours_of_pcm16(pcm16: bytes) -> Contours:
    """`contours_of` for 16 kHz mono PCM16 bytes (what a worker process is sent)."""
    return contours_of(np.frombuffer(pcm16, dtype=np.int16).astype(np.float32) / 32768.0)


@dataclass(slots=True)
class PitchTrack:
    """Pitch (Hz, 0 where unvoiced) and intensity (dB) contours of the audio fed so far."""

    times: list[np.ndarray] = field(default_factory=list)
    f0: list[np.ndarray] = field(default_factory=list)
    db: list[np.ndarray] = field(default_factory=list)
    fed: float = 0.0

    def feed(self, samples: np.ndarray) -> None:
        """Track one chunk of 16 kHz mono float32 audio that follows what was fed before."""
        self.add(contours_of(samples), samples.size / RATE)

    def add(self, contours: Contours, seconds: float) -> None:
        """Append the contours of the next `seconds` of audio (times from that chunk's start)."""
        times, f0, db = contours
        if times.size:
            self.times.append(times + self.fed)
            self.f0.append(f0)
            self.db.append(db)
        self.fed += seconds

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
    """Tracks a live session's pitch in batches off the event loop.

    `push` only buffers (cheap, on the loop); every `batch_seconds` of audio one batch goes to
    `contours` (the server's Praat process, `audio/praat_process.py`; a worker thread when none
    is given), one at a time so the contours stay in order; a batch that comes while one is
    running waits in the buffer. The contours, not the audio, are kept: about 1.2 kB a second.
    """

    def __init__(
        self,
        batch_seconds: float = 10.0,
        name: str = "vocal",
        contours: Callable[[bytes], Awaitable[Contours]] | None = None,
    ) -> None:
        self.track = PitchTrack()
        self._full = int(batch_seconds * RATE) * 2
        # Sessions that start together would all send a batch on the same tick; a random
        # first batch spreads the work out instead of a burst every `batch_seconds`.
        self._batch = random.randrange(self._full // 4, self._full) // 2 * 2
        self._contours = contours or _on_a_thread
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
        self._task = asyncio.create_task(self._track(data), name=f"{self._name}-pitch")

    async def _track(self, pcm16: bytes) -> None:
        seconds = len(pcm16) / 2 / RATE
        try:
            contours = await self._contours(pcm16)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # one lost batch costs its seconds of the measure, not the session's; it keeps its
            # place on the clock so later contours stay in time
            log.warning("%s: pitch of %.1f s of audio not tracked: %s", self._name, seconds, e)
            contours = _no_contours()
        self.track.add(contours, seconds)

    async def finish(self, summary: SessionSummary) -> VocalVariety:
        """Track what is left, then the session's vocal variety."""
        if self._task is not None:
            await self._task
        if self._buf:
            self._start()
            assert self._task is not None
            await self._task
        spans = speech_spans((w.start, w.end) for w in summary.words)
        edges = [(p.segment_start, p.segment_end) for p in summary.pace_timeline]

        def measure() -> VocalVariety:
            times, f0, db = self.track.contours()
            return variety(times, f0, db, spans, edges)

        # tens of milliseconds of numpy for a long interview: never on the loop carrying audio
        return await asyncio.to_thread(measure)

    @property
    def done(self) -> bool:
        """No batch is running or waiting: nothing is left to cancel."""
        return (self._task is None or self._task.done()) and not self._buf

    async def aclose(self) -> None:
        """Cancel a running batch and wait for it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _on_a_thread(pcm16: bytes) -> Contours:
    return await asyncio.to_thread(contours_of_pcm16, pcm16)
