"""What every test shares: no test touches the user's own DATA_DIR.

The embedded store and the development encryption key live under DATA_DIR, so a test that
builds an app without naming one would otherwise read and write `~/.cache/coach`, and a second
run would find the first run's accounts. Each test gets a DATA_DIR of its own; the assembled
speech model is shared between them, as it is read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.livekit.runtime import leave_if_native_runtime_ran


@pytest.fixture(scope="session")
def _shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def _private_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _shared_models: Path
) -> Iterator[None]:
    data = tmp_path_factory.mktemp("data")
    (data / "models").symlink_to(_shared_models, target_is_directory=True)
    monkeypatch.setenv("DATA_DIR", str(data))
    yield


_EXIT_STATUS = pytest.StashKey[int]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember the run's status for the last hook."""
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run without finalizing the interpreter once LiveKit's native runtime was used.

    Its threads calling into a finalizing interpreter abort the process (exit 134) after every
    test passed (`coach/livekit/runtime.py`). The report is written by now; the process leaves
    with the run's own status.
    """
    status = config.stash.get(_EXIT_STATUS, None)
    if status is not None:
        leave_if_native_runtime_ran(status)
