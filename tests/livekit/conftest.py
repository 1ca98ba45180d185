"""LiveKit tests: livekit-agents' `AgentServer.run()` writes its URL, key and secret into
`os.environ` (for job processes to inherit), so each test's environment is put back after it;
otherwise a later test's settings would find LiveKit configured."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
