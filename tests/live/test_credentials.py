"""No credential in a URL: header or single-use ticket; `?token=` refused; logs keep neither."""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from coach.auth.tickets import TicketBook
from tests.analysis.sessions import FIXTURES
from tests.live.server import account, client, pcm, serve, stream
from tests.live.test_stream_sessions import STREAM, app_for


async def _ticket(url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.post("/api/auth/ws-ticket", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert r.json()["expiresIn"] > 0
    return str(r.json()["ticket"])


async def _refused(url: str, token: str | None, **kw: Any) -> int:
    async with client(url, token, **kw) as c:
        with pytest.raises(ConnectionClosed) as closed:
            await c.ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_full_session_logs_neither_the_token_nor_the_ticket(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with serve(app_for(tmp_path, "weakness")) as srv:
        # the test server starts quiet and uvicorn's loggers do not propagate: listen to them
        for name in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).setLevel(logging.INFO)
            logging.getLogger(name).addHandler(caplog.handler)
        token = await account(srv.url)
        ticket = await _ticket(srv.url, token)
        async with client(srv.ws_url, None, ticket=ticket) as c:
            await c.send(STREAM)
            await c.of_type("ready")
            await stream(c, pcm(FIXTURES / "weakness.wav")[: 5 * 32000])
            await c.send({"action": "complete"})
            await c.of_type("session_complete", within=30)
            await c.of_type("analysis_complete", within=30)
        # single use: the same ticket never opens a second socket
        assert await _refused(srv.ws_url, None, ticket=ticket) == 4401
        # the JWT in the query string is refused even though it is valid
        assert await _refused(srv.ws_url, token, query_token=True) == 4401
        assert await _refused(srv.ws_url, None, ticket="made-up") == 4401
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).removeHandler(caplog.handler)
    # the server's lines only: the test's own WebSocket client logs the URL it dialled
    server = [r for r in caplog.records if r.name.startswith(("coach", "uvicorn"))]
    logged = "\n".join(r.getMessage() for r in server)
    assert "WebSocket /" in logged  # the access lines were captured, and they are clean
    assert token not in logged and ticket not in logged


def test_tickets_expire_and_are_used_once() -> None:
    now = [0.0]
    book = TicketBook(ttl=30, limit=2, clock=lambda: now[0])
    a = book.issue("u1")
    assert book.redeem(a) == "u1" and book.redeem(a) is None
    b = book.issue("u1")
    now[0] = 31
    assert book.redeem(b) is None
    c, d, e = book.issue("u1"), book.issue("u2"), book.issue("u3")
    assert book.redeem(c) is None  # the oldest gives way past the limit
    book.revoke_user("u2")
    assert book.redeem(d) is None and book.redeem(e) == "u3"


async def test_files_under_data_dir_are_private_whatever_the_umask(tmp_path: Any) -> None:
    data = tmp_path / "data"
    old = os.umask(0o022)  # the usual umask: new files would be world-readable
    try:
        app = app_for(data, "weakness")
        async with serve(app) as srv:
            token = await account(srv.url)
            async with client(srv.ws_url, token) as c:
                await c.send(STREAM)
                await c.of_type("ready")
                await stream(c, pcm(FIXTURES / "weakness.wav")[: 4 * 32000])
                # mid-session: the journal and the growing recording exist once the file
                # work queued so far has run (a file thread gathers its jobs for a moment)
                await app.state.services.sessions.files.drain()
                live = [p for p in data.rglob("*") if p.is_file()]
                assert any(p.suffix == ".jsonl" for p in live), live
                assert any(p.name.endswith(".part") for p in live), live
                modes = {p: stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
                await c.send({"action": "complete"})
                await c.of_type("analysis_complete", within=30)
        modes |= {p: stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    finally:
        os.umask(old)
    # files seen mid-session may be gone (the journal, the .part); each was private while it lived
    for path, mode in modes.items():
        assert mode in (0o700, 0o600), (path, oct(mode))
        if path.exists():
            assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
