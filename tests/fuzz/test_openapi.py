"""schemathesis over /openapi.json against the real app on uvicorn, signed in, for a minute.

Every check schemathesis has: no 5xx, no undocumented status or header, responses match their
schemas, schema-violating requests are refused and schema-valid ones accepted (so the document
says what the server takes), and 405s carry `Allow`. The server's log must hold no traceback.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.settings import Settings
from coach.store.memory import in_process_client
from coach.stt.scripted import ScriptedRecognizer

ROOT = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 50


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app on uvicorn in a thread of its own (schemathesis runs in another process)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        jwt_secret="fuzz-secret-" + "f" * 32,
        data_dir=tmp_path / "data",
        # the limits have their own tests; here they would turn most cases into 429s
        rate_limits=False,
        # LiveKit set up, so its routes answer (tokens are signed locally; nothing dials it)
        livekit_url="ws://127.0.0.1:9",
        livekit_api_key="fuzz-key",
        livekit_api_secret="fuzz-secret-" + "l" * 32,
        livekit_agent_server=False,
    )
    client = in_process_client()
    app = create_app(
        settings,
        analyzer=OfflineCoach(),
        database=(client, client["coach"]),
        recognizer=ScriptedRecognizer([]),
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", lifespan="on")
    uvi = uvicorn.Server(config)
    thread = threading.Thread(target=uvi.run, name="fuzz-uvicorn")
    thread.start()
    deadline = time.monotonic() + 60
    while not uvi.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = uvi.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvi.should_exit = True
        thread.join(60)


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn.access")]
    for logger in loggers:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def test_schemathesis_finds_nothing(
    server: str, server_log: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    env: dict[str, Any] = {
        **os.environ,
        "COACH_FUZZ_URL": server,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
            "run", f"{server}/openapi.json",
            "--checks", "all",
            "--max-time", str(BUDGET_SECONDS),
            "--workers", "1",
            "--request-timeout", "30",
            "--no-color",
        ],
        env=env,
        cwd=tmp_path,  # its cache and reports stay out of the checkout
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS + 120,
    )  # fmt: skip
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-8000:]
    assert " passed" in report and "generated" in report, report[-2000:]
    for record in server_log.records:
        if record.name.startswith(("coach", "uvicorn")):
            assert record.exc_info is None, record.getMessage()
            assert record.levelno < logging.ERROR, record.getMessage()
