"""Encryption at rest: what candidates said is sealed with a key of their own.

Envelope encryption with AES-256-GCM (`cryptography`):
- each user has a random 256-bit data key, stored only wrapped (sealed) by a master key from
  settings (`DATA_ENCRYPTION_KEY`), in its own collection (`dataKeys`); erasing the account
  deletes it, so every copy of their interviews without it (a backup of the data, a dump)
  becomes unreadable: crypto-shredding;
- master keys rotate: `DATA_ENCRYPTION_OLD_KEYS` still unwrap, the current key wraps, and a
  data key found under an old master key is rewrapped under the current one when next used;
- every sealed value is bound to where it lives (associated data: the interview id and the
  field), so a ciphertext copied into another document or field does not open.

In development with no key, one is generated once into `DATA_DIR/keys/master.key` (0600);
production refuses to start without `DATA_ENCRYPTION_KEY`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from coach.private_files import private_dir, private_file

log = logging.getLogger("coach.encryption")

_NONCE = 12
_VERSION = "v1"
# unwrapped data keys kept in memory, so a page of interviews costs no unwrap each
_CACHE = 10_000


class EncryptionError(Exception):
    """A key is missing or a sealed value does not open (wrong key, altered, moved)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def parse_key(text: str) -> tuple[str, bytes]:
    """A master key setting, `[kid:]base64-of-32-bytes`, as (key id, key)."""
    kid, _, b64 = text.strip().rpartition(":")
    try:
        key = base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError) as e:
        raise ValueError("a data encryption key must be base64 of 32 bytes") from e
    if len(key) != 32:
        raise ValueError(f"a data encryption key must be 32 bytes, got {len(key)}")
    return kid or hashlib.sha256(key).hexdigest()[:8], key


def new_key_text() -> str:
    """A fresh master key in the setting's format (for `DATA_ENCRYPTION_KEY`)."""
    return _b64(AESGCM.generate_key(bit_length=256))


class Vault:
    """The master keys: wraps and unwraps users' data keys."""

    def __init__(self, current: str, old: list[str] | None = None) -> None:
        self.kid, key = parse_key(current)
        self._keys = {self.kid: AESGCM(key)}
        for text in old or []:
            kid, k = parse_key(text)
            self._keys.setdefault(kid, AESGCM(k))

    @classmethod
    def from_settings(cls, key: SecretStr | None, old: SecretStr | None, data_dir: Path) -> Vault:
        """From `DATA_ENCRYPTION_KEY` (and old keys), or the development key under DATA_DIR."""
        olds = [k for k in (old.get_secret_value().split(",") if old else []) if k.strip()]
        if key is not None:
            return cls(key.get_secret_value(), olds)
        return cls(development_key(data_dir), olds)

    def wrap(self, data_key: bytes, user_id: str) -> str:
        """`data_key` sealed under the current master key, bound to its user."""
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self.kid].encrypt(nonce, data_key, f"user:{user_id}".encode())
        return f"{self.kid}.{_b64(nonce + sealed)}"

    def unwrap(self, wrapped: str, user_id: str) -> tuple[bytes, bool]:
        """The data key, and whether it should be rewrapped under the current master key."""
        kid, _, body = wrapped.partition(".")
        aead = self._keys.get(kid)
        if aead is None:
            raise EncryptionError(f"no master key {kid!r} (DATA_ENCRYPTION_OLD_KEYS?)")
        raw = _unb64(body)
        try:
            key = aead.decrypt(raw[:_NONCE], raw[_NONCE:], f"user:{user_id}".encode())
        except InvalidTag as e:
            raise EncryptionError("a data key did not open under its master key") from e
        return key, kid != self.kid


def development_key(data_dir: Path) -> str:
    """The development master key: made once, kept in DATA_DIR/keys/master.key (0600)."""
    path = private_dir(data_dir / "keys") / "master.key"
    if not path.exists():
        fresh = private_file(path.with_name("master.key.new"))
        fresh.write_text(new_key_text() + "\n", encoding="utf-8")
        try:
            # the first process to get here wins; a second one reads the winner's key
            os.link(fresh, path)
        except FileExistsError:
            pass
        finally:
            fresh.unlink(missing_ok=True)
        log.warning("no DATA_ENCRYPTION_KEY: made a development key in %s", path)
    return path.read_text(encoding="utf-8").strip()


def seal(data_key: bytes, value: Any, where: str) -> str:
    """`value` (JSON-able) encrypted with the data key, bound to `where`."""
    nonce = os.urandom(_NONCE)
    plain = json.dumps(value, separators=(",", ":"), default=str).encode()
    return f"{_VERSION}.{_b64(nonce + AESGCM(data_key).encrypt(nonce, plain, where.encode()))}"


def unseal(data_key: bytes, token: str, where: str) -> Any:
    """The value `seal` sealed at `where`; `EncryptionError` if it does not open."""
    version, _, body = token.partition(".")
    if version != _VERSION:
        raise EncryptionError(f"unknown sealed format {version!r}")
    raw = _unb64(body)
    try:
        plain = AESGCM(data_key).decrypt(raw[:_NONCE], raw[_NONCE:], where.encode())
    except InvalidTag as e:
        raise EncryptionError(f"a sealed value at {where} did not open") from e
    return json.loads(plain)


_MAGIC = b"coach-sealed-1\n"


def seal_bytes(data_key: bytes, data: bytes, where: str) -> bytes:
    """A file's bytes encrypted with the data key, bound to `where`."""
    nonce = os.urandom(_NONCE)
    return _MAGIC + nonce + AESGCM(data_key).encrypt(nonce, data, where.encode())


def unseal_bytes(data_key: bytes, sealed: bytes, where: str) -> bytes:
    """The bytes `seal_bytes` sealed at `where`; `EncryptionError` if they do not open."""
    if not sealed.startswith(_MAGIC):
        raise EncryptionError("not a sealed file")
    body = sealed[len(_MAGIC) :]
    try:
        return AESGCM(data_key).decrypt(body[:_NONCE], body[_NONCE:], where.encode())
    except InvalidTag as e:
        raise EncryptionError(f"a sealed file at {where} did not open") from e


class DataKeys:
    """Users' data keys: made on first use, kept wrapped in `dataKeys`, cached unwrapped."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, user_id: str) -> bytes:
        """The user's data key, made now if they have none; `EncryptionError` if erased."""
        from pymongo.errors import DuplicateKeyError

        from coach.store.documents import DataKey, User

        cached = self._cache.get(user_id)
        if cached is not None:
            self._cache.move_to_end(user_id)
            return cached
        keys = DataKey.get_pymongo_collection()
        doc = await keys.find_one({"_id": user_id})
        if doc is None:
            if await User.get_pymongo_collection().find_one({"_id": user_id}, {"_id": 1}) is None:
                raise EncryptionError("no such user: their data key is gone (erased?)")
            fresh = AESGCM.generate_key(bit_length=256)
            made = DataKey(id=user_id, wrapped=self.vault.wrap(fresh, user_id))
            # only the first writer's key is kept, if two requests race to make one
            with contextlib.suppress(DuplicateKeyError):
                await keys.insert_one(made.model_dump(by_alias=True))
            doc = await keys.find_one({"_id": user_id})
            if doc is None:
                raise EncryptionError("no such user: their data key is gone (erased?)")
        wrapped = doc["wrapped"]
        key, stale = self.vault.unwrap(wrapped, user_id)
        if stale:
            await keys.update_one(
                {"_id": user_id, "wrapped": wrapped},
                {"$set": {"wrapped": self.vault.wrap(key, user_id)}},
            )
            log.info("a data key was rewrapped under master key %s", self.vault.kid)
        self._cache[user_id] = key
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return key

    async def shred(self, user_id: str) -> None:
        """Delete the user's data key: what it sealed, wherever a copy is, no longer opens."""
        from coach.store.documents import DataKey

        await DataKey.get_pymongo_collection().delete_one({"_id": user_id})
        self._cache.pop(user_id, None)

    def forget(self, user_id: str) -> None:
        """Drop the cached key (the account is being erased)."""
        self._cache.pop(user_id, None)
