"""Choose the live recognizer from settings: Deepgram with a key, else local Whisper."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from coach.providers import ProviderObserver
from coach.settings import Settings
from coach.stt.base import FileTranscriber
from coach.stt.streaming import StreamingRecognizer

if TYPE_CHECKING:
    from coach.stt.whisper import Decoding

log = logging.getLogger("coach.stt")


def build_recognizer(
    settings: Settings, observer: ProviderObserver | None = None
) -> StreamingRecognizer:
    """Deepgram live when DEEPGRAM_API_KEY is set, else the local Whisper recognizer."""
    if settings.deepgram_api_key is not None:
        from coach.stt.deepgram_live import DeepgramLiveRecognizer

        log.info("live speech-to-text: Deepgram %s", settings.deepgram_model)
        return DeepgramLiveRecognizer(
            settings.deepgram_api_key.get_secret_value(),
            model=settings.deepgram_model,
            observer=observer,
        )
    from coach.audio import filled_pauses
    from coach.stt.endpointer import EndpointConfig
    from coach.stt.local_live import LocalLiveRecognizer
    from coach.stt.whisper import LocalWhisper

    workers = live_workers(settings)
    decoding = live_decoding(settings)
    # live utterances are not asked where a hesitation fits (the final pass is): no tap
    whisper = LocalWhisper(
        settings,
        model=settings.whisper_live_model,
        decoding=decoding,
        workers=workers,
        forced_hesitations=False,
    )
    log.info(
        "live speech-to-text: local Whisper %s, beam %d, %.0f s audio context, %d worker(s)"
        " (no DEEPGRAM_API_KEY)",
        whisper.model_name,
        decoding.beam_size,
        decoding.audio_context,
        workers,
    )

    def load() -> None:
        whisper.load()
        filled_pauses.prepare()

    return LocalLiveRecognizer(
        filled_pauses.hearing_fillers(whisper.transcribe_span),
        endpoint=EndpointConfig(cut_silence=settings.live_endpoint_gap_seconds),
        workers=workers,
        load_model=load,
    )


def live_decoding(settings: Settings) -> Decoding:
    """How the live pass decodes: greedy, no fallback, a cut audio context, from settings."""
    from coach.stt.whisper import LIVE, Decoding

    return Decoding(
        beam_size=settings.live_beam_size,
        temperature=LIVE.temperature,
        audio_context=settings.live_audio_context_seconds,
    )


def live_workers(settings: Settings) -> int:
    """Live Whisper workers: LIVE_WHISPER_WORKERS, else one per core up to two.

    Two one-thread workers beat one two-thread worker on two cores when two sessions
    speak at once (one no longer queues behind the other's long utterance), for ~125 MB.
    """
    if settings.live_whisper_workers:
        return settings.live_whisper_workers
    if settings.whisper_device != "cpu":
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def build_final_pass(settings: Settings, recognizer: StreamingRecognizer) -> FileTranscriber | None:
    """The full-accuracy transcriber for finished live sessions, or None when it is off.

    `auto` runs it after the local recognizer only: Deepgram's live words are already its
    best, and the pass would cost this machine's CPU for nothing.
    """
    mode = settings.final_pass
    if mode == "never" or (mode == "auto" and recognizer.name != "local"):
        return None
    from coach.stt.whisper import LocalWhisper

    log.info("final pass of live sessions: local Whisper %s, beam 5", settings.whisper_model)
    return LocalWhisper(settings)


async def close_recognizer(recognizer: StreamingRecognizer) -> None:
    """Release what the recognizer holds (worker threads, HTTP clients), if anything."""
    aclose = getattr(recognizer, "aclose", None)
    if aclose is not None:
        await aclose()
