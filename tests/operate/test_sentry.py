"""Sentry against a local fake DSN: an HTTP server that keeps the envelopes it receives."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from websockets.asyncio.client import connect

from coach.analysis.feedback import AiAnalysis
from coach.app import create_app
from coach.providers import ProviderError
from coach.speech.summary import SessionSummary
from tests.analysis.sessions import FIXTURES, truth
from tests.live.server import Client, account, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for, database, settings

TRANSCRIPT = "um so basically I led the migration of our billing service"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"


class FakeSentry(ThreadingHTTPServer):
    """Receives Sentry envelopes (POST /api/<project>/envelope/) and keeps their items."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[bytes] = []
        self.received = threading.Event()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/42"

    def events(self) -> list[dict[str, Any]]:
        found = []
        for body in self.bodies:
            lines = body.split(b"\n")
            i = 1
            while i + 1 < len(lines):
                header, payload = json.loads(lines[i]), lines[i + 1]
                if header.get("type") == "event":
                    found.append(json.loads(payload))
                i += 2
        return found


class _Handler(BaseHTTPRequestHandler):
    server: FakeSentry

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        encoding = self.headers.get("content-encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            pytest.fail("brotli envelopes: the fake cannot read them")
        assert self.path == "/api/42/envelope/", self.path
        self.server.bodies.append(body)
        self.server.received.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, name="fake-sentry", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: off again for the other tests
        server.shutdown()
        server.server_close()
        thread.join(5)


async def boom(request: Request) -> Response:
    audio = bytes(range(3, 200)) * 80  # a local holding audio must not travel
    transcript = TRANSCRIPT
    raise RuntimeError(f"could not score ({len(audio)} bytes, {len(transcript)} chars)")


def test_an_unhandled_error_arrives_scrubbed_with_its_request_id(
    tmp_path: Any, fake_sentry: FakeSentry
) -> None:
    app = create_app(settings(tmp_path, sentry_dsn=fake_sentry.dsn), database=database())
    app.router.routes.append(Route("/boom", boom, methods=["POST"]))
    request_id = uuid.uuid4().hex
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            f"/boom?ticket={JWT}",
            json={"transcript": TRANSCRIPT},
            headers={"X-Request-ID": request_id, "Authorization": f"Bearer {JWT}"},
        )
        assert r.status_code == 500
        assert r.json()["error"] == {"code": "internal_error", "message": "internal error"}
    sentry_sdk.flush(5)
    assert fake_sentry.received.wait(5)
    raw = b"\n".join(fake_sentry.bodies).decode()
    events = fake_sentry.events()
    crashes = [
        e for e in events
        if any(x["type"] == "RuntimeError" for x in e.get("exception", {}).get("values", []))
    ]  # fmt: skip
    assert crashes, raw
    event = crashes[0]
    assert event["tags"]["request_id"] == request_id
    assert event["request"]["url"].endswith("/boom")
    # no token, ticket, transcript or audio anywhere in what was sent
    assert JWT not in raw and "eyJ" not in raw
    assert TRANSCRIPT not in raw and "billing" not in raw
    assert "x03\\\\x04" not in raw and "\\u0003\\u0004" not in raw
    frames = [f for x in event["exception"]["values"] for f in x["stacktrace"]["frames"]]
    assert frames and not any("vars" in f for f in frames)
    headers = {k.lower(): v for k, v in event["request"].get("headers", {}).items()}
    assert headers.get("authorization") in (None, "[scrubbed]", "[Filtered]")


class Failing:
    """An analyzer whose provider fails for good, with a token in its words."""

    name = "failing"

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        raise ProviderError("openai", f"rejected key Bearer {JWT}", retryable=False)

    async def aclose(self) -> None:
        pass


def test_a_failed_analysis_job_is_reported(tmp_path: Any, fake_sentry: FakeSentry) -> None:
    app = create_app(
        settings(tmp_path, sentry_dsn=fake_sentry.dsn), analyzer=Failing(), database=database()
    )
    with TestClient(app) as c:
        token = c.post(
            "/api/auth/register", json={"email": "s@example.com", "password": "correct horse"}
        ).json()["token"]
        summary = SessionSummary(
            transcript=TRANSCRIPT, duration=5.0, total_words=10, average_pace=120.0
        ).model_dump(by_alias=True)
        r = c.post(
            "/api/interviews/analyze",
            json={"roomName": "r1", "participantIdentity": "p1", "sessionData": summary},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code in (200, 201, 202), r.text
        sentry_sdk.flush(5)
        assert fake_sentry.received.wait(10)
    raw = b"\n".join(fake_sentry.bodies).decode()
    assert any(
        x["type"] == "ProviderError"
        for e in fake_sentry.events()
        for x in e.get("exception", {}).get("values", [])
    ), raw
    assert JWT not in raw and TRANSCRIPT not in raw


async def test_a_live_session_that_cannot_be_stored_is_reported(
    tmp_path: Any, fake_sentry: FakeSentry
) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError(f"database is down (Bearer {JWT})")

    request_id = uuid.uuid4().hex
    app = app_for(tmp_path, sentry_dsn=fake_sentry.dsn)
    async with serve(app) as srv:
        token = await account(srv.url)
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}
        async with connect(srv.ws_url, additional_headers=headers) as ws:
            c = Client(ws)
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, pcm(FIXTURES / "weakness.wav"))
            await c.next(lambda e: e.get("type") == "transcript" and e["isFinal"])
            app.state.services.interviews.submit = down
            await c.send({"action": "complete"})
            assert (await c.of_type("error"))["code"] == "finish_failed"
        sentry_sdk.flush(5)
    assert fake_sentry.received.wait(10)
    raw = b"\n".join(fake_sentry.bodies).decode()
    reported = [
        e for e in fake_sentry.events()
        if any(x["type"] == "ConnectionError" for x in e.get("exception", {}).get("values", []))
    ]  # fmt: skip
    assert reported, raw
    # the session's finish runs in the socket's tasks: the socket's request id
    assert {e["tags"]["request_id"] for e in reported} == {request_id}
    assert JWT not in raw and token not in raw
    words = truth("weakness")["transcript"]
    assert words[:40] not in raw
