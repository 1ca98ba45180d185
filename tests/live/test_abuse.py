"""The WebSocket under abuse: fuzzed messages, start limits, abandoned sessions, other rooms."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.analysis.sessions import FIXTURES
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for, fetch

KNOWN_CODES = {
    "bad_json", "unknown_action", "bad_start", "bad_resume", "bad_plan", "not_started",
    "already_started", "unknown_session", "frame_too_large", "bad_sample_rate",
    "livekit_not_configured", "room_taken",
}  # fmt: skip

# (what is sent, whether a session is started first); each must be answered with an error
# event of a known code, never an internal error, and leave the socket usable
_NESTED = "[" * 100_000 + "]" * 100_000
FUZZ: list[tuple[str | bytes, bool]] = [
    ("{not json", False),
    ("", False),
    ("null", False),
    ("[]", False),
    ('"start"', False),
    ("12345678901234567890123456789", False),
    (_NESTED, False),
    ('{"action": ' + _NESTED[:20_000] + _NESTED[-20_000:] + "}", False),
    ("9" * 5000, False),
    ("{}", False),
    ('{"action": null}', False),
    ('{"action": 5}', False),
    ('{"action": {"nested": "start"}}', False),
    ('{"action": "dance"}', False),
    ('{"action": "START"}', False),
    (b"\x00\x01" * 50, False),
    (b"", False),
    ('{"action": "complete"}', False),
    ('{"action": "resume"}', False),
    ('{"action": "resume", "sessionId": "../../etc/passwd"}', False),
    ('{"action": "resume", "sessionId": ""}', False),
    ('{"action": "resume", "sessionId": "' + "f" * 65 + '"}', False),
    ('{"action": "resume", "sessionId": 12}', False),
    ('{"action": "resume", "sessionId": "0123456789abcdef0123456789abcdef"}', False),
    ('{"action": "resume", "sessionId": "x", "lastSeq": -1}', False),
    ('{"action": "resume", "sessionId": "x", "lastSeq": 1e400}', False),
    ('{"action": "start", "audio": {"sampleRate": 99999999999999999999999}}', False),
    ('{"action": "start", "audio": {"sampleRate": "16000"}}', False),
    ('{"action": "start", "audio": {"sampleRate": 16000.5}}', False),
    ('{"action": "start", "audio": 7}', False),
    ('{"action": "start", "audio": {}, "roomName": "../x"}', False),
    ('{"action": "start", "audio": {}, "roomName": "' + "r" * 5000 + '"}', False),
    ('{"action": "start", "audio": {}, "plan": [1, 2]}', False),
    ('{"action": "start", "audio": {}, "plan": {"questions": 1e300}}', False),
    ('{"action": "start"}', False),
    ("x" * 1_000_000, False),
    (b"\x00" * 1_000_000, True),
    (b"", True),
    (b"\x01", True),
    (b"\x01\x02\x03", True),
    (json.dumps(STREAM), True),
    ('{"action": "start", "audio": {}}', True),
    ('{"action": "resume", "sessionId": "nope"}', True),
]


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record coach and uvicorn log, to look for tracebacks."""
    caplog.set_level(logging.INFO)
    handler = caplog.handler
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addHandler(handler)
    yield caplog
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).removeHandler(handler)


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        if record.name.startswith(("coach", "uvicorn")):
            assert record.exc_info is None, (record.name, record.getMessage())
            assert "Traceback" not in record.getMessage(), record.getMessage()
            assert record.levelno < logging.ERROR, (record.name, record.getMessage())


async def _healthy(srv: Any, token: str) -> None:
    async with httpx.AsyncClient(base_url=srv.url) as c:
        assert (await c.get("/health")).status_code == 200
    async with client(srv.ws_url, token) as c:
        await c.send({"action": "dance"})
        assert (await c.of_type("error"))["code"] == "unknown_action"


async def test_fuzzed_messages_get_named_errors_and_the_server_stays_healthy(
    tmp_path: Any, server_log: pytest.LogCaptureFixture
) -> None:
    app = app_for(tmp_path, rate_limit_session_per_account="1000/minute")
    async with serve(app) as srv:
        token = await account(srv.url)
        for i, (payload, started) in enumerate(FUZZ):
            async with client(srv.ws_url, token) as c:
                if started:
                    await c.send(STREAM)
                    await c.of_type("ready")
                await c.ws.send(payload)
                if started and isinstance(payload, bytes) and len(payload) <= 64_000:
                    # audio after start is taken (an odd byte waits for its pair): no answer
                    await c.send({"action": "dance"})
                event = await c.of_type("error", within=20)
                assert event["code"] in KNOWN_CODES, (i, event)
                # the socket still answers afterwards
                await c.send({"action": "dance"})
                assert (await c.of_type("error"))["code"] == "unknown_action", i
                if started:
                    await c.send({"action": "complete"})
                    await c.of_type("session_complete", within=30)
        # a frame beyond the socket's size limit closes that socket only
        async with client(srv.ws_url, token) as c:
            with pytest.raises(ConnectionClosed):
                await c.ws.send(b"\x00" * (17 * 1024 * 1024))
                for _ in range(10):
                    await c.ws.recv()
        await _healthy(srv, token)
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, pcm(FIXTURES / "weakness.wav")[: 3 * 32000])
            await c.send({"action": "complete"})
            await c.of_type("analysis_complete", within=30)
    _no_traceback(server_log)


async def test_starts_are_rate_limited_per_account(tmp_path: Any) -> None:
    app = app_for(tmp_path, rate_limit_session_per_account="2/minute")
    async with serve(app) as srv:
        token = await account(srv.url)
        other = await account(srv.url, "other@example.com")
        for _ in range(2):
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await c.send({"action": "complete"})
                await c.of_type("session_complete")
        async with client(srv.ws_url, token) as c:
            await c.send(STREAM)
            refused = await c.of_type("error")
            assert refused["code"] == "rate_limited" and 1 <= refused["retryAfter"] <= 60
        async with client(srv.ws_url, other) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await c.send({"action": "complete"})
            await c.of_type("session_complete")


async def _abandon(srv: Any, token: str) -> str:
    """Start a session, say a little, and vanish without `complete`; the session id."""
    async with client(srv.ws_url, token) as c:
        await c.send(STREAM)
        session_id = str((await c.of_type("ready"))["sessionId"])
        await stream(c, pcm(FIXTURES / "weakness.wav")[: 2 * 32000])
    return session_id


async def _stored(srv: Any, token: str, count: int, *, within: float = 30.0) -> int:
    """How many interviews the user has once there are `count` (or after `within`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        items = (await fetch(srv.url, token, "/api/interviews")).json()["items"]
        if len(items) >= count or loop.time() >= deadline:
            return len(items)
        await asyncio.sleep(0.1)


async def test_abandoned_sessions_are_capped_per_user_and_per_address(tmp_path: Any) -> None:
    # a long grace: without the caps nothing would be stored for ten minutes
    app = app_for(
        tmp_path,
        session_grace_seconds=600,
        max_abandoned_sessions_per_user=1,
        max_abandoned_sessions_per_address=2,
    )
    async with serve(app) as srv:
        mine = await account(srv.url, "me@example.com")
        await _abandon(srv, mine)
        assert await _stored(srv, mine, 1, within=1.0) == 0  # one waits out its grace
        await _abandon(srv, mine)
        # a second abandoned session of the same user: the first is stored at once
        assert await _stored(srv, mine, 1) == 1
        # and the user can still start (the per-user limit of 2 is not held by ghosts)
        async with client(srv.ws_url, mine) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await c.send({"action": "complete"})
            await c.of_type("session_complete")
        # many accounts from one address: at most two abandoned sessions wait together
        others = [await account(srv.url, f"ghost{i}@example.com") for i in range(2)]
        for token in others:
            await _abandon(srv, token)
        # this address now had three waiting (me's second, ghost0, ghost1): me's went first
        assert await _stored(srv, mine, 3) == 3
        assert await _stored(srv, others[0], 1, within=1.0) == 0


async def test_sessions_per_address_are_capped(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path, max_sessions_per_address=2)) as srv:
        tokens = [await account(srv.url, f"u{i}@example.com") for i in range(3)]
        async with (
            client(srv.ws_url, tokens[0]) as a,
            client(srv.ws_url, tokens[1]) as b,
            client(srv.ws_url, tokens[2]) as c,
        ):
            for ok in (a, b):
                await ok.send(STREAM)
                await ok.of_type("ready")
            await c.send(STREAM)
            assert (await c.of_type("error"))["code"] == "max_sessions_per_address"
            for ok in (a, b):
                await ok.send({"action": "complete"})
                await ok.of_type("session_complete")


async def test_a_stream_session_cannot_take_another_users_room(tmp_path: Any) -> None:
    async with serve(app_for(tmp_path)) as srv:
        victim = await account(srv.url, "victim@example.com")
        attacker = await account(srv.url, "attacker@example.com")
        named = {**STREAM, "roomName": "interview-42", "participantIdentity": "victim"}
        async with client(srv.ws_url, victim) as v:
            await v.send(named)
            await v.of_type("ready")
            await v.send({"action": "complete"})
            await v.of_type("session_complete")
        async with client(srv.ws_url, attacker) as a:
            await a.send(named)
            assert (await a.of_type("error"))["code"] == "room_taken"
        # the owner's next session in their room is not blocked
        async with client(srv.ws_url, victim) as v:
            await v.send(named)
            await v.of_type("ready")
