"""Accounts: register, authenticate, look up and erase users."""

from __future__ import annotations

import asyncio
import os

from pymongo.errors import DuplicateKeyError

from coach.auth.tokens import DUMMY_HASH, hash_password, verify_password
from coach.store.documents import User

# argon2 takes ~0.1 s of CPU on one lane: it runs in worker threads, one per core but one, so a
# burst of sign-ups always leaves a core to the event loop that carries live audio.
HASHING_AT_ONCE = max(1, (os.cpu_count() or 2) - 1)


class EmailTaken(Exception):
    """An account with this email exists."""


class UserService:
    """The users collection behind the auth routes and the WebSocket."""

    def __init__(self) -> None:
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(hash_password, password)

    async def _verify(self, stored: str, password: str) -> bool:
        async with self._hashing:
            return await asyncio.to_thread(verify_password, stored, password)

    async def register(self, email: str, password: str) -> User:
        """Create an account; raises `EmailTaken`."""
        email = email.lower()
        if await User.find_one(User.email == email) is not None:
            raise EmailTaken(email)
        user = User(email=email, password_hash=await self._hash(password))
        try:
            await user.insert()
        except DuplicateKeyError as e:  # two registrations racing: the unique index decides
            raise EmailTaken(email) from e
        return user

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user with this email and password, or None."""
        user = await User.find_one(User.email == email.lower())
        matches = await self._verify(user.password_hash if user else DUMMY_HASH, password)
        return user if user is not None and matches else None

    async def bearer(self, claims: tuple[str, int] | None) -> User | None:
        """The user a verified token speaks for, if that token has not been revoked."""
        if claims is None:
            return None
        user = await self.get(claims[0])
        return user if user is not None and user.token_version == claims[1] else None

    async def change_password(self, user: User, current: str, new: str) -> int | None:
        """Set a new password if `current` is right; the new token version, else None."""
        if not await self._verify(user.password_hash, current):
            return None
        new_hash = await self._hash(new)
        await User.find(User.id == user.id).update(
            {"$set": {"passwordHash": new_hash}, "$inc": {"tokenVersion": 1}}
        )
        found = await self.get(user.id)
        return found.token_version if found is not None else None

    async def revoke_tokens(self, user_id: str) -> None:
        """Sign out everywhere: every token issued so far stops working."""
        await User.find(User.id == user_id).update({"$inc": {"tokenVersion": 1}})

    async def get(self, user_id: str) -> User | None:
        """A user by id."""
        return await User.get(user_id)

    async def delete(self, user_id: str) -> None:
        """Erase the account (its interviews are erased by the interviews service)."""
        await User.find(User.id == user_id).delete()
