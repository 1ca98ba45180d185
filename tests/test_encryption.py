"""Encryption at rest: the key hierarchy, sealed values, and what the database really holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.encryption import (
    EncryptionError,
    Vault,
    new_key_text,
    parse_key,
    seal,
    unseal,
)
from coach.settings import Settings
from coach.store.memory import in_process_client
from tests.analysis.sessions import from_truth, truth


def test_a_data_key_opens_only_for_its_user_and_under_a_known_master_key() -> None:
    vault = Vault(new_key_text())
    key = bytes(range(32))
    wrapped = vault.wrap(key, "u1")
    assert vault.unwrap(wrapped, "u1") == (key, False)
    with pytest.raises(EncryptionError):
        vault.unwrap(wrapped, "u2")  # a wrapped key copied onto another account
    with pytest.raises(EncryptionError):
        Vault(new_key_text()).unwrap(wrapped, "u1")  # another master key


def test_master_keys_rotate_old_ones_still_open_and_are_flagged_for_rewrap() -> None:
    old, new = new_key_text(), new_key_text()
    wrapped = Vault(old).wrap(b"k" * 32, "u1")
    rotated = Vault(new, [old])
    assert rotated.unwrap(wrapped, "u1") == (b"k" * 32, True)
    assert rotated.unwrap(rotated.wrap(b"k" * 32, "u1"), "u1") == (b"k" * 32, False)


def test_a_sealed_value_opens_only_where_it_was_sealed_and_unaltered() -> None:
    key = bytes(32)
    token = seal(key, {"words": ["I", "led"]}, "interview:a:sealed")
    assert "led" not in token
    assert unseal(key, token, "interview:a:sealed") == {"words": ["I", "led"]}
    with pytest.raises(EncryptionError):
        unseal(key, token, "interview:b:sealed")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(EncryptionError):
        unseal(key, tampered, "interview:a:sealed")


@pytest.mark.parametrize("bad", ["", "short", "a2V5", "kid:" + "A" * 10])
def test_a_bad_master_key_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_key(bad)
    with pytest.raises(ValueError, match="DATA_ENCRYPTION_KEY"):
        Settings(jwt_secret="s" * 40, data_encryption_key=bad or " ", _env_file=None)  # type: ignore[call-arg,arg-type]


def test_production_refuses_to_start_without_a_master_key() -> None:
    with pytest.raises(ValueError, match="DATA_ENCRYPTION_KEY is required"):
        Settings(coach_env="production", jwt_secret="s" * 40, mongodb_uri="mongodb://x",
                 _env_file=None)  # type: ignore[call-arg]  # fmt: skip


def app_with(tmp_path: Path, db: Any, key: str, old: str | None = None) -> Any:
    settings = Settings(jwt_secret="test-secret-" + "e" * 32, data_dir=tmp_path,
                        data_encryption_key=key, data_encryption_old_keys=old,
                        _env_file=None)  # type: ignore[call-arg,arg-type]  # fmt: skip
    return create_app(settings, analyzer=OfflineCoach(), database=db)


async def stored_interview(app: Any) -> tuple[dict[str, str], str, dict[str, Any]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as http:  # fmt: skip
        creds = {"email": "sealed@example.com", "password": "correct horse battery"}
        await http.post("/api/auth/register", json=creds)
        token = (await http.post("/api/auth/login", json=creds)).json()["token"]
        h = {"authorization": f"Bearer {token}"}
        body = {"roomName": "r", "participantIdentity": "p",
                "sessionData": from_truth(truth("weakness")).model_dump(by_alias=True)}  # fmt: skip
        iid = (await http.post("/api/interviews/analyze", json=body, headers=h)).json()["id"]
        for _ in range(500):
            got = (await http.get(f"/api/interviews/{iid}", headers=h)).json()
            if got["status"] == "completed":
                return h, iid, got
            await asyncio.sleep(0.01)
    raise AssertionError("never analyzed")


async def test_the_database_holds_no_word_the_owner_reads_them_and_erasure_shreds(
    tmp_path: Path,
) -> None:
    c = in_process_client()
    db = (c, c["coach"])
    key = new_key_text()
    app = app_with(tmp_path, db, key)
    said = [w for w in truth("weakness")["transcript"].split() if len(w) > 6][:6]
    async with app.router.lifespan_context(app):
        h, iid, got = await stored_interview(app)
        raw = await db[1].interviews.find_one({"_id": iid})
        user = await db[1].users.find_one({})
        wrapped = (await db[1].dataKeys.find_one({"_id": user["_id"]}))["wrapped"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:  # fmt: skip
            assert (await http.delete("/api/me", headers=h)).status_code == 204
        # the account and its data key are gone from the store
        assert await db[1].users.find_one({}) is None
        assert await db[1].dataKeys.find_one({}) is None
        keys = app.state.services.interviews.keys
        with pytest.raises(EncryptionError):
            await keys.get(user["_id"])
    # the owner read every word back, the analysis included
    assert got["words"] and got["aiAnalysis"]["findings"]
    assert any(w in got["transcript"] for w in said)
    # what the database holds quotes none of it
    text = repr(raw)
    assert raw["sealed"].startswith("v1.") and raw["sealedAnalysis"].startswith("v1.")
    assert raw["words"] == [] and raw["transcript"] == "" and raw["aiAnalysis"] is None
    assert not any(w in text for w in said)
    assert raw["totalWords"] == got["totalWords"]  # aggregates stay in clear for operations
    # the wrapped key alone, without the master key, opens nothing
    with pytest.raises(EncryptionError):
        Vault(new_key_text()).unwrap(wrapped, user["_id"])
    # with the master key and the wrapped key it would: shredding is the deletion of the
    # wrapped key, kept in its own collection (dataKeys) so backups of the data can leave it out
    data_key, _ = Vault(key).unwrap(wrapped, user["_id"])
    assert unseal(data_key, raw["sealed"], f"interview:{iid}:sealed")["words"]


async def test_a_rotated_master_key_still_opens_and_rewraps(tmp_path: Path) -> None:
    c = in_process_client()
    db = (c, c["coach"])
    old, new = new_key_text(), new_key_text()
    app = app_with(tmp_path, db, old)
    async with app.router.lifespan_context(app):
        h, iid, before = await stored_interview(app)
    app = app_with(tmp_path, db, new, old)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as http:  # fmt: skip
            after = (await http.get(f"/api/interviews/{iid}", headers=h)).json()
    assert after == before
    stored = await db[1].dataKeys.find_one({})
    assert stored["wrapped"].split(".")[0] == parse_key(new)[0]
