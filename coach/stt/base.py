"""What a file transcriber returns, and the interface the CLI and server call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from coach.speech.words import Silence, Word

ProgressCallback = Callable[[float, float | None], None]


@dataclass(frozen=True, slots=True)
class Transcription:
    """Words with times, the silences heard between them, and the recording's length."""

    words: tuple[Word, ...]
    silences: tuple[Silence, ...]
    duration: float
    language: str | None = None
    # the recognizer's own words, before fillers heard from the audio were fused in
    recognized: tuple[Word, ...] | None = None
    # seconds spent finding filled pauses in the audio (audio/filled_pauses)
    detector_seconds: float = 0.0
    # the word boundaries (seconds) where Whisper's own gain for a hesitation passed the
    # filler threshold (audio/filled_pauses.FORCED_GAIN), for the benchmark's cue table
    forced_hesitations: tuple[float, ...] = ()


class FileTranscriber(Protocol):
    """Transcribes a whole recording; blocking, so servers run it in a worker thread."""

    def transcribe_file(
        self, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> Transcription:
        """Transcribe `path`; `on_progress(seconds_done, total_or_None)` as it goes."""
        ...
