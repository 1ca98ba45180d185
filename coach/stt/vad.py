"""Voice-activity detection with the Silero VAD that faster-whisper ships."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coach.speech.words import Silence

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SpeechSpan:
    """Speech between two sample indices of the analysed block."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class VadConfig:
    """Silero VAD tuning; padding is small because silences are measured from these spans."""

    threshold: float = 0.5
    min_silence_ms: int = 250
    min_speech_ms: int = 120
    pad_ms: int = 30
    max_utterance_s: float = 28.0


def speech_spans(
    samples: Samples, sample_rate: int, config: VadConfig | None = None
) -> list[SpeechSpan]:
    """Where speech is in `samples`."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    config = config or VadConfig()

    if samples.size == 0:
        return []
    options = VadOptions(
        threshold=config.threshold,
        min_silence_duration_ms=config.min_silence_ms,
        min_speech_duration_ms=config.min_speech_ms,
        speech_pad_ms=config.pad_ms,
        max_speech_duration_s=config.max_utterance_s,
    )
    found = get_speech_timestamps(samples, options, sampling_rate=sample_rate)
    return [SpeechSpan(int(t["start"]), int(t["end"])) for t in found]


def find_silences(
    samples: Samples,
    sample_rate: int,
    *,
    offset: float = 0.0,
    min_silence: float = 0.25,
    config: VadConfig | None = None,
) -> list[Silence]:
    """Silences of at least `min_silence` s in `samples`, in seconds from `offset`."""
    spans = speech_spans(samples, sample_rate, config or VadConfig())
    total = samples.size / sample_rate
    edges = (
        [0.0] + [x for s in spans for x in (s.start / sample_rate, s.end / sample_rate)] + [total]
    )
    silences = []
    for start, end in zip(edges[0::2], edges[1::2], strict=True):
        if end - start >= min_silence:
            silences.append(Silence(offset + start, offset + end))
    return silences
