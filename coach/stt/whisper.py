"""Local speech-to-text with faster-whisper: VAD-cut utterances, word timestamps, flat memory."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.audio import filled_pauses
from coach.audio.decode import Samples, iter_pcm, probe_duration
from coach.audio.filled_pauses import Slot
from coach.settings import Settings
from coach.speech.lexicon import load_lexicon
from coach.speech.words import Silence, Word
from coach.stt import forcing
from coach.stt.base import ProgressCallback, Transcription
from coach.stt.models import resolve_whisper_model
from coach.stt.vad import SpeechSpan, VadConfig, speech_spans

log = logging.getLogger("coach.stt.whisper")

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # Whisper's mel frames
FULL_CONTEXT = 30.0  # seconds of audio Whisper's encoder was trained on, padded if shorter
_EDGE_PUNCT = re.compile(r"^[^\w']+|[^\w']+$")


def bare_word(token: str) -> str:
    """A recognizer token as a bare lowercase word: " Um," -> "um", "don't" stays."""
    return _EDGE_PUNCT.sub("", token.strip()).lower()


@dataclass(frozen=True, slots=True)
class Decoding:
    """How Whisper searches: the full-accuracy defaults, or `LIVE` for speed."""

    beam_size: int = 5
    # Whisper's fallback re-decodes a doubtful segment at rising temperatures: accurate,
    # but one 17 s utterance took 6 s with it, and live sessions queue behind that.
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    # Seconds of audio the encoder sees at least. Whisper pads every input to 30 s and its
    # encoder costs the same 0.7 s (one core, base) for a 2 s utterance as for a 28 s one;
    # cut to the speech (never under this), a short utterance encodes in under 0.1 s.
    audio_context: float = FULL_CONTEXT


# greedy with no fallback, at the live settings' defaults (one place says them: settings.py)
LIVE = Decoding(
    beam_size=Settings.model_fields["live_beam_size"].default,
    temperature=(0.0,),
    audio_context=Settings.model_fields["live_audio_context_seconds"].default,
)

# A decoding this repetitive under a short context is done again with the full one
# (faster-whisper's own fallback threshold): a cut context can loop on a phrase. An unsure
# one (low log-probability) is not: on noisy audio the full context did no better.
LOOPING_COMPRESSION = 2.4


def trimmed_features(features: Any, floor_frames: int) -> Any:
    """Whisper's zero-padded mel features cut to the speech plus a second, rounded up to a
    second, never under `floor_frames` and never longer than they were."""
    frames = features.shape[-1]
    voiced = np.flatnonzero(np.any(features.reshape(-1, frames) != 0, axis=0))
    content = int(voiced[-1]) + 1 if voiced.size else 0
    step = FRAMES_PER_SECOND
    keep = -(-(content + step) // step) * step
    keep = min(frames, max(floor_frames, keep))
    return features[..., :keep]


class ShortContextEncoder:
    """Stands in for a faster-whisper model's `encode`: the padded 30 s cut to the speech."""

    def __init__(self, encode: Callable[[Any], Any], floor_seconds: float) -> None:
        self._encode = encode
        self._floor = int(floor_seconds * FRAMES_PER_SECOND)
        # the model is shared by worker threads; only a thread redoing a decoding gets the
        # full context
        self._full = threading.local()
        self.retries = 0

    def __call__(self, features: Any) -> Any:
        if not getattr(self._full, "on", False):
            features = trimmed_features(features, self._floor)
        return self._encode(features)

    def decode(self, run: Callable[[], list[Any]]) -> list[Any]:
        """Segments from `run()` on the short context, or on the full one if they loop."""
        segments = run()
        if not any(s.compression_ratio > LOOPING_COMPRESSION for s in segments):
            return segments
        self.retries += 1
        log.debug("a live decoding looped under a short audio context; decoding it again")
        self._full.on = True
        try:
            return run()
        finally:
            self._full.on = False


class EncoderTap:
    """Stands in for a faster-whisper model's `encode`: keeps its outputs for a thread that asks.

    The file path asks Whisper where a hesitation fits (`forcing`) on the encoding its
    transcription made, rather than encoding the audio a second time.
    """

    def __init__(self, encode: Callable[[Any], Any]) -> None:
        self._encode = encode
        self._local = threading.local()

    def __call__(self, features: Any) -> Any:
        out = self._encode(features)
        caught = getattr(self._local, "caught", None)
        if caught is not None:
            caught.append(out)
        return out

    def catch(self) -> list[Any]:
        """Keep this thread's encodings from now on, in the list returned, until `release`."""
        self._local.caught = []
        caught: list[Any] = self._local.caught
        return caught

    def release(self) -> None:
        """Stop keeping this thread's encodings."""
        self._local.caught = None


class LocalWhisper:
    """Transcribes files on the CPU (or a GPU), one voice-activity span at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        decoding: Decoding | None = None,
        workers: int = 1,
        vad: VadConfig | None = None,
        block_seconds: float = 60.0,
        min_silence: float = 0.25,
        join_gap_seconds: float = 1.0,
        max_window_seconds: float = 28.0,
        forced_hesitations: bool = True,
    ) -> None:
        self._join_gap = int(join_gap_seconds * SAMPLE_RATE)
        self._max_window = int(max_window_seconds * SAMPLE_RATE)
        self._settings = settings
        self.model_name = model or settings.whisper_model
        self.decoding = decoding or Decoding()
        # callers running this many transcriptions at once each get a model worker
        self.workers = max(1, workers)
        self._vad = vad or VadConfig()
        self._block = int(block_seconds * SAMPLE_RATE)
        self._min_silence = min_silence
        self._model: Any = None
        self._short: ShortContextEncoder | None = None
        self._tap: EncoderTap | None = None
        # the file path asks Whisper where a hesitation fits (coach/stt/forcing.py); its
        # tokenizer needs the language the words were written in
        self.forced_hesitations = forced_hesitations and settings.whisper_language is not None
        self._tokenizer: Any = None
        self._hesitations: list[forcing.Form] = []
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now rather than at the first transcription."""
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                s = self._settings
                where = resolve_whisper_model(self.model_name, s.model_cache_dir)
                threads = s.whisper_threads or max(1, (os.cpu_count() or 1) // self.workers)
                self._model = WhisperModel(
                    where,
                    device=s.whisper_device,
                    compute_type=s.whisper_compute_type,
                    cpu_threads=threads,
                    num_workers=self.workers,
                    download_root=str(s.model_cache_dir),
                )
                if self.decoding.audio_context < FULL_CONTEXT:
                    self._short = ShortContextEncoder(
                        self._model.encode, self.decoding.audio_context
                    )
                    self._model.encode = self._short
                if self.forced_hesitations:
                    from faster_whisper.tokenizer import Tokenizer

                    self._tap = EncoderTap(self._model.encode)
                    self._model.encode = self._tap
                    self._tokenizer = Tokenizer(
                        self._model.hf_tokenizer,
                        self._model.model.is_multilingual,
                        task="transcribe",
                        language=s.whisper_language,
                    )
                    self._hesitations = forcing.forms(self._tokenizer)
            return self._model

    @property
    def full_context_retries(self) -> int:
        """Live decodings that looped on the cut context and were done again on the full one."""
        return self._short.retries if self._short is not None else 0

    def transcribe_file(
        self, path: Path, *, on_progress: ProgressCallback | None = None
    ) -> Transcription:
        """Transcribe `path` block by block: a two-hour file needs the memory of a minute."""
        total = probe_duration(path)
        run = _Run(self, on_progress, total)
        pending = np.empty(0, dtype=np.float32)
        chunk_seconds = min(30.0, self._block / SAMPLE_RATE)
        for chunk in iter_pcm(path, sample_rate=SAMPLE_RATE, chunk_seconds=chunk_seconds):
            pending = np.concatenate([pending, chunk])
            if pending.size >= self._block:
                pending = run.settle(pending, final=False)
        run.settle(pending, final=True)
        return run.result()

    def transcribe_span(self, audio: Samples, offset: float) -> list[Word]:
        """Words of one utterance, with times shifted by `offset` seconds."""
        return self._words(self._decode(audio), offset)

    def _decode(self, audio: Samples) -> list[Any]:
        model = self._load()
        if self._short is None:
            return self._segments(model, audio)
        return self._short.decode(lambda: self._segments(model, audio))

    def transcribe_window(self, audio: Samples, offset: float) -> tuple[list[Word], list[Any]]:
        """Words of one window, and what `hesitation_slots` asks Whisper about them with."""
        self._load()
        if self._tap is None:
            return self.transcribe_span(audio, offset), []
        caught = self._tap.catch()
        try:
            segments = self._decode(audio)
        finally:
            self._tap.release()
        return self._words(segments, offset), _chunks(segments, caught, offset)

    def hesitation_slots(self, chunks: list[Any], wanted: dict[float, str]) -> list[Slot]:
        """Whisper's own gain for a hesitation before each word of `chunks` starting in `wanted`."""
        model = self._load()
        return [
            slot
            for chunk in chunks
            for slot in forcing.score_boundaries(
                model.model, self._tokenizer, self._hesitations, chunk, wanted
            )
        ]

    def _words(self, segments: list[Any], offset: float) -> list[Word]:
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                token = str(w.word)
                if words and not token.startswith(" ") and not token[:1].isalnum():
                    # A piece such as ",000" in "900,000" continues the word before it.
                    last = words[-1]
                    text = last.text + token
                    words[-1] = Word(
                        word=bare_word(text),
                        start=last.start,
                        end=round(offset + float(w.end), 3),
                        confidence=min(last.confidence, round(float(w.probability), 3)),
                        punctuated_word=text,
                    )
                    continue
                bare = bare_word(token)
                if not bare:
                    continue
                words.append(
                    Word(
                        word=bare,
                        start=round(offset + float(w.start), 3),
                        end=round(offset + float(w.end), 3),
                        confidence=round(float(w.probability), 3),
                        punctuated_word=token.strip(),
                    )
                )
        return words

    def _segments(self, model: Any, audio: Samples) -> list[Any]:
        segments, _ = model.transcribe(
            audio,
            language=self._settings.whisper_language,
            word_timestamps=True,
            vad_filter=False,
            # Each utterance stands alone: conditioning on earlier text made the model
            # tidy away disfluencies and repeat itself across utterances.
            condition_on_previous_text=False,
            beam_size=self.decoding.beam_size,
            temperature=list(self.decoding.temperature),
        )
        return list(segments)


def _chunks(segments: list[Any], encodings: list[Any], offset: float) -> list[Any]:
    """The segments of each encoding (one per 30 s Whisper heard), with the encoding's output."""
    seeks: list[int] = []
    for s in segments:
        if not seeks or s.seek != seeks[-1]:
            seeks.append(s.seek)
    if len(seeks) != len(encodings):
        # a chunk that gave no words: pair them only when the first encoding's are known
        log.debug("%d encodings for %d decoded chunks", len(encodings), len(seeks))
        seeks, encodings = ([0], encodings[:1]) if seeks[:1] == [0] and encodings else ([], [])
    return [
        forcing.Chunk(
            encoder_output=out,
            segments=tuple(s for s in segments if s.seek == seek),
            start=offset + seek / FRAMES_PER_SECOND,
            offset=offset,
        )
        for seek, out in zip(seeks, encodings, strict=True)
    ]


def group_spans(spans: list[SpeechSpan], join_gap: int, max_len: int) -> list[SpeechSpan]:
    """Join speech spans closer than `join_gap` samples into windows of at most `max_len`.

    Measured on the fixtures: one window per VAD span starves the model of context ("I mean"
    heard as "I made"), while one 30 s window makes it drop hesitations after long silences;
    joining across gaps under a second keeps both.
    """
    windows: list[SpeechSpan] = []
    for span in spans:
        if (
            windows
            and span.start - windows[-1].end < join_gap
            and span.end - windows[-1].start <= max_len
        ):
            windows[-1] = SpeechSpan(windows[-1].start, span.end)
        else:
            windows.append(span)
    return windows


class _Run:
    """The state of one file's transcription: where the settled audio ends, what was heard."""

    def __init__(
        self, owner: LocalWhisper, on_progress: ProgressCallback | None, total: float | None
    ) -> None:
        self.owner = owner
        self.on_progress = on_progress
        self.total = total
        self.block_start = 0  # samples since the start of the file
        self.last_speech_end = 0.0
        self.words: list[Word] = []
        self.recognized: list[Word] = []
        self.silences: list[Silence] = []
        self.detector_seconds = 0.0
        # every steady vowel heard, a few numbers each (a few a second of speech), for the
        # second look at the speaker's own filler vowel once the whole file is heard
        self.vowels: list[filled_pauses.FilledPause] = []
        # the boundaries where Whisper's own gain for a hesitation passed (bench/stt.py)
        self.forced: list[float] = []
        self.hesitations = load_lexicon().hesitations

    def settle(self, block: Samples, *, final: bool) -> Samples:
        """Transcribe the finished utterances in `block`; return the audio still undecided."""
        spans = speech_spans(block, SAMPLE_RATE, self.owner._vad)
        keep_from = block.size
        if not final:
            # Speech running into the block's end may continue in the next one; and a short
            # start of speech may not be detected yet, so always keep the last half second.
            keep_from = block.size - SAMPLE_RATE // 2
            if spans and spans[-1].end >= keep_from:
                keep_from = min(keep_from, spans[-1].start)
            spans = [s for s in spans if s.end <= keep_from]
        for span in spans:
            self._silence_until((self.block_start + span.start) / SAMPLE_RATE)
            self.last_speech_end = (self.block_start + span.end) / SAMPLE_RATE
        windows = group_spans(spans, self.owner._join_gap, self.owner._max_window)
        for i, window in enumerate(windows):
            self._transcribe_window(block, windows, i, window)
        self.block_start += keep_from
        if final:
            self._silence_until(self.block_start / SAMPLE_RATE)
        if self.on_progress is not None:
            self.on_progress(self.block_start / SAMPLE_RATE, self.total)
        return block[keep_from:]

    def _transcribe_window(
        self, block: Samples, windows: list[SpeechSpan], i: int, window: SpeechSpan
    ) -> None:
        # A little context on each side helps the model with word edges, but never as far as
        # the next window, which would then be heard twice.
        pad = SAMPLE_RATE // 5
        lead = min(pad, (window.start - windows[i - 1].end) // 2 if i else window.start)
        room = (
            (windows[i + 1].start - window.end) // 2
            if i + 1 < len(windows)
            else block.size - window.end
        )
        lo, hi = window.start - lead, window.end + min(pad, room)
        offset = (self.block_start + lo) / SAMPLE_RATE
        words, chunks = self.owner.transcribe_window(block[lo:hi], offset)
        self.recognized.extend(words)
        # Whisper drops hesitations; the window's own audio gives them back (filled_pauses).
        began = time.perf_counter()
        try:
            vowels = filled_pauses.steady_vowels(
                block[window.start : window.end], offset + lead / SAMPLE_RATE
            )
        except RuntimeError as e:  # Praat failing on odd audio costs the fillers, not the words
            log.warning("filled pauses not detected in a window at %.1f s: %s", offset, e)
            vowels = []
        self.vowels.extend(vowels)
        heard = [v for v in vowels if v.central]
        fused = filled_pauses.fuse(words, heard, self.hesitations)
        if chunks:
            fused = self._ask_whisper(words, fused, vowels, chunks)
        self.words.extend(fused)
        self.detector_seconds += time.perf_counter() - began

    def _ask_whisper(
        self,
        words: list[Word],
        fused: list[Word],
        vowels: list[filled_pauses.FilledPause],
        chunks: list[Any],
    ) -> list[Word]:
        # where a steady vowel the fusion left out sits at a word boundary, Whisper itself
        # says whether a hesitation fits there (coach/stt/forcing.py)
        wanted = filled_pauses.forcing_candidates(words, fused, vowels, self.hesitations)
        if not wanted:
            return fused
        try:
            slots = self.owner.hesitation_slots(chunks, wanted)
        except (RuntimeError, ValueError) as e:  # costs the fillers, never the words
            log.warning("hesitations not scored in a window: %s", e)
            return fused
        self.forced.extend(s.end for s in slots if s.gain >= filled_pauses.FORCED_GAIN)
        return filled_pauses.fuse_forced(fused, slots, vowels, self.hesitations)

    def _silence_until(self, t: float) -> None:
        if t - self.last_speech_end >= self.owner._min_silence:
            self.silences.append(Silence(round(self.last_speech_end, 3), round(t, 3)))

    def _second_look(self) -> list[Word]:
        # The hesitations heard in the whole file (Whisper's and the first pass's) say how this
        # speaker says "uh"; the same vowel where Whisper wrote a doubted word that cannot
        # hold it is one more filler. With no hesitation heard, nothing changes.
        began = time.perf_counter()
        speaker = filled_pauses.learn_speaker_vowel(self.vowels, self.words, self.hesitations)
        words = self.words
        if speaker is not None:
            words = filled_pauses.fuse_own_vowel(words, self.vowels, speaker, self.hesitations)
        self.detector_seconds += time.perf_counter() - began
        return words

    def result(self) -> Transcription:
        words = self._second_look()
        duration = self.block_start / SAMPLE_RATE
        return Transcription(
            words=tuple(words),
            silences=tuple(self.silences),
            duration=round(duration, 3),
            language=self.owner._settings.whisper_language,
            recognized=tuple(self.recognized),
            detector_seconds=round(self.detector_seconds, 3),
            forced_hesitations=tuple(self.forced),
        )
