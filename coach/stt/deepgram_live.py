"""Deepgram live speech-to-text over its WebSocket API, with keep-alive and reconnection."""

from __future__ import annotations

import asyncio
import logging
import warnings
from contextlib import AsyncExitStack
from typing import Any

from coach.providers import ProviderError, ProviderObserver, RetryPolicy, call_with_retry
from coach.speech.words import Word
from coach.stt.replay import ReplayBuffer
from coach.stt.streaming import Recognized, RecognizerStreamBase, UtteranceEnd

with warnings.catch_warnings():
    # deepgram-sdk 7 still imports websockets' legacy client, which warns on import;
    # nothing on our side can change that, and the warning would fail strict test runs.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=r"websockets\.")
    from deepgram import AsyncDeepgramClient, DeepgramClientEnvironment
    from deepgram.core.api_error import ApiError
    from deepgram.core.request_options import RequestOptions

    # the SDK imports this lazily on first use, which would warn outside this block
    from deepgram.listen.v1 import client as _listen_v1_client  # noqa: F401
    from deepgram.listen.v1.socket_client import AsyncV1SocketClient
    from deepgram.listen.v1.types import (
        ListenV1Error,
        ListenV1Metadata,
        ListenV1Results,
        ListenV1UtteranceEnd,
    )
    from websockets.exceptions import ConnectionClosed, WebSocketException

log = logging.getLogger("coach.stt.deepgram_live")

PROVIDER = "deepgram"
# Deepgram closes with this when it cannot use the audio: retrying won't help
_POLICY_VIOLATION = 1008
_EPSILON = 1e-6


def provider_error(e: BaseException) -> ProviderError:
    """Say an SDK or transport failure in coach's words, deciding whether a retry can help."""
    if isinstance(e, ProviderError):
        return e
    if isinstance(e, ApiError):
        status = e.status_code
        if status in (401, 403):
            return ProviderError(
                PROVIDER, f"Deepgram refused the API key (HTTP {status})", retryable=False
            )
        retryable = status is None or status in (408, 429) or status >= 500
        return ProviderError(
            PROVIDER, f"Deepgram refused the connection (HTTP {status})", retryable=retryable
        )
    if isinstance(e, ConnectionClosed):
        frame = e.rcvd
        code = frame.code if frame is not None else 1006
        reason = f": {frame.reason}" if frame is not None and frame.reason else ""
        return ProviderError(
            PROVIDER,
            f"the Deepgram connection closed (code {code}{reason})",
            retryable=code != _POLICY_VIOLATION,
        )
    if isinstance(e, (OSError, TimeoutError, WebSocketException)):
        return ProviderError(PROVIDER, f"cannot reach Deepgram: {e!r}", retryable=True)
    return ProviderError(PROVIDER, f"unexpected failure: {e!r}", retryable=False)


_TRANSPORT_ERRORS = (ApiError, OSError, TimeoutError, WebSocketException)


def _environment(url: str) -> DeepgramClientEnvironment:
    """An SDK environment whose WebSocket endpoints all point at `url` (ws:// or wss://)."""
    url = url.rstrip("/")
    http = "http" + url.removeprefix("ws") if url.startswith("ws") else url
    return DeepgramClientEnvironment(base=http, production=url, agent=url, agent_rest=http)


class DeepgramLiveRecognizer:
    """Deepgram's live recognizer (nova-3, filler words kept) behind `StreamingRecognizer`."""

    name = "deepgram"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "nova-3",
        environment_url: str | None = None,
        utterance_end_ms: int = 1000,
        keepalive_seconds: float = 5.0,
        # about 30 s of backoff ceilings in all, matching how much audio the buffer keeps
        retry: RetryPolicy = RetryPolicy(attempts=8),  # noqa: B008 - frozen, safe to share
        max_buffer_seconds: float = 30.0,
        close_timeout: float = 10.0,
        observer: ProviderObserver | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("a Deepgram API key is required")
        self._api_key = api_key
        self._model = model
        self._environment_url = environment_url
        self._utterance_end_ms = utterance_end_ms
        self._keepalive_seconds = keepalive_seconds
        self._retry = retry
        self._max_buffer_seconds = max_buffer_seconds
        self._close_timeout = close_timeout
        self._observer = observer
        self._client: AsyncDeepgramClient | None = None

    def _sdk(self) -> AsyncDeepgramClient:
        if self._client is None:
            environment = (
                _environment(self._environment_url)
                if self._environment_url
                else DeepgramClientEnvironment.PRODUCTION
            )
            self._client = AsyncDeepgramClient(api_key=self._api_key, environment=environment)
        return self._client

    def connect_options(self, sample_rate: int) -> dict[str, Any]:
        """The `listen.v1.connect` arguments for one stream."""
        request_options: RequestOptions = {
            # the SDK's connect() has no parameter for it, and without it Deepgram drops um/uh
            "additional_query_parameters": {"filler_words": "true"},
        }
        return {
            "model": self._model,
            "encoding": "linear16",
            "sample_rate": sample_rate,
            "channels": 1,
            "interim_results": "true",
            "punctuate": "true",
            "smart_format": "true",
            "utterance_end_ms": self._utterance_end_ms,
            "request_options": request_options,
        }

    def stream(self, *, sample_rate: int, room: str | None = None) -> DeepgramLiveStream:
        """Open a live stream; must be called inside a running event loop."""
        return DeepgramLiveStream(
            client=self._sdk(),
            options=self.connect_options(sample_rate),
            sample_rate=sample_rate,
            room=room,
            keepalive_seconds=self._keepalive_seconds,
            retry=self._retry,
            max_buffer_seconds=self._max_buffer_seconds,
            close_timeout=self._close_timeout,
            observer=self._observer,
        )


class DeepgramLiveStream(RecognizerStreamBase):
    """One Deepgram live session, reconnecting as needed; a `RecognizerStreamBase`."""

    def __init__(
        self,
        *,
        client: AsyncDeepgramClient,
        options: dict[str, Any],
        sample_rate: int,
        room: str | None,
        keepalive_seconds: float,
        retry: RetryPolicy,
        max_buffer_seconds: float,
        close_timeout: float,
        observer: ProviderObserver | None = None,
    ) -> None:
        super().__init__(sample_rate=sample_rate, room=room)
        self._client = client
        self._observer = observer
        self._options = options
        self._keepalive_seconds = keepalive_seconds
        self._retry = retry
        self._close_timeout = close_timeout
        self._bytes_per_second = sample_rate * 2
        self._loop = asyncio.get_running_loop()
        # unsent and unconfirmed audio, and Deepgram's per-connection clock (stt/replay.py)
        self._buffer = ReplayBuffer(
            bytes_per_second=self._bytes_per_second,
            max_bytes=int(max_buffer_seconds * sample_rate) * 2,
        )
        self._watermark = 0.0

        self._audio_ready = asyncio.Event()
        self._close_sent = False
        self._progressed = False
        self._server_error: str | None = None
        self._last_interim: tuple[float, float, tuple[Word, ...]] | None = None
        self._last_sent = self._loop.time()

        self.connections = 0
        self.keepalives_sent = 0
        self._dropping_since: int | None = None

        self._task = self._spawn(self._main(), "deepgram-stream")

    # -- the RecognizerStreamBase hooks -------------------------------------------------

    def _push(self, pcm16: bytes) -> None:
        # past the buffer bound the oldest unsent audio is dropped
        dropped = self._buffer.push(pcm16)
        if dropped:
            self.dropped_bytes += dropped
            if self._dropping_since is None:
                self._dropping_since = self.dropped_bytes - dropped
                log.warning(
                    "Deepgram audio buffer full (%.1f s) in room %s; dropping the oldest audio",
                    self.buffered_seconds, self.room, extra={"room": self.room},
                )  # fmt: skip
        self._audio_ready.set()

    def _input_ended(self) -> None:
        # Deepgram is asked to finalize and close once the buffer is sent
        self._audio_ready.set()

    @property
    def buffered_seconds(self) -> float:
        """Audio pushed but not yet sent to Deepgram."""
        return self._buffer.buffered_seconds

    def _report_drops(self) -> None:
        if self._dropping_since is not None:
            seconds = (self.dropped_bytes - self._dropping_since) / self._bytes_per_second
            log.warning(
                "dropped %.3f s of audio in room %s while Deepgram was unreachable",
                seconds, self.room, extra={"room": self.room},
            )  # fmt: skip
            self._dropping_since = None

    def _start_connection(self) -> None:
        # Audio not covered by a final result on the lost connection is sent again, so
        # what Deepgram had not finished transcribing is not lost with the socket.
        self._buffer.restart()
        self._close_sent = False
        self._progressed = False
        self._server_error = None
        self._last_interim = None
        self._last_sent = self._loop.time()

    # -- the connection loop ----------------------------------------------------------

    async def _main(self) -> None:
        try:
            await self._run()
        except Exception as e:
            log.error("Deepgram stream of room %s failed: %s", self.room, e,
                      extra={"room": self.room})  # fmt: skip
            self._fail(e if isinstance(e, ProviderError) else provider_error(e))
        finally:
            self._end()

    async def _run(self) -> None:
        drops_in_a_row = 0
        while True:
            async with AsyncExitStack() as stack:
                socket = await call_with_retry(
                    lambda: self._connect(stack), self._retry, provider=PROVIDER,
                    observer=self._observer,
                )  # fmt: skip
                self.connections += 1
                self._start_connection()
                self._report_drops()
                try:
                    await self._serve(socket)
                    return
                except ProviderError as e:
                    if not e.retryable:
                        raise
                    failure = e
            drops_in_a_row = 0 if self._progressed else drops_in_a_row + 1
            if drops_in_a_row >= self._retry.attempts:
                raise failure
            log.warning(
                "Deepgram connection of room %s lost, reconnecting: %s",
                self.room, failure.message, extra={"room": self.room},
            )  # fmt: skip
            if self._observer is not None:
                self._observer.provider_retry(PROVIDER)
            if drops_in_a_row:
                await asyncio.sleep(self._retry.delay(drops_in_a_row))

    async def _connect(self, stack: AsyncExitStack) -> AsyncV1SocketClient:
        try:
            return await stack.enter_async_context(self._client.listen.v1.connect(**self._options))
        except _TRANSPORT_ERRORS as e:
            raise provider_error(e) from e

    async def _serve(self, socket: AsyncV1SocketClient) -> None:
        """Send, receive and keep alive as sibling tasks until input ends or the socket drops."""
        name = self._task.get_name()
        sender = asyncio.create_task(self._send_loop(socket), name=f"{name}.send")
        receiver = asyncio.create_task(self._receive_loop(socket), name=f"{name}.receive")
        keepalive = asyncio.create_task(self._keepalive_loop(socket), name=f"{name}.keepalive")
        tasks = (sender, receiver, keepalive)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if (error := task.exception()) is not None:
                    raise error
            if receiver.done() and not self._close_sent:
                detail = f": {self._server_error}" if self._server_error else ""
                raise ProviderError(
                    PROVIDER, f"Deepgram closed the stream early{detail}", retryable=True
                )
            # Input ended and CloseStream is sent: Deepgram flushes its last results, then closes.
            keepalive.cancel()
            if receiver.done():
                return
            try:
                async with asyncio.timeout(self._close_timeout):
                    await receiver
            except TimeoutError:
                log.warning("Deepgram did not close the stream of room %s in time", self.room,
                            extra={"room": self.room})  # fmt: skip
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_loop(self, socket: AsyncV1SocketClient) -> None:
        while True:
            chunk = self._buffer.take()
            if chunk is None:
                if self.input_ended:
                    try:
                        await socket.send_finalize()
                        await socket.send_close_stream()
                    except _TRANSPORT_ERRORS as e:
                        raise provider_error(e) from e
                    self._close_sent = True
                    return
                self._audio_ready.clear()
                await self._audio_ready.wait()
                continue
            pos, data = chunk
            try:
                await socket.send_media(data)
            except _TRANSPORT_ERRORS as e:
                self._buffer.unsend(pos, data)
                raise provider_error(e) from e
            self._buffer.mark_sent(pos, data)
            self._last_sent = self._loop.time()

    async def _keepalive_loop(self, socket: AsyncV1SocketClient) -> None:
        # Deepgram closes a socket that gets no audio for about 10 s, e.g. a muted candidate.
        while True:
            idle = self._loop.time() - self._last_sent
            if idle < self._keepalive_seconds:
                await asyncio.sleep(self._keepalive_seconds - idle)
                continue
            try:
                await socket.send_keep_alive()
            except _TRANSPORT_ERRORS as e:
                raise provider_error(e) from e
            self.keepalives_sent += 1
            self._last_sent = self._loop.time()

    async def _receive_loop(self, socket: AsyncV1SocketClient) -> None:
        try:
            async for message in socket:
                self._on_message(message)
        except _TRANSPORT_ERRORS as e:
            raise provider_error(e) from e

    def _on_message(self, message: object) -> None:
        if isinstance(message, ListenV1Results):
            self._on_results(message)
        elif isinstance(message, ListenV1UtteranceEnd):
            self._progressed = True
            self._emit(UtteranceEnd(self._buffer.to_session_time(message.last_word_end)))
        elif isinstance(message, ListenV1Error):
            self._server_error = message.description
            log.warning(
                "Deepgram reported an error in room %s (%s): %s",
                self.room, message.variant, message.description, extra={"room": self.room},
            )  # fmt: skip
        elif isinstance(message, ListenV1Metadata):
            log.debug("Deepgram stream metadata: request %s", message.request_id)

    def _on_results(self, result: ListenV1Results) -> None:
        self._progressed = True
        start = self._buffer.to_session_time(result.start)
        end = self._buffer.to_session_time(result.start + result.duration)
        alternatives = result.channel.alternatives
        words = tuple(
            Word(
                word=w.word,
                start=self._buffer.to_session_time(w.start),
                end=self._buffer.to_session_time(w.end),
                confidence=w.confidence,
                punctuated_word=w.punctuated_word,
            )
            for w in (alternatives[0].words if alternatives else ())
        )
        is_final = bool(result.is_final)
        speech_final = bool(result.speech_final)
        if end <= self._watermark + _EPSILON and (words or not speech_final):
            return  # a repeat of audio already finalized
        if is_final:
            self._watermark = end
            self._buffer.confirm(end)
            self._last_interim = None
        else:
            key = (start, end, words)
            if key == self._last_interim:
                return
            self._last_interim = key
        if words or speech_final:
            self._emit(Recognized(words, is_final, speech_final, start, end))
