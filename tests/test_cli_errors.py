"""Configuration and database mistakes: one line on stderr, exit status 2, no password."""

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from review_engine.cli import app as cli
from review_engine.db import (
    DatabaseState,
    create_db_engine,
    database_at_head,
    diagnose_database,
)
from review_engine.settings import Settings
from tests.conftest import PostgresDatabases
from tests.test_cli import free_port

runner = CliRunner()
PASSWORD = "hunter2-not-echoed"


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record uvicorn.run instead of serving: a command that should refuse must not call it."""
    calls: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    return calls


def invoke(*args: str) -> Any:
    return runner.invoke(cli, list(args))


def assert_one_line_exit_2(result: Any) -> str:
    """The result is exit 2 with one `error:` line on stderr, nothing on stdout, no secret."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert PASSWORD not in result.output
    message: str = result.stderr
    return message


# Every command that reads or writes the database. The serving ones get a free port each time.
DATABASE_COMMANDS = [
    ("db", "upgrade"),
    ("db", "refresh-deadlines"),
    ("db", "purge-idempotency"),
    ("serve", "--port", "{port}"),
    ("keys", "list"),
    ("keys", "create", "--name", "ops", "--role", "admin"),
    ("keys", "revoke", "--name", "ops"),
    ("partnerships", "create", "--code", "wessex", "--name", "Wessex SCP"),
    ("partnerships", "list"),
    ("demo", "load"),
    ("demo", "run", "--port", "{port}"),
]
# These create a missing SQLite file (and migrate it); the others need the database to exist.
CREATING = [("db", "upgrade"), ("serve", "--port", "{port}"), ("demo", "run", "--port", "{port}")]
NEEDING_A_DATABASE = [command for command in DATABASE_COMMANDS if command not in CREATING]


def run(command: tuple[str, ...]) -> Any:
    return invoke(*(part.format(port=free_port()) for part in command))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def missing_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that does not exist: a SQLite file that is not there, or a database the
    PostgreSQL server does not have (with a password, which must never be echoed)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'absent.db'}"
    server = make_url(request.getfixturevalue("postgres_server_url"))
    url = server.set(password=PASSWORD, database=f"no_such_db_{secrets.token_hex(4)}")
    return url.render_as_string(hide_password=False)


@pytest.mark.parametrize("command", NEEDING_A_DATABASE, ids=" ".join)
def test_a_missing_database_is_named_and_not_created(
    monkeypatch: pytest.MonkeyPatch,
    missing_database_url: str,
    command: tuple[str, ...],
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", missing_database_url)
    message = assert_one_line_exit_2(run(command))
    name = str(make_url(missing_database_url).database)
    assert "does not exist" in message
    assert name in message
    if missing_database_url.startswith("sqlite"):
        assert not Path(name).exists()  # merely connecting would have created an empty file
    else:
        assert "does not exist; create it, or correct REVIEW_ENGINE_DATABASE_URL" in message
        assert "db upgrade" not in message  # migrating a database that is not there cannot work


@pytest.mark.postgres
@pytest.mark.parametrize("command", CREATING, ids=" ".join)
def test_a_missing_postgresql_database_is_not_created_by_the_migrating_commands(
    monkeypatch: pytest.MonkeyPatch,
    postgres_server_url: str,
    postgres_databases: PostgresDatabases,
    command: tuple[str, ...],
    no_server: list[object],
) -> None:
    name = f"no_such_db_{secrets.token_hex(4)}"
    url = make_url(postgres_server_url).set(password=PASSWORD, database=name)
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", url.render_as_string(hide_password=False))
    message = assert_one_line_exit_2(run(command))
    assert f'database "{name}" on ' in message
    assert "does not exist; create it" in message
    assert "db upgrade" not in message
    assert no_server == []  # serve and demo run refuse to start
    with postgres_databases.admin.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": name}
        ).first()
    assert found is None


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres"),
    ]
)
def unreachable_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that cannot be opened: a file that is not SQLite, or no server on the port."""
    if request.param == "sqlite":
        path = tmp_path / "not-a-database.db"
        path.write_bytes(b"this is not a SQLite database, just some text " * 100)
        return f"sqlite:///{path}"
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/review_engine"


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_an_unreachable_database_says_it_cannot_be_opened(
    monkeypatch: pytest.MonkeyPatch,
    unreachable_database_url: str,
    command: tuple[str, ...],
    no_server: list[object],
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", unreachable_database_url)
    message = assert_one_line_exit_2(run(command))
    assert "cannot open" in message
    assert "REVIEW_ENGINE_DATABASE_URL" in message
    assert "db upgrade" not in message
    assert no_server == []


@pytest.fixture
def unmigrated_database_url(blank_database_url: str) -> str:
    """A database that exists with no migrations applied."""
    if blank_database_url.startswith("sqlite"):
        Path(blank_database_url.removeprefix("sqlite:///")).touch()
    return blank_database_url


@pytest.mark.parametrize("command", NEEDING_A_DATABASE, ids=" ".join)
def test_a_database_behind_the_migrations_says_to_run_db_upgrade(
    monkeypatch: pytest.MonkeyPatch, unmigrated_database_url: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", unmigrated_database_url)
    message = assert_one_line_exit_2(run(command))
    assert "not at the latest migration; run `review-engine db upgrade`" in message
    engine = create_db_engine(unmigrated_database_url)
    try:
        assert not database_at_head(engine)  # nothing was migrated behind the user's back
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", CREATING, ids=" ".join)
def test_a_sqlite_file_that_cannot_be_created_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", f"sqlite:///{tmp_path}/absent/dir/x.db")
    message = assert_one_line_exit_2(run(command))
    assert f"cannot create the SQLite database {tmp_path}/absent/dir/x.db" in message
    assert "directory" in message


@pytest.mark.parametrize(
    "command", [("db", "upgrade"), ("serve", "--port", "{port}"), ("keys", "list")], ids=" ".join
)
def test_a_database_migrated_by_a_newer_release_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, blank_database_url: str, command: tuple[str, ...]
) -> None:
    engine = create_db_engine(blank_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"
            )
            connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('f00dcafe0099')")
        monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", blank_database_url)
        message = assert_one_line_exit_2(run(command))
        assert "has migrations this version of review-engine does not know" in message
        assert "db upgrade" not in message
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert versions.scalars().all() == ["f00dcafe0099"]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REVIEW_ENGINE_TIMEZONE", "Mars/Olympus"),
        ("REVIEW_ENGINE_DUE_SOON_WORKING_DAYS", "-1"),
        ("REVIEW_ENGINE_MAX_PAGE_SIZE", "lots"),
        ("REVIEW_ENGINE_EXTRA_CLOSURE_DAYS", "2027-06-08"),  # not a JSON list
        ("REVIEW_ENGINE_EXTRA_CLOSURE_DAYS", '["2027-13-01"]'),
        ("REVIEW_ENGINE_DATABASE_URL", f"postgresql://postgres:{PASSWORD}@db:port/x"),
        ("REVIEW_ENGINE_DATABASE_URL", f"mysql://root:{PASSWORD}@127.0.0.1/review_engine"),
        ("REVIEW_ENGINE_DATABASE_URL", f"{PASSWORD}"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [("keys", "list"), ("db", "upgrade"), ("serve", "--port", "{port}"), ("openapi", "export")],
    ids=" ".join,
)
def test_an_invalid_setting_is_named_with_what_is_expected(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    value: str,
    command: tuple[str, ...],
    no_server: list[object],
) -> None:
    monkeypatch.chdir(tmp_path)  # `openapi export` would write here, and there is no .env
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.setenv(variable, value)
    message = assert_one_line_exit_2(run(command))
    assert f"invalid {variable}" in message
    assert value not in message  # never echoed: a URL carries a password
    expected = {
        "REVIEW_ENGINE_TIMEZONE": "IANA time zone",
        "REVIEW_ENGINE_DUE_SOON_WORKING_DAYS": "greater than or equal to 0",
        "REVIEW_ENGINE_MAX_PAGE_SIZE": "valid integer",
        "REVIEW_ENGINE_EXTRA_CLOSURE_DAYS": "date",
        "REVIEW_ENGINE_DATABASE_URL": "expected sqlite:///",
    }[variable]
    assert expected in message
    assert no_server == []
    assert list(tmp_path.iterdir()) == []  # no database created, nothing written


def test_a_settings_validation_error_never_carries_the_password() -> None:
    """Outside the CLI (say, an app worker reading a bad environment) the error text is shown
    as it is: it must not quote the URL."""
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, database_url=f"mysql://root:{PASSWORD}@db/re")  # type: ignore[call-arg]
    assert "database_url" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_a_driver_message_never_carries_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libpq does not quote passwords today; the reason shown is masked in case a driver does."""

    def failing(_engine: Any) -> frozenset[str]:
        raise OperationalError("connect", {}, Exception(f"auth failed for {PASSWORD}\nmore"))

    monkeypatch.setattr("review_engine.db._current_revisions", failing)
    engine = create_db_engine(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/review_engine")
    try:
        diagnosis = diagnose_database(engine)
    finally:
        engine.dispose()
    assert diagnosis.state is DatabaseState.UNREACHABLE
    assert diagnosis.reason == "auth failed for ***"


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """Through the real entry point (not CliRunner): typer's own handler shows no traceback."""
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/review_engine"
    result = subprocess.run(
        [sys.executable, "-c", "from review_engine.cli import app; app()", "keys", "list"],
        env={"PATH": "/usr/bin:/bin", "REVIEW_ENGINE_DATABASE_URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot open")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr
