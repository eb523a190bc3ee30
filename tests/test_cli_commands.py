"""`partnerships list`, `demo run`'s port check and key hygiene, the URL forms accepted, and
help text without type placeholders."""

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from review_engine.app import create_app
from review_engine.auth.service import parse_key
from review_engine.cli import app as cli
from review_engine.db import create_db_engine, normalise_database_url, upgrade_database
from review_engine.settings import Settings
from tests.conftest import PostgresDatabases
from tests.test_cli import free_port

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(cli, list(args))


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record uvicorn.run's arguments instead of serving."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another socket is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


# --- partnerships list -----------------------------------------------------------------------


def test_partnerships_list_shows_every_partnership_by_code(use_database: str) -> None:
    assert invoke("partnerships", "list").stdout == "no partnerships\n"
    for code, name, start in [("kingsmere", "Kingsmere SCP", "aware"), ("avon", "Avon SCP", "")]:
        options = ["--rapid-review-clock-start", start] if start else []
        created = invoke("partnerships", "create", "--code", code, "--name", name, *options)
        assert created.exit_code == 0, created.output

    result = invoke("partnerships", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "code\tname\trapid_review_clock_start",
        "avon\tAvon SCP\tnotified",
        "kingsmere\tKingsmere SCP\taware",
    ]


# --- demo run --------------------------------------------------------------------------------


def demo_key(result: Any) -> str:
    line = next(line for line in result.stdout.splitlines() if "export KEY=" in line)
    return line.strip().removeprefix("export KEY=")


def test_demo_run_refuses_a_port_in_use_before_minting_a_key(
    use_database: str, occupied_port: int, served: list[dict[str, Any]]
) -> None:
    result = invoke("demo", "run", "--port", str(occupied_port))
    assert result.exit_code == 2
    assert result.stderr == f"error: port {occupied_port} on 127.0.0.1 is in use; pass --port\n"
    assert served == []
    assert invoke("keys", "list").stdout == "no API keys\n"


def test_serve_refuses_a_port_in_use(
    use_database: str, occupied_port: int, served: list[dict[str, Any]]
) -> None:
    result = invoke("serve", "--port", str(occupied_port))
    assert result.exit_code == 2
    assert result.stderr == f"error: port {occupied_port} on 127.0.0.1 is in use; pass --port\n"
    assert served == []


def test_demo_run_revokes_the_keys_of_earlier_runs(
    use_database: str, client: TestClient, served: list[dict[str, Any]]
) -> None:
    invoke("keys", "create", "--name", "ops", "--role", "admin")  # not a demo key: kept
    keys = []
    for _ in range(3):
        result = invoke("demo", "run", "--port", str(free_port()))
        assert result.exit_code == 0, result.output
        keys.append(demo_key(result))
    assert len(served) == 3
    assert "2 earlier demo key(s) revoked" not in result.stdout  # only the live ones count
    assert "1 earlier demo key(s) revoked" in result.stdout

    def status(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return client.get("/partnerships", headers=headers).status_code

    assert [status(key) for key in keys] == [401, 401, 200]
    listing = [line.split("\t") for line in invoke("keys", "list").stdout.splitlines()[1:]]
    live = {fields[1] for fields in listing if fields[-1] == "-"}  # key ids not revoked
    ops_id = next(fields[1] for fields in listing if fields[0] == "ops")
    assert live == {ops_id, (parse_key(keys[-1]) or ("", ""))[0]}


# --- database URL forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p%40ss@db:5432/re", "postgresql+psycopg://u:p%40ss@db:5432/re"),
        ("postgresql://u:secret@db/re", "postgresql+psycopg://u:secret@db/re"),
        ("postgresql+psycopg://u:secret@db/re", "postgresql+psycopg://u:secret@db/re"),
        ("sqlite:///review-engine.db", "sqlite:///review-engine.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_urls_are_normalised_to_the_installed_drivers(given: str, expected: str) -> None:
    assert normalise_database_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "bad", ["nonsense", "mysql://u:secret@db/re", "postgresql://u:secret@db:x/re"]
)
def test_unusable_database_urls_are_refused_without_quoting_them(bad: str) -> None:
    with pytest.raises(ValueError, match="URL|unsupported|driver") as raised:
        normalise_database_url(bad)
    assert "secret" not in str(raised.value)


@pytest.fixture
def postgres_blank_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_short_postgresql_urls_work_for_the_cli_migrations_and_the_app(
    monkeypatch: pytest.MonkeyPatch, postgres_blank_url: str, scheme: str
) -> None:
    url = make_url(postgres_blank_url).set(drivername=scheme).render_as_string(hide_password=False)
    assert url.startswith(f"{scheme}://")
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", url)

    upgraded = invoke("db", "upgrade")  # the CLI, then Alembic through alembic_config
    assert upgraded.exit_code == 0, upgraded.output
    assert upgrade_database(url) is False  # at head, read through the same URL
    created = invoke("partnerships", "create", "--code", "wessex", "--name", "Wessex SCP")
    assert created.exit_code == 0, created.output
    assert invoke("partnerships", "list").stdout.splitlines()[1:] == [
        "wessex\tWessex SCP\tnotified"
    ]

    engine = create_db_engine(url)
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200


# --- help --------------------------------------------------------------------------------


def command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group of the app, as the words that reach it. (typer 0.29 builds
    on its own copy of click, so a group is recognised by its `commands`, not its class.)"""
    yield path
    for name, subcommand in getattr(command, "commands", {}).items():
        yield from command_paths(subcommand, (*path, name))


PLACEHOLDER = re.compile(r"<[a-z][a-z_ \[\]|]*>")


def test_help_shows_no_type_placeholders() -> None:
    paths = list(command_paths(typer.main.get_command(cli)))
    assert ("partnerships", "list") in paths  # the walk reaches the nested commands
    assert len(paths) > 15
    for path in paths:
        result = invoke(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.stdout
        for placeholder in ("<bool>", "<str>", "<int>", "<path>"):
            assert placeholder not in result.stdout, (path, result.stdout)
        assert not PLACEHOLDER.search(result.stdout), (path, result.stdout)
