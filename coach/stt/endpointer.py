"""Where utterances start and end, from speech probabilities per VAD chunk: pure, no I/O.

The local live recognizer feeds it Silero's scores as audio arrives; it answers with the
utterances to transcribe, and with instant speaking / silent signals that need no words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]

CHUNK = 512  # Silero's window at 16 kHz


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """When an utterance starts and ends, in seconds unless named otherwise."""

    threshold: float = 0.5
    # Silero's own hysteresis: speech continues until the probability falls this far below.
    release: float = 0.15
    min_speech: float = 0.12
    # A gap this long closes the utterance and sends it to Whisper. 0.3 s measured best for
    # latency: 0.6-0.8 s was spent waiting at 0.5 s, and at 0.2 s twice the utterances each
    # paid Whisper's fixed encoder cost.
    cut_silence: float = 0.3
    # A gap this long is an utterance end for the session (Deepgram's utterance_end_ms).
    utterance_end: float = 1.0
    pad: float = 0.2
    max_utterance: float = 28.0
    # Audio held for Whisper when it falls behind; past this the oldest is dropped.
    max_backlog: float = 120.0


@dataclass(frozen=True, slots=True)
class Utterance:
    """Audio to transcribe, starting `offset` seconds into the stream."""

    audio: Samples
    offset: float


@dataclass(frozen=True, slots=True)
class Began:
    """Speech started at `at` (long enough not to be a click)."""

    at: float


@dataclass(frozen=True, slots=True)
class Paused:
    """Speech stopped at `at`: the gap after it closed the utterance."""

    at: float


@dataclass(frozen=True, slots=True)
class Ended:
    """A gap of `utterance_end` after speech that ended at `at`."""

    at: float


Endpoint = Utterance | Began | Paused | Ended


class Endpointer:
    """Speech probabilities per 32 ms chunk in; utterances and speech signals out."""

    def __init__(self, config: EndpointConfig, rate: int) -> None:
        self.c = config
        self.rate = rate
        self.audio = np.empty(0, dtype=np.float32)
        self.audio_start = 0  # absolute sample index of audio[0]
        self.chunks = 0  # chunks scored so far
        self.speech_start: int | None = None
        self.announced = False
        self.floor = 0  # end of the audio the last utterance took
        self.last_speech_end: int | None = None  # end of the last speech chunk
        self.end_sent = True

    def add_audio(self, samples: Samples) -> None:
        """Append audio to be scored."""
        self.audio = np.concatenate([self.audio, samples])

    def to_score(self) -> Samples | None:
        """Unscored whole chunks, after one chunk of context when there is one; None if none.

        Silero keeps state across chunks, so the chunk before gives it its context back.
        """
        first = self.chunks * CHUNK - self.audio_start
        last = first + (self.audio.size - first) // CHUNK * CHUNK
        window = self.audio[max(first - CHUNK, 0) : last]
        return window if window.size >= CHUNK else None

    def feed_scored(self, probs: npt.NDArray[np.float32]) -> list[Endpoint]:
        """`feed` the probabilities of `to_score()`'s chunks (its context chunk's dropped)."""
        has_context = self.chunks * CHUNK - self.audio_start >= CHUNK
        return self.feed(probs[1:] if has_context else probs)

    def feed(self, probs: npt.NDArray[np.float32]) -> list[Endpoint]:
        """Take the probabilities of the next chunks; say what they decided."""
        out: list[Endpoint] = []
        c, rate = self.c, self.rate
        for p in probs:
            start = self.chunks * CHUNK
            self.chunks += 1
            end = start + CHUNK
            in_speech = self.speech_start is not None
            if p >= c.threshold or (in_speech and p >= c.threshold - c.release):
                if self.speech_start is None:
                    self.speech_start = start
                    self.announced = False
                self.last_speech_end = end
                if not self.announced and (end - self.speech_start) / rate >= c.min_speech:
                    # announced once it is long enough to be speech, not a click
                    self.announced = True
                    out.append(Began(self.speech_start / rate))
                if (end - self.speech_start) / rate >= c.max_utterance:
                    # Whisper takes 30 s at most: cut here, the rest is the next utterance
                    out.extend(self._close(at=end))
                continue
            if self.speech_start is not None and self.last_speech_end is not None:
                gap = (end - self.last_speech_end) / rate
                if gap >= c.cut_silence:
                    announced = self.announced
                    out.extend(self._close())
                    if announced:
                        out.append(Paused(self.last_speech_end / rate))
            if (
                not self.end_sent
                and self.speech_start is None
                and self.last_speech_end is not None
                and (end - self.last_speech_end) / rate >= c.utterance_end
            ):
                self.end_sent = True
                out.append(Ended(self.last_speech_end / rate))
        self._trim()
        return out

    def _close(self, at: int | None = None) -> list[Endpoint]:
        assert self.speech_start is not None and self.last_speech_end is not None
        start, end = self.speech_start, at if at is not None else self.last_speech_end
        self.speech_start = None
        if at is not None:
            self.last_speech_end = at
        if (end - start) / self.rate < self.c.min_speech:
            return []
        pad = int(self.c.pad * self.rate)
        # Padding never reaches back into audio an earlier utterance already covered, and a
        # forced cut is not padded forward: either would transcribe words twice.
        lo = max(start - pad, self.audio_start, self.floor)
        hi = min(end + (0 if at is not None else pad), self.audio_start + self.audio.size)
        self.floor = hi
        clip = self.audio[lo - self.audio_start : hi - self.audio_start].copy()
        self.end_sent = False
        return [Utterance(clip, lo / self.rate)]

    def finish(self) -> list[Endpoint]:
        """No more audio: the open utterance, and the utterance end still owed."""
        out: list[Endpoint] = []
        if self.speech_start is not None and self.last_speech_end is not None:
            announced = self.announced
            out.extend(self._close(at=self.audio_start + self.audio.size))
            if announced:
                out.append(Paused(self.last_speech_end / self.rate))
        if not self.end_sent and self.last_speech_end is not None:
            self.end_sent = True
            out.append(Ended(self.last_speech_end / self.rate))
        return out

    def _trim(self) -> None:
        # Keep the open utterance, or a padding's worth of lead-in while nobody speaks.
        keep_from = self.chunks * CHUNK - int(self.c.pad * self.rate) - CHUNK
        if self.speech_start is not None:
            keep_from = min(keep_from, self.speech_start - int(self.c.pad * self.rate))
        cut = keep_from - self.audio_start
        if cut > 0:
            self.audio = self.audio[cut:]
            self.audio_start += cut
