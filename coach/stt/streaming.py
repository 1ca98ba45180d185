"""The live speech-recognizer interface: audio frames in, timed word events out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from coach.speech.words import Word


@dataclass(frozen=True, slots=True)
class Recognized:
    """One recognizer result; times are seconds since the stream's start."""

    words: tuple[Word, ...]
    is_final: bool
    speech_final: bool
    start: float
    end: float

    @property
    def text(self) -> str:
        """The result's words joined as they should be shown."""
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    """The recognizer heard a long enough gap after the word ending at `last_word_end`."""

    last_word_end: float


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began at `at`; its words come later (a recognizer without interim results)."""

    at: float


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech stopped at `at` (voice activity alone: its words may still be on the way)."""

    at: float


RecognizerEvent = Recognized | UtteranceEnd | SpeechStarted | SpeechStopped


class RecognizerStream(Protocol):
    """One live recognition session; iterate it for events until the recognizer is done."""

    def push_audio(self, pcm16: bytes) -> None:
        """Queue 16-bit mono PCM at the stream's rate; past the bound the oldest is dropped."""
        ...

    def end_input(self) -> None:
        """No more audio (later pushes are ignored): flush the last results, then end."""
        ...

    def __aiter__(self) -> AsyncIterator[RecognizerEvent]:
        """Events in order; raises `ProviderError` if the recognizer fails for good."""
        ...

    async def aclose(self) -> None:
        """Stop at once, dropping pending audio and results."""
        ...


class StreamingRecognizer(Protocol):
    """A live speech recognizer that opens one stream per session."""

    name: str

    def stream(self, *, sample_rate: int, room: str | None = None) -> RecognizerStream:
        """Open a stream; must be called inside a running event loop."""
        ...
