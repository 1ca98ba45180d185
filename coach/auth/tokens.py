"""Password hashing and JWT issue/verify."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from coach.settings import Settings

log = logging.getLogger("coach.auth")
# RFC 9106's second recommendation (3 passes over 64 MiB) on one lane: parallelism 4 would put
# four threads per hash on the cores the event loop needs; the cost to an attacker is the same
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)


def hash_password(password: str) -> str:
    """Argon2 hash of a password."""
    return _hasher.hash(password)


# Verified when the email is unknown, so a login costs the same either way and timing does not
# tell which emails have accounts.
DUMMY_HASH = _hasher.hash("coach: no such account")


def verify_password(stored: str, password: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return _hasher.verify(stored, password)
    except VerificationError:
        return False


class TokenIssuer:
    """Issues and verifies HS256 access tokens."""

    def __init__(self, settings: Settings) -> None:
        if settings.jwt_secret is None:
            # Only reachable in development: Settings refuses production without a secret.
            log.warning(
                "JWT_SECRET is unset: using a random secret; tokens won't survive a restart"
            )
            self._secret = secrets.token_hex(32)
        else:
            self._secret = settings.jwt_secret.get_secret_value()
        self._ttl = dt.timedelta(minutes=settings.jwt_ttl_minutes)

    def issue(self, user_id: str, version: int = 0) -> str:
        """A signed token for this user at their current token version."""
        now = dt.datetime.now(dt.UTC)
        claims = {"sub": user_id, "ver": version, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, "HS256")

    def verify(self, token: str) -> tuple[str, int] | None:
        """The user id and token version in a valid token, else None."""
        try:
            # a token without an expiry, an issue time or a subject is not accepted
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        sub, ver = claims.get("sub"), claims.get("ver", 0)
        if not isinstance(sub, str) or not isinstance(ver, int):
            return None
        return sub, ver
