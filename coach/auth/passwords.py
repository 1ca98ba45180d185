"""Which passwords are refused at sign-up: the most common ones, as NIST SP 800-63B (5.1.1.2)
advises, checked against a list of breached and common passwords rather than by composition
rules.

The list is zxcvbn's ranked frequency list of passwords (the 30,000 most common, from leaked
password sets; the `zxcvbn` package, MIT). The 10,000 most common are refused, lower-cased, as
is a password that is the account's email or its name part.
"""

from __future__ import annotations

import functools

REFUSE_TOP = 10_000


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # a 30,000-word list: load once, lazily

    return frozenset(FREQUENCY_LISTS["passwords"][:REFUSE_TOP])


def weakness(password: str, email: str) -> str | None:
    """Why `password` is refused for the account `email`, or None when it is fine."""
    lowered = password.lower()
    name = email.lower().partition("@")[0]
    if lowered in (email.lower(), name):
        return "the password must not be your email address"
    if lowered in _common():
        return (
            "this password is among the 10,000 most common ones, which are tried first by "
            "anyone guessing; choose another (a few unrelated words work well)"
        )
    return None
