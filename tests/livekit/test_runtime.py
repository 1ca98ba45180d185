"""A process that used LiveKit's native runtime leaves with its own status, output flushed."""

from __future__ import annotations

import subprocess
import sys

USED = """
import asyncio, logging, sys
from livekit import rtc
from coach.livekit.runtime import leave_if_native_runtime_ran

async def main():
    rtc.AudioSource(16000, 1)  # starts the runtime

asyncio.run(main())
logging.basicConfig(stream=sys.stderr)
logging.getLogger("coach.test").warning("logged before leaving")
print("printed before leaving", end="")
leave_if_native_runtime_ran(int(sys.argv[1]))
print("never printed")
"""

UNUSED = """
import sys
from coach.livekit.runtime import leave_if_native_runtime_ran
leave_if_native_runtime_ran(5)
print("went on", "livekit.rtc" in sys.modules)
"""


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_leaves_with_the_status_given_once_the_runtime_ran() -> None:
    for status in (0, 3):
        done = run(USED, str(status))
        assert done.returncode == status, done.stderr
        assert done.stdout == "printed before leaving"
        assert "logged before leaving" in done.stderr


def test_returns_and_loads_nothing_when_livekit_was_never_used() -> None:
    done = run(UNUSED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "went on False"
