"""schemathesis hooks for the API fuzz test: every case is signed in as a live account.

A case may sign its account out everywhere, change its password or erase it; the next case's
401 makes schemathesis ask `get` again, which registers a fresh account.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import schemathesis


@schemathesis.auth()
class SignedIn:
    """A bearer token of a fresh account on the server under test."""

    def get(self, case: Any, ctx: Any) -> str:
        base = os.environ["COACH_FUZZ_URL"]
        r = httpx.post(
            f"{base}/api/auth/register",
            json={
                "email": f"fuzz-{uuid.uuid4().hex[:12]}@example.com",
                "password": "fuzz plum tide",
            },
            timeout=30,
        )
        r.raise_for_status()
        return str(r.json()["token"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
