"""Accounts: register, authenticate, look up and erase users."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from coach.auth.tokens import hash_password, verify_password
from coach.store.documents import User


class EmailTaken(Exception):
    """An account with this email exists."""


class UserService:
    """The users collection behind the auth routes and the WebSocket."""

    async def register(self, email: str, password: str) -> User:
        """Create an account; raises `EmailTaken`."""
        email = email.lower()
        if await User.find_one(User.email == email) is not None:
            raise EmailTaken(email)
        user = User(email=email, password_hash=hash_password(password))
        try:
            await user.insert()
        except DuplicateKeyError as e:  # two registrations racing: the unique index decides
            raise EmailTaken(email) from e
        return user

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user with this email and password, or None."""
        user = await User.find_one(User.email == email.lower())
        if user is None or not verify_password(user.password_hash, password):
            return None
        return user

    async def get(self, user_id: str) -> User | None:
        """A user by id."""
        return await User.get(user_id)

    async def delete(self, user_id: str) -> None:
        """Erase the account (its interviews are erased by the interviews service)."""
        await User.find(User.id == user_id).delete()
