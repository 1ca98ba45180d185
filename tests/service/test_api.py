"""The service core driven over HTTP through the real app and its lifespan."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import pytest

from coach.analysis.feedback import AiAnalysis
from coach.app import create_app
from coach.interviews.service import ServiceOptions
from coach.settings import Settings
from coach.speech.summary import SessionSummary
from coach.store.memory import in_process_client
from tests.paths import FIXTURES

FIXTURE = FIXTURES / "weakness.json"


def _session() -> dict[str, Any]:
    truth = json.loads(FIXTURE.read_text())
    summary = SessionSummary(
        transcript=truth["transcript"],
        duration=truth["duration"],
        total_words=truth["totalWords"],
        average_pace=truth["totalWords"] / truth["duration"] * 60,
    )
    return summary.model_dump(by_alias=True)


class FakeAnalyzer:
    """Scriptable analyzer: succeeds, fails, or blocks until released."""

    name = "fake"

    def __init__(self, *, fail: bool = False, block: bool = False) -> None:
        self.fail = fail
        self.release = asyncio.Event()
        if not block:
            self.release.set()
        self.calls = 0

    async def analyze(
        self, summary: SessionSummary, *, questions: Sequence[str] = ()
    ) -> AiAnalysis:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("scripted failure")
        return AiAnalysis.model_validate(
            {
                "overallScore": 70,
                "summary": f"{summary.total_words} words",
                "paceAnalysis": "ok",
                "fillerAnalysis": "ok",
                "confidenceScore": 60,
                "improvements": [],
                "highlights": [],
            }
        )

    async def aclose(self) -> None:
        return None


Database = Callable[[], tuple[Any, Any]]


@pytest.fixture(params=["in-process", "mongodb"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """The same tests on the in-process store and, when one is given, a real MongoDB."""
    if request.param == "in-process":
        yield lambda: (client := in_process_client(), client["coach"])
        return
    uri = os.environ.get("COACH_TEST_MONGODB_URI")
    if not uri:
        pytest.skip("COACH_TEST_MONGODB_URI is unset: no MongoDB server to run against")
    from pymongo import AsyncMongoClient

    client: Any = AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"coach_test_{uuid.uuid4().hex[:8]}"
    yield lambda: (client, client[name])
    await client.drop_database(name)
    await client.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(jwt_secret="test-secret-" + "x" * 32, _env_file=None)  # type: ignore[call-arg,arg-type]


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def _token(c: httpx.AsyncClient, email: str = "a@example.com") -> dict[str, str]:
    r = await c.post("/api/auth/register", json={"email": email, "password": "correct horse"})
    assert r.status_code == 201, r.text
    r = await c.post("/api/auth/login", json={"email": email, "password": "correct horse"})
    assert r.status_code == 200
    return {"authorization": f"Bearer {r.json()['token']}"}


async def _poll(c: httpx.AsyncClient, h: dict[str, str], iid: str, want: str) -> dict[str, Any]:
    for _ in range(200):
        r = await c.get(f"/api/interviews/{iid}", headers=h)
        if r.json()["status"] == want:
            return dict(r.json())
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached {want}: {r.json()['status']}")


async def test_lifecycle(settings: Settings, store: Database) -> None:
    app = create_app(settings, analyzer=FakeAnalyzer(), database=store())
    async for c in _client(app):
        h = await _token(c)
        body = {"roomName": "r1", "participantIdentity": "p1", "sessionData": _session()}
        r = await c.post("/api/interviews/analyze", json=body, headers=h)
        assert r.status_code == 202
        iid = r.json()["id"]
        # a second interview in the same room is a new interview, never dropped
        second = await c.post("/api/interviews/analyze", json=body, headers=h)
        assert second.status_code == 202 and second.json()["id"] != iid
        # a retried submission with the same Idempotency-Key is the same interview
        keyed = {**h, "idempotency-key": "retry-1"}
        first = await c.post("/api/interviews/analyze", json=body, headers=keyed)
        retried = await c.post("/api/interviews/analyze", json=body, headers=keyed)
        assert first.json()["id"] == retried.json()["id"] != iid
        bad = await c.post(
            "/api/interviews/analyze", json=body, headers={**h, "idempotency-key": ""}
        )
        assert bad.status_code == 400
        for other in (second.json()["id"], first.json()["id"]):
            assert (await c.delete(f"/api/interviews/{other}", headers=h)).status_code == 204
        done = await _poll(c, h, iid, "completed")
        assert done["totalWords"] == body["sessionData"]["totalWords"]
        assert done["aiAnalysis"]["summary"] == f"{done['totalWords']} words"
        assert dt.datetime.fromisoformat(done["createdAt"]).tzinfo is not None
        listed = (await c.get("/api/interviews?status=completed", headers=h)).json()
        assert [i["id"] for i in listed["items"]] == [iid]
        assert (await c.delete(f"/api/interviews/{iid}", headers=h)).status_code == 204
        assert (await c.get(f"/api/interviews/{iid}", headers=h)).status_code == 404
        me = await c.get("/api/me", headers=h)
        assert me.json()["email"] == "a@example.com"
        assert (await c.delete("/api/me", headers=h)).status_code == 204
        assert (await c.get("/api/me", headers=h)).status_code == 401


async def test_errors_and_cross_user(settings: Settings, store: Database) -> None:
    app = create_app(settings, analyzer=FakeAnalyzer(fail=True), database=store())
    async for c in _client(app):
        h = await _token(c)
        other = await _token(c, "b@example.com")
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}
        iid = (await c.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
        failed = await _poll(c, h, iid, "failed")
        # the analyzer's own words stay in the server's log, never in what the client sees
        assert "retry" in failed["error"] and "scripted" not in failed["error"]
        assert (await c.get(f"/api/interviews/{iid}", headers=other)).status_code == 404
        assert (await c.delete(f"/api/interviews/{iid}", headers=other)).status_code == 404
        assert (await c.get("/api/interviews/nope", headers=h)).status_code == 404
        r = await c.post(f"/api/interviews/{iid}/retry", headers=h)
        assert r.status_code == 202 and r.json()["status"] == "processing"
        assert (await c.get("/api/interviews")).status_code == 401
        assert (
            await c.get("/api/interviews", headers={"authorization": "Bearer x"})
        ).status_code == 401
        bad = await c.post("/api/interviews/analyze", json={"roomName": "r"}, headers=h)
        assert bad.status_code == 422 and "participantIdentity" in bad.json()["error"]["message"]
        raw = await c.post(
            "/api/auth/login", content=b"{", headers={"content-type": "application/json"}
        )
        assert raw.status_code == 400
        dup = await c.post(
            "/api/auth/register", json={"email": "a@example.com", "password": "xxxxxxxx"}
        )
        assert dup.status_code == 409
        big = await c.post("/api/interviews/analyze", content=b"x" * (6 * 1024 * 1024), headers=h)
        assert big.status_code == 413
        codes = [
            (
                await c.post(
                    "/api/auth/login", json={"email": "z@example.com", "password": "wrongpass"}
                )
            ).status_code
            for _ in range(7)
        ]
        assert codes[0] == 401 and codes[-1] == 429
        assert (await c.get("/health")).status_code == 200
        assert "AnalyzeRequest" in (await c.get("/openapi.json")).json()["components"]["schemas"]


async def test_expired_lease_is_finished_after_restart(settings: Settings, store: Database) -> None:
    database = store()
    blocked = FakeAnalyzer(block=True)
    opts = ServiceOptions(lease_seconds=0.05, recovery_interval_seconds=0.05)
    first = create_app(settings, analyzer=blocked, database=database, options=opts)
    async for c in _client(first):
        h = await _token(c)
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}
        iid = (await c.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
        for _ in range(100):
            if blocked.calls:
                break
            await asyncio.sleep(0.01)
        assert blocked.calls == 1
    # the first app "died" mid-analysis; a second one on the same database picks it up
    second = create_app(settings, analyzer=FakeAnalyzer(), database=database, options=opts)
    async for c in _client(second):
        done = await _poll(c, h, iid, "completed")
        assert done["aiAnalysis"] is not None


async def test_openapi_describes_every_route_with_the_models_the_routes_use(
    settings: Settings, store: Database
) -> None:
    from coach.api.routes import ROUTES
    from coach.api.schemas import InterviewOut

    app = create_app(settings, analyzer=FakeAnalyzer(), database=store())
    async for c in _client(app):
        doc = (await c.get("/openapi.json")).json()
        for route in ROUTES:
            path = getattr(route, "path", "")
            if path == "/openapi.json":
                continue
            methods = {m.lower() for m in (getattr(route, "methods", None) or ())} - {"head"}
            assert set(doc["paths"][path]) == methods, path
        op = doc["paths"]["/api/interviews/{id}"]["get"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/InterviewOut"
        }
        assert {"401", "404", "503"} <= set(op["responses"])
        schemas = doc["components"]["schemas"]
        assert "aiAnalysis" in schemas["InterviewOut"]["properties"]
        assert "sessionData" in schemas["AnalyzeRequest"]["properties"]
        # a real response satisfies the documented model, field for field
        h = await _token(c)
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}
        iid = (await c.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
        got = await _poll(c, h, iid, "completed")
        assert set(got) <= set(schemas["InterviewOut"]["properties"])
        assert InterviewOut.model_validate(got).model_dump(mode="json", by_alias=True) == got
        created = dt.datetime.fromisoformat(got["createdAt"])
        assert created.tzinfo is not None and created.microsecond % 1000 == 0


async def test_database_down_after_start_answers_503_everywhere(
    settings: Settings,
) -> None:
    from pymongo import AsyncMongoClient

    from coach.store.documents import DOCUMENTS

    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    async for c in _client(app):
        h = await _token(c)
        # the server goes away: its name no longer resolves (.invalid never does)
        dead: Any = AsyncMongoClient("mongodb://db.invalid:27017", serverSelectionTimeoutMS=200)
        try:
            for document in DOCUMENTS:
                bound = document.get_settings()
                bound.pymongo_db = dead["coach"]
                bound.pymongo_collection = dead["coach"][bound.name]
            app.state.services.db = dead["coach"]
            requests = [
                ("GET", "/health", None),
                ("POST", "/api/auth/register", {"email": "n@example.com", "password": "n0t-comm"}),
                ("POST", "/api/auth/login", {"email": "a@example.com", "password": "horse123"}),
                ("GET", "/api/me", None),
                ("GET", "/api/interviews", None),
                ("GET", "/api/interviews/x", None),
                ("DELETE", "/api/interviews/x", None),
                ("POST", "/api/interviews/x/retry", None),
                ("GET", "/api/interviews/x/recording", None),
                ("POST", "/api/interviews/analyze",
                 {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}),
            ]  # fmt: skip
            for method, path, body in requests:
                r = await c.request(method, path, json=body, headers=h)
                assert r.status_code == 503, (method, path, r.text)
                assert r.json()["error"]["code"] == "database_unavailable"
                # no internal detail (host, driver error) reaches a client
                assert "invalid" not in r.text and "27017" not in r.text, r.text
        finally:
            await dead.close()


async def test_oversized_body_without_length_is_refused_unread(settings: Settings) -> None:
    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 64 * 1024 * 1024:
            sent += 65536
            yield b" " * 65536

    async for c in _client(app):
        h = await _token(c)
        r = await c.post("/api/interviews/analyze", content=endless(), headers=h)
        assert r.status_code == 413
        assert "5242880" in r.json()["error"]["message"]
    assert sent < 16 * 1024 * 1024


async def test_tokens_must_carry_exp_iat_and_sub(settings: Settings) -> None:
    import jwt

    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    async for c in _client(app):
        h = await _token(c)
        user_id = (await c.get("/api/me", headers=h)).json()["id"]
        now = int(dt.datetime.now(dt.UTC).timestamp())
        for claims in (
            {"sub": user_id},
            {"sub": user_id, "iat": now},
            {"iat": now, "exp": now + 60},
        ):
            forged = jwt.encode(claims, secret, "HS256")
            r = await c.get("/api/me", headers={"authorization": f"Bearer {forged}"})
            assert r.status_code == 401, claims
        full = jwt.encode({"sub": user_id, "iat": now, "exp": now + 60}, secret, "HS256")
        assert (
            await c.get("/api/me", headers={"authorization": f"Bearer {full}"})
        ).status_code == 200


async def test_the_site_root_opens_the_practice_page(settings: Settings) -> None:
    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    async for c in _client(app):
        r = await c.get("/")
        assert r.status_code == 307 and r.headers["location"] == "/app/"


async def test_no_completion_event_is_kept_and_recovery_never_runs_a_job_twice(
    settings: Settings,
) -> None:
    analyzer = FakeAnalyzer(block=True)
    opts = ServiceOptions(max_concurrent_analyses=1)
    app = create_app(
        settings,
        analyzer=analyzer,
        database=(c := in_process_client(), c["coach"]),
        options=opts,
    )
    async for c in _client(app):
        h = await _token(c)
        svc = app.state.services.interviews
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}
        ids = [
            (await c.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
            for _ in range(5)
        ]
        # four wait for the one running; recovery passes must not queue them again
        for _ in range(3):
            await svc.recover_once()
        assert len(svc._tasks) == 5
        analyzer.release.set()
        for iid in ids:
            await _poll(c, h, iid, "completed")
        assert analyzer.calls == 5
        assert svc._done == {} and svc._queued == {}


async def test_common_passwords_are_refused_with_a_clear_message(settings: Settings) -> None:
    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    async for c in _client(app):
        for password in ("password", "12345678", "Qwertyuiop", "dana.smith"):
            r = await c.post(
                "/api/auth/register", json={"email": "dana.smith@example.com", "password": password}
            )
            assert r.status_code == 400, password
            assert r.json()["error"]["code"] == "weak_password"
            assert (
                "common" in r.json()["error"]["message"] or "email" in r.json()["error"]["message"]
            )
        ok = await c.post(
            "/api/auth/register",
            json={"email": "dana.smith@example.com", "password": "plum tide ox"},
        )
        assert ok.status_code == 201


async def test_sign_out_everywhere_revokes_every_earlier_token(settings: Settings) -> None:
    app = create_app(
        settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["coach"])
    )
    async for c in _client(app):
        phone = await _token(c)
        laptop = await _token_again(c)
        assert (await c.get("/api/me", headers=laptop)).status_code == 200
        assert (await c.post("/api/me/sign-out-everywhere", headers=phone)).status_code == 204
        for old in (phone, laptop):
            assert (await c.get("/api/me", headers=old)).status_code == 401
            r = await c.post("/api/auth/ws-ticket", headers=old)
            assert r.status_code == 401
        fresh = await _token_again(c)
        assert (await c.get("/api/me", headers=fresh)).status_code == 200


async def _token_again(c: httpx.AsyncClient, email: str = "a@example.com") -> dict[str, str]:
    r = await c.post("/api/auth/login", json={"email": email, "password": "correct horse"})
    assert r.status_code == 200
    return {"authorization": f"Bearer {r.json()['token']}"}
