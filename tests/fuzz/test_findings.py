"""What fuzzing found, pinned: each request once, against the real app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from coach.app import create_app
from coach.settings import Settings
from coach.store.memory import in_process_client
from tests.service.test_api import FakeAnalyzer, _session


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = Settings(_env_file=None, jwt_secret="test-secret-" + "x" * 32)  # type: ignore[call-arg,arg-type]
    app = create_app(settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["t"]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            r = await client.post(
                "/api/auth/register", json={"email": "f@example.com", "password": "plum tide ox"}
            )
            yield client, {"authorization": f"Bearer {r.json()['token']}"}


def _analyze(**session: Any) -> dict[str, Any]:
    return {"roomName": "r", "participantIdentity": "p", "sessionData": {**_session(), **session}}


def _raw(duration: bytes) -> bytes:
    head = b'{"roomName": "r", "participantIdentity": "p", "sessionData": {"duration": '
    return head + duration + b"}}"


async def test_an_integer_past_64_bits_is_refused_not_a_server_error(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, h = api
    r = await c.post("/api/interviews/analyze", json=_analyze(totalWords=2**64), headers=h)
    assert r.status_code == 422 and "64 bits" in r.json()["error"]["message"]
    # an unknown field is ignored whatever it holds
    r = await c.post("/api/interviews/analyze", json=_analyze(huge=2**80), headers=h)
    assert r.status_code == 202
    r = await c.post(
        "/api/interviews/analyze",
        content=_raw(b"NaN"),
        headers={**h, "content-type": "application/json"},
    )
    assert r.status_code == 400
    r = await c.post(
        "/api/interviews/analyze",
        content=_raw(b"1e999"),
        headers={**h, "content-type": "application/json"},
    )
    assert r.status_code == 422


async def test_a_number_as_a_string_is_refused_and_a_whole_float_is_an_integer(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, h = api
    question = {"text": "q", "askedAt": 1.0, "responseLatency": "1.5"}
    r = await c.post("/api/interviews/analyze", json=_analyze(questions=[question]), headers=h)
    assert r.status_code == 422 and "responseLatency" in r.json()["error"]["message"]
    r = await c.post("/api/interviews/analyze", json=_analyze(totalWords=7.0), headers=h)
    assert r.status_code == 202


async def test_the_documented_email_pattern_is_the_servers(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, _ = api
    doc = (await c.get("/openapi.json")).json()
    pattern = doc["components"]["schemas"]["Credentials"]["properties"]["email"]["pattern"]
    for email, ok in (
        ("a@b", True),
        ("a\u0085b@example.com", True),  # NEL: whitespace to Python, not to JavaScript
        ("a\ufeffb@example.com", True),  # BOM: the other way round
        ("a b@example.com", False),
        ("a@b@c", False),
        ("a\tb@example.com", False),
    ):
        assert bool(re.fullmatch(pattern, email)) is ok, email
        r = await c.post("/api/auth/register", json={"email": email, "password": "plum tide ox"})
        assert (r.status_code == 201) is ok, (email, r.text)


async def test_query_limits_are_the_documented_integers(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, h = api
    doc = (await c.get("/openapi.json")).json()
    params = {p["name"]: p for p in doc["paths"]["/api/interviews"]["get"]["parameters"]}
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    for limit, status in (("", 400), (" 5", 400), ("\u0665", 400), ("0", 400), ("5", 200)):
        r = await c.get("/api/interviews", params={"limit": limit}, headers=h)
        assert r.status_code == status, (limit, r.text)


async def test_a_405_says_which_methods_are_allowed(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, h = api
    r = await c.request("TRACE", "/api/me", headers=h)
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "DELETE"}
    doc = (await c.get("/openapi.json")).json()
    # a POST that answers 204 documents it
    assert "204" in doc["paths"]["/api/me/sign-out-everywhere"]["post"]["responses"]


async def test_health_says_up_and_nothing_else(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    c, _ = api
    r = await c.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
