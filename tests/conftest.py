"""Shared fixtures: a fresh, migrated database per test (SQLite and PostgreSQL), the app, a
client, and helpers for keys and partnerships.

PostgreSQL runs when `REVIEW_ENGINE_TEST_POSTGRES_URL` names a server (any database on it we
may `CREATE DATABASE` from); otherwise its tests are skipped, except under CI, where a
missing PostgreSQL fails the run and so does any skipped test.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from review_engine.app import create_app
from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.db import create_db_engine, upgrade_database
from review_engine.deadline_context import clock_context
from review_engine.demo import load_demo
from review_engine.settings import Settings

pytest_plugins = ["pytester"]

# Helper modules whose asserts should explain their failures as a test module's do (pytest
# rewrites only test modules and conftest.py unless told).
pytest.register_assert_rewrite("tests.matrix", "tests.workflow_helpers", "tests.workflow_table")

POSTGRES_ENV = "REVIEW_ENGINE_TEST_POSTGRES_URL"
Headers = dict[str, str]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# --- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy (much faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server to test against; skip without one (fail under CI)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set"
        if in_ci():
            pytest.fail(f"{message}; CI must test PostgreSQL", pytrace=False)
        pytest.skip(message)
    return url


class PostgresDatabases:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(server_url)
        self.admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"review_engine_test_{secrets.token_hex(4)}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(str(name))

    def close(self) -> None:
        for name in list(self.created):
            self.drop(self.server_url.set(database=name).render_as_string(hide_password=False))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases(postgres_server_url: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server_url)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def postgres_test_database(postgres_databases: PostgresDatabases) -> Iterator[tuple[str, Engine]]:
    """One migrated database for the session, plus an engine used to reset it between tests."""
    url = postgres_databases.create()
    upgrade_database(url)
    engine = create_engine(url)
    yield url, engine
    engine.dispose()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(tables)
        if names:
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


DATABASE_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASE_PARAMS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at migration head, empty, for this test only."""
    if request.param == "sqlite":
        path = tmp_path / "review-engine.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url, engine = request.getfixturevalue("postgres_test_database")
    _truncate_all(engine)  # before, not after: a crashed earlier test may have left rows
    return str(url)


@pytest.fixture(params=DATABASE_PARAMS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with no migrations applied (for migration and readiness tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.create()
    yield url
    databases.drop(url)


# --- the app ----------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Tests' webhook receivers listen on loopback, which production refuses as a target.
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, allow_private_targets=True
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session for checking the database directly, on its own engine (same database as the
    app), so that the app's lifespan disposing its engine never strands this connection.

    On SQLite it begins DEFERRED, so it never holds the write lock the app needs; like any
    open transaction it keeps its snapshot, so call `session.rollback()` before re-reading
    after more API calls (that also expires cached objects).
    """
    engine = create_db_engine(database_url)
    try:
        with Session(engine.execution_options(sqlite_begin="DEFERRED")) as db_session:
            yield db_session
    finally:
        engine.dispose()


_key_numbers = itertools.count(1)


@pytest.fixture
def make_key(app: FastAPI) -> Callable[..., str]:
    """`make_key(role="admin", partnerships=None, name=None)`: a new key, raw (the bearer token).

    The partnerships must exist already (create them first with `partnership(...)`)."""

    def make(
        role: str | Role = "admin", partnerships: list[str] | None = None, name: str | None = None
    ) -> str:
        with Session(app.state.engine) as db_session:
            _, raw_key = create_api_key(
                session=db_session,
                name=name or f"test-{Role(role).value}-{next(_key_numbers)}",
                role=Role(role),
                partnership_codes=partnerships,
            )
        return raw_key

    return make


@pytest.fixture
def auth() -> Callable[[str], Headers]:
    """`auth(key)`: the headers that authenticate as `key`."""

    def headers(key: str) -> Headers:
        return {"Authorization": f"Bearer {key}"}

    return headers


@pytest.fixture
def headers_for(
    make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> Callable[..., Headers]:
    """`headers_for(role, partnerships=None)`: headers for a new key with that role and scope."""

    def headers(role: str | Role = "admin", partnerships: list[str] | None = None) -> Headers:
        return auth(make_key(role=role, partnerships=partnerships))

    return headers


@pytest.fixture
def partnership(
    client: TestClient, headers_for: Callable[..., Headers]
) -> Callable[..., dict[str, Any]]:
    """`partnership(code="wessex", name=None, rapid_review_clock_start="notified")`: create one
    through the API (as an admin) and return its JSON."""
    admin: Headers = {}

    def create(
        code: str = "wessex", name: str | None = None, rapid_review_clock_start: str = "notified"
    ) -> dict[str, Any]:
        if not admin:
            admin.update(headers_for("admin"))
        body = {
            "code": code,
            "name": name or f"{code.replace('-', ' ').title()} Safeguarding Children Partnership",
            "rapid_review_clock_start": rapid_review_clock_start,
        }
        response = client.post("/partnerships", json=body, headers=admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create


@pytest.fixture
def wessex_admin(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> Headers:
    """An admin's headers, with the partnership `wessex` registered."""
    headers = auth(make_key(role="admin"))
    response = client.post("/partnerships", json={"code": "wessex", "name": "W"}, headers=headers)
    assert response.status_code == 201, response.text
    return headers


# --- a live server over the demo data ----------------------------------------------------


@pytest.fixture
def demo_url(app: FastAPI, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, over the fictional demo data."""
    engine = create_db_engine(settings.database_url)
    with Session(engine) as db_session:
        load_demo(session=db_session, context=clock_context(settings))
    engine.dispose()
    with served(app) as (host, port):
        yield f"http://{host}:{port}"


@contextmanager
def served(app: FastAPI) -> Iterator[tuple[str, int]]:
    """`app` served by uvicorn on a free loopback port, as production serves it: its host
    and port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield host, port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- figures tests report (benchmarks print; tests only note what they measured) ------------

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def note_figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`note_figures(line)`: shown in the run's summary, e.g. the fuzzer's counts."""
    figures = request.config.stash.setdefault(_FIGURES, [])
    return figures.append


# --- CI: a skipped test is a failed test ---------------------------------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = config.stash.get(_FIGURES, [])
    if figures:
        terminalreporter.write_sep("=", "figures")
        for line in figures:
            terminalreporter.write_line(line)
    skipped = terminalreporter.stats.get("skipped", [])
    if in_ci() and skipped:
        terminalreporter.write_sep(
            "=", f"CI: {len(skipped)} skipped test(s) fail the run (skips hide gaps)", red=True
        )
