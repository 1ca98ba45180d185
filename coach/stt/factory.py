"""Choose the live recognizer from settings: Deepgram with a key, else local Whisper."""

from __future__ import annotations

import logging

from coach.settings import Settings
from coach.stt.streaming import StreamingRecognizer

log = logging.getLogger("coach.stt")


def build_recognizer(settings: Settings) -> StreamingRecognizer:
    """Deepgram live when DEEPGRAM_API_KEY is set, else the local Whisper recognizer."""
    if settings.deepgram_api_key is not None:
        from coach.stt.deepgram_live import DeepgramLiveRecognizer

        log.info("live speech-to-text: Deepgram %s", settings.deepgram_model)
        return DeepgramLiveRecognizer(
            settings.deepgram_api_key.get_secret_value(), model=settings.deepgram_model
        )
    from coach.stt.local_live import LocalLiveRecognizer
    from coach.stt.whisper import LocalWhisper

    log.info("live speech-to-text: local Whisper %s (no DEEPGRAM_API_KEY)", settings.whisper_model)
    return LocalLiveRecognizer(LocalWhisper(settings).transcribe_span)


async def close_recognizer(recognizer: StreamingRecognizer) -> None:
    """Release what the recognizer holds (worker threads, HTTP clients), if anything."""
    aclose = getattr(recognizer, "aclose", None)
    if aclose is not None:
        await aclose()
