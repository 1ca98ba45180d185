"""Start-up is frozen out of full garbage collections while the app runs, and handed back."""

from __future__ import annotations

import gc
from pathlib import Path

from starlette.testclient import TestClient

from coach.collector import YOUNG_THRESHOLD
from tests.live.test_stream_sessions import app_for


def test_start_up_is_frozen_while_the_app_runs_and_thawed_at_shutdown(tmp_path: Path) -> None:
    gc.unfreeze()
    defaults = gc.get_threshold()
    app = app_for(tmp_path)
    before = len(gc.get_objects())
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        frozen = gc.get_freeze_count()
        # everything alive at start-up: at least what existed before the app was built
        assert frozen >= before * 0.9
        # and it is out of every generation a collection walks
        assert len(gc.get_objects(2)) < frozen
        # young collections far apart: a session's short-lived objects die before one comes
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == defaults
