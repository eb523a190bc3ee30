"""What the Dockerfile runs, run without Docker: the lock files it installs (in agreement with
pyproject.toml, and the very versions this test run uses), the wheel it builds, run
install-free from the unpacked wheel: migrate, serve on $PORT with several workers, and the
image's health check, which passes only while the database is reachable and migrated.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_LOCK = REPO / "requirements.lock"  # what the image installs
TEST_LOCK = REPO / "requirements-test.lock"  # what .ci/run installs: the same pins + `test`
RELOCK = "run scripts/lock"
REINSTALL = (
    "pip install --require-hashes -r requirements-test.lock "
    "&& pip install --no-deps --no-build-isolation -e ."
)


def _instruction(name: str) -> str:
    """The text of the last `NAME ...` instruction, continuation lines joined."""
    matches = _instructions(name)
    assert matches, f"no {name} in the Dockerfile"
    return matches[-1]


def _instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [str(m) for m in re.findall(rf"^{name}\s+(.*)$", joined, flags=re.MULTILINE)]


def _exec_form(text: str) -> list[str]:
    command = json.loads(text)
    assert isinstance(command, list)
    return [str(part) for part in command]


# --- the lock files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    version: Version
    marker: Marker | None
    hashes: frozenset[str]


def _read_lock(path: Path) -> dict[NormalizedName, list[Pin]]:
    """A hashed requirements file: each entry exactly `name==version [; marker]` with hashes.
    A name may be pinned more than once, under markers for different Pythons (the universal
    resolution forks where a newer release needs a newer Python, e.g. numpy)."""
    pins: dict[NormalizedName, list[Pin]] = {}
    for line in path.read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, *hashes = line.split(" --hash=")
        assert not spec.startswith("-"), f"{path.name}: an option line: {line}"
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        (pinned,) = requirement.specifier
        assert pinned.operator == "==", f"{path.name}: {name} is not pinned exactly"
        assert requirement.url is None, f"{path.name}: {spec}"
        assert not requirement.extras, f"{path.name}: {spec}"
        assert hashes, f"{path.name}: {name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h.strip()) for h in hashes), name
        assert (name in pins) <= (requirement.marker is not None), f"{path.name}: {name} twice"
        pins.setdefault(name, []).append(
            Pin(Version(pinned.version), requirement.marker, frozenset(h.strip() for h in hashes))
        )
    return pins


def _applying(
    path: Path, pins: dict[NormalizedName, list[Pin]], environment: dict[str, str]
) -> dict[NormalizedName, Pin]:
    """The pin of each name that pip installs in `environment` (one at most)."""
    chosen: dict[NormalizedName, Pin] = {}
    for name, candidates in pins.items():
        found = [p for p in candidates if p.marker is None or p.marker.evaluate(environment)]
        assert len(found) <= 1, f"{path.name}: {len(found)} pins of {name} apply together"
        if found:
            chosen[name] = found[0]
    return chosen


def _pyproject_requirements(*, test: bool) -> list[Requirement]:
    raw = list(PYPROJECT["project"]["dependencies"])
    if test:
        raw += PYPROJECT["project"]["optional-dependencies"]["test"]
    return [Requirement(r) for r in raw]


def _target_environment(machine: str) -> dict[str, str]:
    """The image's platform: CPython 3.11 on glibc Linux, amd64 or arm64."""
    environment = dict(default_environment())
    environment.update(
        implementation_name="cpython",
        platform_python_implementation="CPython",
        os_name="posix",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine=machine,
        python_version="3.11",
        python_full_version="3.11.16",
        extra="",
    )
    return environment


IMAGE_PLATFORMS = [_target_environment("x86_64"), _target_environment("aarch64")]


@pytest.mark.parametrize(
    ("lock", "test"), [(RUNTIME_LOCK, False), (TEST_LOCK, True)], ids=["runtime", "test"]
)
def test_the_lock_agrees_with_pyproject(lock: Path, test: bool) -> None:
    """Every dependency pyproject.toml declares is locked, at a version inside its range, for
    the image's platforms. Network-free: this compares the two files, nothing is resolved."""
    locked = _read_lock(lock)
    for environment in IMAGE_PLATFORMS:
        pins = _applying(lock, locked, environment)
        for requirement in _pyproject_requirements(test=test):
            name = canonicalize_name(requirement.name)
            assert name in pins, (
                f"{requirement} is not in {lock.name} for "
                f"{environment['platform_machine']}: {RELOCK}"
            )
            pin = pins[name]
            assert requirement.specifier.contains(pin.version, prereleases=True), (
                f"{lock.name} pins {name}=={pin.version}, outside pyproject's {requirement}: "
                f"{RELOCK}"
            )


def test_the_tests_lock_the_images_versions() -> None:
    """requirements-test.lock is requirements.lock plus the test tools, pin for pin."""
    runtime, full = _read_lock(RUNTIME_LOCK), _read_lock(TEST_LOCK)
    differing = {name for name, pin in runtime.items() if full.get(name) != pin}
    assert not differing, f"the two lock files pin {sorted(differing)} differently: {RELOCK}"


def _closure(roots: list[Requirement]) -> dict[NormalizedName, list[Requirement]]:
    """Every distribution the roots need here, by the installed metadata, with the
    requirements that asked for it."""
    needed: dict[NormalizedName, list[Requirement]] = {}
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    todo = [r for r in roots if r.marker is None or r.marker.evaluate({"extra": ""})]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        needed.setdefault(name, []).append(requirement)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed: {REINSTALL}")
        for raw in distribution.requires or []:
            dependency = Requirement(raw)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in extras
            ):
                todo.append(dependency)
    return needed


@pytest.mark.parametrize(
    ("lock", "test"), [(RUNTIME_LOCK, False), (TEST_LOCK, True)], ids=["runtime", "test"]
)
def test_this_run_uses_exactly_the_locked_versions(lock: Path, test: bool) -> None:
    """What pyproject needs, followed through the installed packages' own metadata (so the
    extras, such as uvicorn[standard], and every transitive dependency count): all of it is
    locked, installed at the locked version, inside every range that asks for it; and the lock
    holds nothing pyproject no longer needs. For the runtime lock this is what the image's
    `pip install --require-hashes -r requirements.lock` and `pip check` rely on."""
    here = dict(default_environment(), extra="")
    pins = _applying(lock, _read_lock(lock), here)
    needed = _closure(_pyproject_requirements(test=test))
    for name, wanted_by in sorted(needed.items()):
        assert name in pins, f"{name} (wanted by {wanted_by[0]}) is not in {lock.name}: {RELOCK}"
        version = pins[name].version
        installed = Version(importlib.metadata.version(name))
        assert installed == version, (
            f"{name} {installed} is installed, {lock.name} pins {version}: {REINSTALL}"
        )
        outside = [str(r) for r in wanted_by if not r.specifier.contains(version, True)]
        assert not outside, f"{lock.name} pins {name}=={version}, outside {outside}: {RELOCK}"
    stale = sorted(pins.keys() - needed.keys())
    assert not stale, f"{lock.name} locks {stale}, which pyproject no longer needs: {RELOCK}"


# --- the Dockerfile ------------------------------------------------------------------------


def test_the_base_image_is_pinned_by_tag_and_digest() -> None:
    (argument,) = [a for a in _instructions("ARG") if a.startswith("PYTHON_IMAGE=")]
    image = argument.removeprefix("PYTHON_IMAGE=")
    match = re.fullmatch(r"python:(3\.\d+)\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}", image)
    assert match, f"not an exact tag with its digest: {image}"
    # The image runs the oldest Python the project supports, the one CI and the lock start at.
    assert PYPROJECT["project"]["requires-python"] == f">={match[1]}"
    stages = _instructions("FROM")
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"], stages


def test_the_image_installs_the_runtime_lock_and_then_the_wheel_alone() -> None:
    runs = _instructions("RUN")
    assert "requirements.lock /tmp/requirements.lock" in _instructions("COPY")
    (lock_install,) = [r for r in runs if "-r /tmp/requirements.lock" in r]
    assert "pip install" in lock_install
    assert "--require-hashes" in lock_install
    assert "--only-binary :all:" in lock_install  # the slim image has no compiler
    (wheel_install,) = [r for r in runs if "/wheels/*.whl" in r]
    assert "pip install" in wheel_install
    assert "--no-deps" in wheel_install
    assert "pip check" in wheel_install
    assert "requirements-test.lock" not in DOCKERFILE


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [
        part
        for copy in _instructions("COPY")
        if not copy.startswith("--from")
        for part in copy.split()[:-1]
    ]
    assert sources, "no COPY from the build context"
    for source in sources:
        assert (REPO / source).exists(), source
        hits = [pattern for pattern in ignored if fnmatch.fnmatch(source, pattern)]
        assert not hits, f".dockerignore drops {source} ({hits})"


def test_the_image_runs_as_a_non_root_user() -> None:
    assert re.search(r"^USER review-engine$", DOCKERFILE, flags=re.MULTILINE)
    assert "useradd --system --uid 10001" in DOCKERFILE


def test_the_port_defaults_to_8000() -> None:
    (environment,) = _instructions("ENV")
    assert re.search(r"(^|\s)PORT=8000(\s|$)", environment), environment
    assert _instruction("EXPOSE") == "8000"


# --- running the image's commands from the wheel -------------------------------------------


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
        PORT=str(_free_port()),
        WORKERS="2",
    )
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[str]:
    """Run a server until it answers /healthz (it is live) on $PORT; yield its base URL."""
    base = f"http://127.0.0.1:{env['PORT']}"
    server = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer in 60 s"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, as Docker runs it: in the container's environment."""
    options, command = _instruction("HEALTHCHECK").split(" CMD ", 1)
    assert "--timeout=5s" in options
    check = _exec_form(command.strip())
    assert check[0] == "python"
    return subprocess.run(
        [sys.executable, *check[1:]], env=env, timeout=10, capture_output=True, text=True
    )


def test_the_image_runs_from_the_wheel_alone(image_env: dict[str, str], tmp_path: Path) -> None:
    cmd = _exec_form(_instruction("CMD"))
    assert cmd[:2] == ["sh", "-c"]
    assert "review-engine db upgrade" in cmd[2]
    assert "review-engine serve" in cmd[2]
    # The server listens on $PORT (a random one here), and so does the health check.
    with _serving(["sh", "-c", cmd[2]], image_env, tmp_path) as base:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        # The production settings the image sets: no public API docs.
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 404
        result = _healthcheck(image_env)
        assert result.returncode == 0, result.stderr
    # The health check fails once the server is gone.
    assert _healthcheck(image_env).returncode != 0


@pytest.mark.parametrize("database", ["not-migrated", "unreachable"])
def test_the_health_check_fails_while_the_database_is_not_ready(
    database: str, image_env: dict[str, str], tmp_path: Path
) -> None:
    """A live server (its /healthz answers 200) whose database is empty, or has gone away
    since it started, is unhealthy. `serve` checks (and migrates a SQLite) database before it
    starts, so the app is started here as `serve` starts it, minus that check."""
    env = dict(image_env)  # an empty SQLite file
    if database == "unreachable":  # nothing listens on this loopback port
        env["REVIEW_ENGINE_DATABASE_URL"] = (
            f"postgresql+psycopg://review_engine@127.0.0.1:{_free_port()}/review_engine"
        )
    command = [sys.executable, "-m", "uvicorn", "review_engine.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", env["PORT"]]
    with _serving(command, env, tmp_path) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503
        result = _healthcheck(env)
    assert result.returncode != 0
    assert "not ready" in result.stderr
    assert "503" in result.stderr


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
