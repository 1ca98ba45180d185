"""Rate limits that stop attackers without locking owners out, and the password change."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from coach.app import create_app
from coach.settings import Settings
from coach.store.memory import in_process_client
from tests.service.test_api import FakeAnalyzer, _session

PASSWORD = "correct horse"
Dial = Callable[[str], httpx.AsyncClient]


def _settings(**overrides: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, jwt_secret="test-secret-" + "x" * 32, **overrides
    )


@contextlib.asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[tuple[Any, Dial]]:
    """The app with its lifespan, and clients that each come from an address of their own."""
    app = create_app(settings, analyzer=FakeAnalyzer(), database=(c := in_process_client(), c["t"]))
    opened: list[httpx.AsyncClient] = []

    def dial(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        opened.append(client := httpx.AsyncClient(transport=transport, base_url="http://t"))
        return client

    async with app.router.lifespan_context(app):
        try:
            yield app, dial
        finally:
            for client in opened:
                await client.aclose()


async def _register(c: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await c.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


async def _login(c: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await c.post("/api/auth/login", json={"email": email, "password": password})


def _refused(r: httpx.Response) -> int:
    """The Retry-After of a 429, checked for shape."""
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    retry_after = int(r.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    return retry_after


async def test_guessing_locks_the_guesser_out_never_the_owner() -> None:
    async with _app(_settings()) as (_, dial):
        owner_home, attacker = dial("192.0.2.1"), dial("198.51.100.7")
        await _register(owner_home, "victim@example.com")
        codes = [
            (await _login(attacker, "victim@example.com", f"guess no {i}")).status_code
            for i in range(5)
        ]
        assert codes == [401] * 5
        # the guesser is stopped, even with the right password: it cannot test guesses
        _refused(await _login(attacker, "victim@example.com", PASSWORD))
        _refused(await _login(attacker, "victim@example.com", "guess no 6"))
        # the owner, from their own address, signs in at once
        assert (await _login(owner_home, "victim@example.com", PASSWORD)).status_code == 200
        # and from a new address (a phone, a café) too
        cafe = dial("203.0.113.50")
        assert (await _login(cafe, "victim@example.com", PASSWORD)).status_code == 200


async def test_a_spray_over_many_emails_from_one_address_is_stopped() -> None:
    async with _app(_settings()) as (_, dial):
        sprayer, owner = dial("198.51.100.9"), dial("192.0.2.2")
        await _register(owner, "someone@example.com")
        codes = [
            (await _login(sprayer, f"user{i}@example.com", "Summer2024!")).status_code
            for i in range(30)
        ]
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}, codes
        assert (await _login(owner, "someone@example.com", PASSWORD)).status_code == 200


async def test_guessing_from_many_addresses_is_capped_per_account_but_not_for_a_new_one() -> None:
    settings = _settings(rate_limit_login_failures_per_account="6/hour")
    async with _app(settings) as (_, dial):
        await _register(dial("192.0.2.3"), "target@example.com")
        bots = [dial(f"198.51.100.{i}") for i in range(10, 16)]
        for bot in bots:  # one guess each: six failures on the account in all
            assert (await _login(bot, "target@example.com", "nope nope")).status_code == 401
        # every address that already failed on this account waits now
        for bot in bots[:3]:
            _refused(await _login(bot, "target@example.com", "again nope"))
        # an address that never failed on it is not refused: the owner gets in
        assert (
            await _login(dial("203.0.113.9"), "target@example.com", PASSWORD)
        ).status_code == 200


async def test_a_correct_sign_in_forgives_that_address_its_typos() -> None:
    async with _app(_settings()) as (_, dial):
        home = dial("192.0.2.4")
        await _register(home, "typo@example.com")
        for _ in range(4):
            assert (await _login(home, "typo@example.com", "correct hose")).status_code == 401
        assert (await _login(home, "typo@example.com", PASSWORD)).status_code == 200
        for _ in range(4):  # the window starts again: four more typos are still answered
            assert (await _login(home, "typo@example.com", "correct hose")).status_code == 401


async def test_an_unknown_email_costs_a_password_verification_like_a_known_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import coach.auth.users as users
    from coach.auth.tokens import DUMMY_HASH

    verified: list[str] = []
    real = users.verify_password

    def counting(stored: str, password: str) -> bool:
        verified.append(stored)
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", counting)
    async with _app(_settings()) as (_, dial):
        c = dial("192.0.2.5")
        await _register(c, "known@example.com")
        assert (await _login(c, "known@example.com", "wrong pass")).status_code == 401
        assert (await _login(c, "nobody@example.com", "wrong pass")).status_code == 401
    # one argon2 verification each: the known user's hash, then the dummy hash
    assert len(verified) == 2
    assert verified[0] != DUMMY_HASH and verified[1] == DUMMY_HASH
    assert verified[0].startswith("$argon2") and DUMMY_HASH.startswith("$argon2")


async def test_every_costly_route_is_limited_per_account_and_per_address() -> None:
    settings = _settings(
        rate_limit_register_per_address="3/hour",
        rate_limit_analyze_per_account="2/minute",
        rate_limit_analyze_per_address="3/minute",
        rate_limit_ws_ticket_per_account="1/minute",
        rate_limit_retry_per_account="1/minute",
        rate_limit_livekit_token_per_account="1/minute",
    )
    async with _app(settings) as (_, dial):
        office = dial("192.0.2.6")
        a = await _register(office, "a@example.com")
        b = await _register(office, "b@example.com")
        await _register(office, "c@example.com")
        retry_after = _refused(
            await office.post(
                "/api/auth/register", json={"email": "d@example.com", "password": PASSWORD}
            )
        )
        assert retry_after > 60  # an hour's window: not a second's wait
        assert await _register(dial("192.0.2.7"), "d@example.com")
        body = {"roomName": "r", "participantIdentity": "p", "sessionData": _session()}
        for _ in range(2):
            assert (
                await office.post("/api/interviews/analyze", json=body, headers=a)
            ).status_code == 202
        _refused(await office.post("/api/interviews/analyze", json=body, headers=a))
        # another account at the same address has its own allowance, up to the address's
        assert (
            await office.post("/api/interviews/analyze", json=body, headers=b)
        ).status_code == 202
        _refused(await office.post("/api/interviews/analyze", json=body, headers=b))
        assert (await office.post("/api/auth/ws-ticket", headers=a)).status_code == 201
        _refused(await office.post("/api/auth/ws-ticket", headers=a))
        assert (await office.post("/api/interviews/x/retry", headers=a)).status_code == 404
        _refused(await office.post("/api/interviews/x/retry", headers=a))
        token_body = {"roomName": "room-1", "participantName": "A"}
        # no LiveKit here: still counted, since the limit comes before the work
        assert (
            await office.post("/api/livekit/token", json=token_body, headers=a)
        ).status_code == 503
        _refused(await office.post("/api/livekit/token", json=token_body, headers=a))


async def test_limits_can_be_turned_off() -> None:
    async with _app(_settings(rate_limits=False)) as (_, dial):
        c = dial("192.0.2.8")
        await _register(c, "off@example.com")
        codes = {(await _login(c, "off@example.com", "wrong pass")).status_code for _ in range(8)}
        assert codes == {401}


def test_a_malformed_rate_is_refused_at_start() -> None:
    from coach.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="RATE_LIMIT_ANALYZE_PER_ACCOUNT"):
        load_settings(_env_file=None, rate_limit_analyze_per_account="lots")


async def test_changing_the_password_ends_every_older_token() -> None:
    async with _app(_settings()) as (_, dial):
        c = dial("192.0.2.9")
        old = await _register(c, "change@example.com")
        again = await _login(c, "change@example.com", PASSWORD)
        other_device = {"authorization": f"Bearer {again.json()['token']}"}
        url = "/api/me/password"
        wrong = await c.post(
            url,
            json={"currentPassword": "not it at all", "newPassword": "new plum tide"},
            headers=old,
        )
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
        weak = await c.post(
            url, json={"currentPassword": PASSWORD, "newPassword": "password1"}, headers=old
        )
        assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
        short = await c.post(
            url, json={"currentPassword": PASSWORD, "newPassword": "short"}, headers=old
        )
        assert short.status_code == 422
        ok = await c.post(
            url, json={"currentPassword": PASSWORD, "newPassword": "new plum tide"}, headers=old
        )
        assert ok.status_code == 200, ok.text
        fresh = {"authorization": f"Bearer {ok.json()['token']}"}
        for stale in (old, other_device):
            assert (await c.get("/api/me", headers=stale)).status_code == 401
        assert (await c.get("/api/me", headers=fresh)).status_code == 200
        assert (await _login(c, "change@example.com", PASSWORD)).status_code == 401
        assert (await _login(c, "change@example.com", "new plum tide")).status_code == 200


async def test_password_guessing_through_a_stolen_token_is_limited() -> None:
    async with _app(_settings()) as (_, dial):
        c = dial("192.0.2.10")
        h = await _register(c, "stolen@example.com")
        codes = [
            (
                await c.post(
                    "/api/me/password",
                    json={"currentPassword": f"guess no {i}", "newPassword": "new plum tide"},
                    headers=h,
                )
            ).status_code
            for i in range(6)
        ]
        assert codes[:5] == [403] * 5 and codes[5] == 429


async def test_with_mongodb_the_counters_live_in_its_database() -> None:
    from limits.aio.storage import MongoDBStorage

    from coach.ratelimits import RateLimits

    limits = RateLimits(_settings(mongodb_uri="mongodb://db.invalid:27017"))
    try:
        assert isinstance(limits.storage, MongoDBStorage)
        assert limits.storage.database.name == "coach"
    finally:
        await limits.aclose()


async def test_instances_on_one_mongodb_share_their_counters() -> None:
    import os
    import uuid

    from coach.ratelimits import RateLimited, RateLimits

    uri = os.environ.get("COACH_TEST_MONGODB_URI")
    if not uri:
        pytest.skip("COACH_TEST_MONGODB_URI is unset: no MongoDB server to run against")
    settings = _settings(
        mongodb_uri=uri,
        mongodb_database=f"coach_test_{uuid.uuid4().hex[:8]}",
        rate_limit_analyze_per_account="2/minute",
    )
    one, two = RateLimits(settings), RateLimits(settings)
    try:
        await one.hit("analyze", address="192.0.2.1", account="u1")
        await two.hit("analyze", address="192.0.2.2", account="u1")
        with pytest.raises(RateLimited):
            await one.hit("analyze", address="192.0.2.3", account="u1")
    finally:
        await one.storage.storage.drop_database(settings.mongodb_database)  # type: ignore[attr-defined]
        await one.aclose()
        await two.aclose()


async def test_counters_name_no_email_address_or_user() -> None:
    from limits.aio.storage import MemoryStorage

    async with _app(_settings()) as (app, dial):
        c = dial("192.0.2.77")
        h = await _register(c, "private@example.com")
        assert (await _login(c, "private@example.com", "wrong pass")).status_code == 401
        assert (await c.post("/api/auth/ws-ticket", headers=h)).status_code == 201
        user_id = (await c.get("/api/me", headers=h)).json()["id"]
        storage = app.state.services.rate_limits.storage
        assert isinstance(storage, MemoryStorage)
        keys = " ".join([*storage.events, *storage.storage])
        assert keys  # the counters exist
        for secret in ("private@example.com", "192.0.2.77", user_id):
            assert secret not in keys
