"""MongoDB command durations from pymongo's command events."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

import pytest
from pymongo import monitoring
from starlette.testclient import TestClient

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.metrics import CommandTimer, Metrics
from tests.live.test_stream_sessions import settings
from tests.operate.test_metrics import samples, value


def test_commands_are_timed_by_name_and_outcome() -> None:
    metrics = Metrics()
    timer = CommandTimer(metrics)
    where = ("127.0.0.1", 27017)
    timer.started(monitoring.CommandStartedEvent({"find": "interviews"}, "coach", 1, where, 1))
    timer.succeeded(monitoring.CommandSucceededEvent(
        dt.timedelta(milliseconds=12), {"ok": 1}, "find", 1, where, 1))  # fmt: skip
    timer.failed(monitoring.CommandFailedEvent(
        dt.timedelta(milliseconds=3), {"ok": 0}, "insert", 2, where, 2))  # fmt: skip
    found = samples(metrics.exposition().decode())
    name = "coach_db_operation_duration_seconds"
    assert value(found, f"{name}_count", command="find", outcome="ok") == 1
    assert value(found, f"{name}_sum", command="find", outcome="ok") == pytest.approx(0.012)
    assert value(found, f"{name}_count", command="insert", outcome="error") == 1


def test_a_real_mongodb_is_timed(tmp_path: Any) -> None:
    uri = os.environ.get("COACH_TEST_MONGODB_URI")
    if not uri:
        pytest.skip("COACH_TEST_MONGODB_URI is unset: no MongoDB server to run against")
    name = f"coach_test_{uuid.uuid4().hex[:8]}"
    app = create_app(
        settings(tmp_path, mongodb_uri=uri, mongodb_database=name), analyzer=OfflineCoach()
    )
    with TestClient(app) as c:
        c.post("/api/auth/register", json={"email": "d@example.com", "password": "correct horse"})
        found = samples(c.get("/metrics").text)
        services = app.state.services
        assert c.portal is not None
        c.portal.call(services.client.drop_database, name)
    inserts = value(found, "coach_db_operation_duration_seconds_count", command="insert",
                    outcome="ok")  # fmt: skip
    assert inserts >= 1
