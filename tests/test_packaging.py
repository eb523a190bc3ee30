"""What the Dockerfile runs, run without Docker: build the wheel, install-free run it from
the unpacked wheel, migrate, serve with several workers, and pass the image's health check.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def _instruction(name: str) -> str:
    """The text of the last `NAME ...` instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    matches = re.findall(rf"^{name}\s+(.*)$", joined, flags=re.MULTILINE)
    assert matches, f"no {name} in the Dockerfile"
    return str(matches[-1])


def _exec_form(text: str) -> list[str]:
    command = json.loads(text)
    assert isinstance(command, list)
    return [str(part) for part in command]


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("review_engine-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "review_engine/_migrations/env.py" in names
    assert any(n.startswith("review_engine/_migrations/versions/0002_") for n in names)
    target = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(target)
    return target


@pytest.fixture
def image_env(unpacked_wheel: Path, tmp_path: Path) -> dict[str, str]:
    """PATH with a `review-engine` that runs the unpacked wheel, as the image's would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "review-engine"
    shim.write_text(
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "
        "'from review_engine.cli import app; app()' \"$@\"\n"
    )
    shim.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_ENGINE_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        PYTHONPATH=str(unpacked_wheel),  # ahead of the editable install
        REVIEW_ENGINE_DATABASE_URL=f"sqlite:///{data}/review-engine.db",
        REVIEW_ENGINE_DOCS_ENABLED="false",
        WORKERS="2",
    )
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_image_runs_from_the_wheel_alone(image_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    cmd = _exec_form(_instruction("CMD"))
    assert cmd[:2] == ["sh", "-c"]
    assert "review-engine db upgrade" in cmd[2]
    assert "review-engine serve" in cmd[2]
    server = subprocess.Popen(
        ["sh", "-c", cmd[2].replace("8000", str(port))],
        env=image_env,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer in 60 s"
            time.sleep(0.2)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        # The production settings the image sets: no public API docs.
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 404
        healthcheck = _instruction("HEALTHCHECK")
        check = _exec_form(healthcheck.split("CMD", 1)[1].strip())
        check = [part.replace("8000", str(port)) for part in check]
        assert check[0] == "python"
        result = subprocess.run([sys.executable, *check[1:]], env=image_env, timeout=10)
        assert result.returncode == 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # The health check fails once the server is gone.
    result = subprocess.run(
        [sys.executable, *check[1:]], env=image_env, timeout=10, capture_output=True
    )
    assert result.returncode != 0


def test_the_image_runs_as_a_non_root_user() -> None:
    assert re.search(r"^USER review-engine$", DOCKERFILE, flags=re.MULTILINE)
    assert "useradd --system --uid 10001" in DOCKERFILE
    assert DOCKERFILE.count("FROM python:3.11-slim") == 2


def test_the_wheel_brings_its_own_migrations(
    image_env: dict[str, str], unpacked_wheel: Path
) -> None:
    located = subprocess.run(
        [sys.executable, "-c", "import review_engine.db as db; print(db.migrations_dir())"],
        env=image_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(located) == unpacked_wheel / "review_engine" / "_migrations"
