"""/health/live, /health/ready and the old /health: yes or no, never the reason."""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.testclient import TestClient

from coach.analysis.offline import OfflineCoach
from coach.app import create_app
from coach.stt.scripted import ScriptedRecognizer
from tests.live.test_stream_sessions import database, settings

REASON = "connection refused by db.internal:27017"


class DownDatabase:
    """A database whose ping fails with a reason an anonymous caller must not see."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self.down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def __getitem__(self, name: str) -> Any:
        return self._db[name]

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError(REASON)
        return await self._db.command(*args, **kwargs)


def test_live_and_ready_and_the_old_health(tmp_path: Any) -> None:
    client, db = database()
    flaky = DownDatabase(db)
    app = create_app(
        settings(tmp_path),
        analyzer=OfflineCoach(),
        database=(client, flaky),
        recognizer=ScriptedRecognizer([]),
    )
    with TestClient(app) as c:
        assert c.get("/health/live").json() == {"status": "ok"}
        ready = c.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "checks": {"started": True, "models": True, "database": True, "accepting": True},
        }
        assert c.get("/health").status_code == 200
        flaky.down = True
        assert c.get("/health/live").status_code == 200
        down = c.get("/health/ready")
        assert down.status_code == 503
        assert down.json()["checks"]["database"] is False
        old = c.get("/health")
        assert old.status_code == 503
        for r in (down, old):
            assert "27017" not in r.text and "refused" not in r.text
        flaky.down = False
        app.state.shutting_down = True  # what the lifespan sets when the process stops
        stopping = c.get("/health/ready")
        assert stopping.status_code == 503 and stopping.json()["checks"]["accepting"] is False
        app.state.shutting_down = False


def test_ready_says_not_started_before_the_lifespan(tmp_path: Any) -> None:
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database())
    # without the lifespan (no `with`), nothing is built yet
    c = TestClient(app)
    r = c.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"] == {
        "started": False, "models": False, "database": False, "accepting": False,
    }  # fmt: skip
    assert c.get("/health/live").status_code == 200


class SlowModels(ScriptedRecognizer):
    """A recognizer whose models load until the test lets them."""

    def __init__(self) -> None:
        super().__init__([])
        self.loaded = threading.Event()
        self.calls = 0

    def prepare(self) -> None:
        self.calls += 1
        assert self.loaded.wait(30)


def test_ready_waits_for_the_speech_models(tmp_path: Any) -> None:
    slow = SlowModels()
    app = create_app(
        settings(tmp_path, preload_models=True),
        analyzer=OfflineCoach(),
        database=database(),
        recognizer=slow,
    )
    with TestClient(app) as c:
        waiting = c.get("/health/ready")
        assert waiting.status_code == 503
        assert waiting.json()["checks"]["models"] is False
        assert waiting.json()["checks"]["database"] is True
        slow.loaded.set()
        deadline = time.monotonic() + 30
        while c.get("/health/ready").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert slow.calls == 1


def test_development_loads_models_at_the_first_session(tmp_path: Any) -> None:
    slow = SlowModels()
    app = create_app(settings(tmp_path), analyzer=OfflineCoach(), database=database(),
                     recognizer=slow)  # fmt: skip
    with TestClient(app) as c:
        assert c.get("/health/ready").json()["checks"]["models"] is True
    assert slow.calls == 0
