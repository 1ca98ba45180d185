"""A scriptable live recognizer: replays given events as pushed audio reaches their time."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from coach.providers import ProviderError
from coach.speech.words import Word
from coach.stt.streaming import Recognized, RecognizerEvent, RecognizerStreamBase, UtteranceEnd


@dataclass(frozen=True, slots=True)
class ScriptedFailure:
    """Fail the stream with `error` once `at` seconds of audio have been pushed."""

    at: float
    error: ProviderError


ScriptItem = RecognizerEvent | ScriptedFailure


def release_time(item: ScriptItem) -> float:
    """The audio time at which a real recognizer could first report `item`."""
    if isinstance(item, Recognized):
        return item.end
    if isinstance(item, UtteranceEnd):
        return item.last_word_end
    return item.at


def script_from_words(
    words: Sequence[Word], *, utterance_gap: float = 1.0, interims: bool = True
) -> list[RecognizerEvent]:
    """Deepgram-like events for timed words: growing interims, one final per utterance, ends.

    An utterance ends where the silence between two words reaches `utterance_gap` seconds.
    """
    events: list[RecognizerEvent] = []
    utterance: list[Word] = []

    def close() -> None:
        if utterance:
            start, end = utterance[0].start, utterance[-1].end
            events.append(Recognized(tuple(utterance), True, True, start, end))
            events.append(UtteranceEnd(end))
            utterance.clear()

    for word in words:
        if utterance and word.start - utterance[-1].end >= utterance_gap:
            close()
        utterance.append(word)
        if interims:
            events.append(Recognized(tuple(utterance), False, False, utterance[0].start, word.end))
    close()
    return events


class ScriptedRecognizer:
    """A `StreamingRecognizer` whose streams replay a script; it records every stream opened."""

    name = "scripted"

    def __init__(
        self,
        script: Sequence[ScriptItem] = (),
        *,
        keep_audio: bool = False,
        keep_streams: bool = True,
    ) -> None:
        self.script = tuple(script)
        self.keep_audio = keep_audio
        # off for a long-running server (a benchmark): every stream would be kept for ever
        self.keep_streams = keep_streams
        self.streams: list[ScriptedStream] = []

    @classmethod
    def from_words(
        cls,
        words: Sequence[Word],
        *,
        utterance_gap: float = 1.0,
        interims: bool = True,
        keep_streams: bool = True,
    ) -> ScriptedRecognizer:
        """A recognizer that "hears" exactly `words` (see `script_from_words`)."""
        script = script_from_words(words, utterance_gap=utterance_gap, interims=interims)
        return cls(script, keep_streams=keep_streams)

    def stream(self, *, sample_rate: int, room: str | None = None) -> ScriptedStream:
        """Open a stream replaying the script against the audio pushed into it."""
        stream = ScriptedStream(
            self.script, sample_rate=sample_rate, room=room, keep_audio=self.keep_audio
        )
        if self.keep_streams:
            self.streams.append(stream)
        return stream


class ScriptedStream(RecognizerStreamBase):
    """One replay of a script: a `RecognizerStreamBase` with no task and no I/O."""

    def __init__(
        self,
        script: Sequence[ScriptItem],
        *,
        sample_rate: int,
        room: str | None,
        keep_audio: bool,
    ) -> None:
        super().__init__(sample_rate=sample_rate, room=room)
        self.audio = bytearray() if keep_audio else None
        # (audio seconds pushed when released, event), so tests can check the pacing
        self.released: list[tuple[float, RecognizerEvent]] = []
        self._script = deque(sorted(script, key=release_time))

    def _push(self, pcm16: bytes) -> None:
        # counted by the base; kept if asked, then what the audio has reached is released
        if self.audio is not None:
            self.audio += pcm16
        self._release(self.audio_seconds)

    def _input_ended(self) -> None:
        # the rest of the script, as a recognizer flushes on Finalize, then the end
        self._release(float("inf"))
        self._end()

    def _release(self, until: float) -> None:
        while self._script and not self._ended and release_time(self._script[0]) <= until:
            item = self._script.popleft()
            if isinstance(item, ScriptedFailure):
                self._fail(item.error)
            else:
                self.released.append((self.audio_seconds, item))
                self._emit(item)
