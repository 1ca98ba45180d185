"""A local server speaking Deepgram's live WebSocket protocol, for tests and the load bench."""

from __future__ import annotations

import asyncio
import json
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

_MODEL_INFO = {"name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"}


@dataclass
class FakeConnection:
    """What the fake server saw on one accepted WebSocket."""

    query: dict[str, str]
    authorization: str | None
    audio: bytearray = field(default_factory=bytearray)
    controls: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    dropped: bool = False

    @property
    def sample_rate(self) -> int:
        """The sample rate the client asked for."""
        return int(self.query.get("sample_rate", "16000"))


def word_for(sample: int) -> str:
    """The word the fake "hears" in a window whose first sample is `sample`."""
    return f"w{sample}"


class FakeDeepgram:
    """Deepgram's `/v1/listen` live endpoint on 127.0.0.1, transcribing by a fixed rule.

    Every `window_seconds` of audio becomes one word named after the window's first
    sample (`word_for`), so a test can tell from a word's time which audio it came from.
    Each window is answered the way Deepgram answers: interim results (the first one
    repeated), then a final one; every `speech_final_every`-th window ends an utterance
    and is followed by `UtteranceEnd`; every `duplicate_final_every`-th final is sent twice.
    An all-zero window is silence: an empty final result, as Deepgram sends.
    Failures to script: `reject_handshakes` {handshake index: HTTP status},
    `hold_handshake` (index kept waiting until `release_handshake` is set),
    `drop_after_bytes` {connection index: bytes after which the TCP link is cut},
    `close_code_on_audio` (close code sent on the first audio).
    """

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        window_seconds: float = 0.5,
        speech_final_every: int = 2,
        duplicate_final_every: int = 3,
        reject_handshakes: dict[int, int] | None = None,
        hold_handshake: int | None = None,
        drop_after_bytes: dict[int, int] | None = None,
        close_code_on_audio: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.window_seconds = window_seconds
        self.speech_final_every = speech_final_every
        self.duplicate_final_every = duplicate_final_every
        self.reject_handshakes = dict(reject_handshakes or {})
        self.hold_handshake = hold_handshake
        self.release_handshake = asyncio.Event()
        self.drop_after_bytes = dict(drop_after_bytes or {})
        self.close_code_on_audio = close_code_on_audio
        self.handshakes = 0
        self.connections: list[FakeConnection] = []
        self._server: Server | None = None
        self._changed = asyncio.Condition()

    async def until(self, predicate: Callable[[], bool], *, within: float = 5.0) -> None:
        """Wait until `predicate()` holds after some message; fail after `within` seconds."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @property
    def url(self) -> str:
        """The ws:// base URL to hand the SDK as its environment."""
        assert self._server is not None, "server not started"
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    @property
    def audio(self) -> bytes:
        """Every audio byte received, over all connections, in order."""
        return b"".join(bytes(c.audio) for c in self.connections)

    async def __aenter__(self) -> FakeDeepgram:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        index = self.handshakes
        self.handshakes += 1
        await self._note()
        if index == self.hold_handshake:
            await self.release_handshake.wait()
        if index in self.reject_handshakes:
            return connection.respond(self.reject_handshakes[index], "rejected by the fake\n")
        if urlsplit(request.path).path != "/v1/listen":
            return connection.respond(404, "not found\n")
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return connection.respond(401, "invalid credentials\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        conn = FakeConnection(
            query=dict(parse_qsl(urlsplit(ws.request.path).query)),
            authorization=ws.request.headers.get("Authorization"),
        )
        index = len(self.connections)
        self.connections.append(conn)
        state = _Transcriber(self, conn, ws)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    conn.audio += message
                    await self._note()
                    if self.close_code_on_audio is not None:
                        await ws.close(self.close_code_on_audio, "DATA-0000 cannot decode audio")
                        return
                    await state.transcribe(flush=False)
                    limit = self.drop_after_bytes.get(index)
                    if limit is not None and len(conn.audio) >= limit:
                        conn.dropped = True
                        # a network drop, not a close: no close frame, buffered output lost
                        ws.transport.abort()
                        return
                    continue
                kind = json.loads(message).get("type", "?")
                conn.controls.append(kind)
                await self._note()
                if kind == "Finalize":
                    await state.transcribe(flush=True)
                elif kind == "CloseStream":
                    await state.transcribe(flush=True)
                    await state.send(state.metadata())
                    await ws.close(1000)
                    return
        except ConnectionClosed:
            return


class _Transcriber:
    """Turns one connection's audio into Deepgram-shaped messages."""

    def __init__(self, server: FakeDeepgram, conn: FakeConnection, ws: ServerConnection) -> None:
        self.server = server
        self.conn = conn
        self.ws = ws
        self.done_bytes = 0
        self.windows = 0
        self.finals = 0
        self.request_id = str(uuid.uuid4())

    async def send(self, message: dict[str, Any]) -> None:
        self.conn.sent.append(message)
        await self.ws.send(json.dumps(message))

    def metadata(self) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self.request_id,
            "sha256": "0" * 64,
            "created": "2026-01-01T00:00:00.000Z",
            "duration": len(self.conn.audio) / (2 * self.conn.sample_rate),
            "channels": 1,
            "models": [str(uuid.uuid4())],
            "model_info": {},
        }

    async def transcribe(self, *, flush: bool) -> None:
        rate = self.conn.sample_rate
        window = int(self.server.window_seconds * rate) * 2
        while len(self.conn.audio) - self.done_bytes >= window or (
            flush and len(self.conn.audio) > self.done_bytes
        ):
            size = min(window, len(self.conn.audio) - self.done_bytes)
            await self._window(self.done_bytes, size, from_finalize=size < window)
            self.done_bytes += size

    async def _window(self, offset: int, size: int, *, from_finalize: bool) -> None:
        rate = self.conn.sample_rate
        start = offset / (2 * rate)
        duration = size / (2 * rate)
        chunk = bytes(self.conn.audio[offset : offset + size])
        (first,) = struct.unpack_from("<h", chunk)
        if not any(chunk):
            await self.send(self._results(start, duration, [], is_final=True, speech_final=False))
            return
        self.windows += 1
        name = word_for(first)
        word = {
            "word": name,
            "start": start,
            "end": start + duration * 0.9,
            "confidence": 0.97,
            "punctuated_word": name.capitalize() + ".",
        }
        interim = dict(word, end=start + duration * 0.5, confidence=0.6)
        partial = self._results(start, duration / 2, [interim], is_final=False, speech_final=False)
        await self.send(partial)
        await self.send(partial)  # Deepgram does repeat interim results
        speech_final = self.windows % self.server.speech_final_every == 0
        final = self._results(start, duration, [word], is_final=True, speech_final=speech_final)
        final["from_finalize"] = from_finalize
        self.finals += 1
        await self.send(final)
        if self.finals % self.server.duplicate_final_every == 0:
            await self.send(final)
        if speech_final:
            end = {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": word["end"]}
            await self.send(end)

    def _results(
        self,
        start: float,
        duration: float,
        words: list[dict[str, Any]],
        *,
        is_final: bool,
        speech_final: bool,
    ) -> dict[str, Any]:
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": duration,
            "start": start,
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {
                "alternatives": [
                    {
                        "transcript": " ".join(w["punctuated_word"] for w in words),
                        "confidence": min((w["confidence"] for w in words), default=0.0),
                        "words": words,
                    }
                ]
            },
            "metadata": {
                "request_id": self.request_id,
                "model_info": _MODEL_INFO,
                "model_uuid": str(uuid.uuid4()),
            },
            "from_finalize": False,
        }
