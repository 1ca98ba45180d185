"""The full-accuracy pass over a finished live session's own recording.

The live pass is tuned for speed (greedy decoding, short endpoints); the stored summary comes
from this one: the file path's VAD windows and beam search over the whole recording, on a
worker thread of its own at a lower CPU priority, so live sessions keep their pace.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from coach.speech.accumulator import SpeechConfig
from coach.speech.metrics import summarize
from coach.speech.summary import SessionSummary
from coach.speech.words import QuestionTiming
from coach.stt.base import FileTranscriber, Transcription
from coach.worker_threads import lower_priority

log = logging.getLogger("coach.sessions.final_pass")

# Below the live pass: niceness is per thread on Linux, so this only slows the final pass.
_NICENESS = 10


class _Cancelled(Exception):
    """The pass was abandoned between two blocks of audio."""


@dataclass(frozen=True, slots=True)
class FinalResult:
    """The stored summary and what it was made from."""

    summary: SessionSummary
    words: int
    audio_seconds: float


class FinalPass:
    """Transcribes finished sessions' recordings one at a time, off the event loop."""

    def __init__(self, transcriber: FileTranscriber, speech: SpeechConfig) -> None:
        self._transcriber = transcriber
        self._speech = speech
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="coach-final-pass", initializer=_lower_priority
        )
        self._stopping = threading.Event()

    async def run(
        self, recording: Path, *, duration: float, questions: Sequence[QuestionTiming]
    ) -> FinalResult:
        """The summary of `recording`, with the session's clock and questions."""
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(
                self._executor, self._transcribe, recording, cancelled
            )
        except asyncio.CancelledError:
            cancelled.set()  # the thread stops at its next block instead of running on
            raise
        # Times are seconds of the recording, which starts with the session: the session's
        # clock, so questions and the live journal line up with these words.
        summary = summarize(
            found.words,
            duration=max(duration, found.duration),
            silences=found.silences,
            questions=questions,
            config=self._speech,
        )
        return FinalResult(summary, len(found.words), found.duration)

    def _transcribe(self, recording: Path, cancelled: threading.Event) -> Transcription:
        def progress(done: float, total: float | None) -> None:
            if cancelled.is_set() or self._stopping.is_set():
                raise _Cancelled

        return self._transcriber.transcribe_file(recording, on_progress=progress)

    async def aclose(self) -> None:
        """Stop: a pass under way ends at its next block of audio."""
        self._stopping.set()
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


def _lower_priority() -> None:
    lower_priority(_NICENESS)
