"""The container: the Dockerfile's promises read statically, and the image built and run.

The build takes minutes (podman, vfs storage, a Debian base bootstrapped with mmdebstrap), so
it runs only when asked: `COACH_CONTAINER_TESTS=1 python -m pytest tests/operate -m slow`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.paths import REPO

DOCKERFILE = REPO / "Dockerfile"
BUILD_SCRIPT = REPO / "deploy" / "build.sh"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def env_values(steps: list[tuple[str, str]]) -> dict[str, str]:
    """The variables the ENV instructions set (the `KEY=value` form)."""
    values: dict[str, str] = {}
    for word, rest in steps:
        if word == "ENV":
            values.update(part.split("=", 1) for part in shlex.split(rest) if "=" in part)
    return values


def test_the_base_image_is_an_argument() -> None:
    steps = instructions()
    first_from = next(i for i, (word, _) in enumerate(steps) if word == "FROM")
    args = [rest for word, rest in steps[:first_from] if word == "ARG"]
    assert any(re.fullmatch(r"BASE=\S+", a) for a in args), "ARG BASE with a default"
    assert steps[first_from][1] in ("${BASE}", "$BASE")


def test_the_image_installs_the_voice_extra() -> None:
    runs = [rest for word, rest in instructions() if word == "RUN"]
    assert any(re.search(r"pip install .*\.\[voice\]", r) for r in runs)


def test_data_dir_is_a_volume_declared_after_the_model_is_baked() -> None:
    steps = instructions()
    data_dir = env_values(steps)["DATA_DIR"]
    volumes = [(i, rest) for i, (word, rest) in enumerate(steps) if word == "VOLUME"]
    declared = [(i, v) for i, rest in volumes for v in re.findall(r"[^\s\[\]\",]+", rest)]
    assert data_dir in [v for _, v in declared]
    # a RUN after VOLUME would write into a throwaway volume, not the image
    last_run = max(i for i, (word, _) in enumerate(steps) if word == "RUN")
    assert min(i for i, v in declared if v == data_dir) > last_run


def test_it_runs_as_a_user_other_than_root() -> None:
    users = [rest.split(":")[0] for word, rest in instructions() if word == "USER"]
    assert users, "no USER: the server would run as root"
    assert users[-1] not in ("root", "0")


def test_its_command_is_coach_serve() -> None:
    cmds = [rest for word, rest in instructions() if word == "CMD"]
    # the exec form, so the server is the process that gets SIGTERM
    assert json.loads(cmds[-1]) == ["coach", "serve"]
    assert not [word for word, _ in instructions() if word == "ENTRYPOINT"]


def test_the_build_context_leaves_out_what_the_image_does_not_need() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv"} <= ignored
    assert "tests" in ignored or "tests/fixtures" in ignored
    assert "bench" in ignored
    # what COPY takes
    assert not {"coach", "pyproject.toml", "README.md"} & ignored


def test_the_build_script_parses() -> None:
    subprocess.run(["bash", "-n", str(BUILD_SCRIPT)], check=True)


@pytest.mark.slow
def test_the_image_builds_starts_serves_and_refuses_without_a_database() -> None:
    if os.environ.get("COACH_CONTAINER_TESTS") != "1":
        pytest.skip("builds the image for minutes: set COACH_CONTAINER_TESTS=1 to run it")
    if shutil.which("podman") is None:
        pytest.skip("no podman: apt-get install -y podman")
    if shutil.which("mmdebstrap") is None and not os.environ.get("BASE"):
        pytest.skip("no mmdebstrap to bootstrap the base (apt-get install -y mmdebstrap)")
    run = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=40 * 60,
        check=False,
    )
    report = run.stdout + run.stderr[-4000:]
    assert run.returncode == 0, report
    assert "coach-container: all checks passed" in run.stdout, report
    figures = dict(re.findall(r"(\w+)=(\S+)", run.stdout))
    assert figures["run_mode"] in ("podman", "chroot")
    assert float(figures["ready_seconds"]) > 0
    assert figures["refusal_exit"] not in ("0", "124")
    line = re.search(r"session=(\{.*\})", run.stdout)
    assert line is not None, report
    session = json.loads(line[1])
    assert session["words"] > 0
    assert {"transcript", "session_complete", "analysis_complete"} <= set(session["events"])
