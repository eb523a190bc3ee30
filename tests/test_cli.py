"""The `review-engine` command, through typer's CliRunner."""

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from review_engine.app import create_app
from review_engine.auth.service import parse_key
from review_engine.cli import app as cli
from review_engine.db import create_db_engine, database_at_head
from review_engine.settings import Settings
from tests.conftest import PostgresDatabases

Headers = dict[str, str]
runner = CliRunner()


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    return database_url


def invoke(*args: str) -> Any:
    return runner.invoke(cli, list(args))


def test_db_upgrade_migrates_a_blank_database(
    monkeypatch: pytest.MonkeyPatch, blank_database_url: str
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", blank_database_url)
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.output
    engine = create_db_engine(blank_database_url)
    try:
        assert database_at_head(engine)
    finally:
        engine.dispose()


def test_keys_create_prints_the_key_last_and_it_works(
    use_database: str, client: TestClient, partnership: Callable[..., dict[str, Any]]
) -> None:
    partnership("wessex")
    result = invoke(
        "keys", "create", "--name", "ops", "--role", "manager", "--partnership", "wessex"
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.rstrip("\n").splitlines()[-1]
    assert parse_key(key) is not None
    _, secret = parse_key(key) or ("", "")
    assert result.stdout.count(secret) == 1  # printed once, nowhere else

    response = client.get("/partnerships", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == ["wessex"]


def test_keys_create_refuses_unknown_partnerships_and_duplicates(use_database: str) -> None:
    unknown = invoke("keys", "create", "--name", "a", "--role", "viewer", "--partnership", "nope")
    assert unknown.exit_code == 1
    assert "nope" in unknown.output
    assert "re_" not in unknown.output

    assert invoke("keys", "create", "--name", "a", "--role", "viewer").exit_code == 0
    again = invoke("keys", "create", "--name", "a", "--role", "admin")
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_keys_create_rejects_unknown_roles(use_database: str) -> None:
    result = invoke("keys", "create", "--name", "a", "--role", "superuser")
    assert result.exit_code == 2


def test_keys_list_never_shows_secrets(use_database: str) -> None:
    keys = [
        invoke("keys", "create", "--name", name, "--role", "viewer").stdout.splitlines()[-1]
        for name in ("alpha", "beta")
    ]
    result = invoke("keys", "list")
    assert result.exit_code == 0
    assert "alpha" in result.output
    assert "beta" in result.output
    for key in keys:
        key_id, secret = parse_key(key) or ("", "")
        assert key_id in result.output  # the public id identifies the key
        assert secret not in result.output
        assert key not in result.output


def test_keys_revoke(use_database: str, client: TestClient) -> None:
    key = invoke("keys", "create", "--name", "leaver", "--role", "admin").stdout.splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/partnerships", headers=headers).status_code == 200

    result = invoke("keys", "revoke", "--name", "leaver")
    assert result.exit_code == 0, result.output
    assert client.get("/partnerships", headers=headers).status_code == 401
    listing = invoke("keys", "list").output.splitlines()
    assert [line for line in listing if line.startswith("leaver")][0].split("\t")[-1] != "-"
    assert invoke("keys", "revoke", "--name", "nobody").exit_code == 1


def test_partnerships_create(
    use_database: str, client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    result = invoke(
        "partnerships", "create", "--code", "wessex", "--name", "Wessex SCP",
        "--rapid-review-clock-start", "aware",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    fetched = client.get("/partnerships/wessex", headers=headers_for("viewer")).json()
    assert fetched["rapid_review_clock_start"] == "aware"
    assert invoke("partnerships", "create", "--code", "wessex", "--name", "x").exit_code == 1


def test_partnerships_create_names_the_bad_field_without_echoing_it(use_database: str) -> None:
    result = invoke("partnerships", "create", "--code", "Jane Smith", "--name", "x")
    assert result.exit_code == 1
    assert "code" in result.output
    assert "Jane Smith" not in result.output


def test_a_database_that_is_not_migrated_gives_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, blank_database_url: str
) -> None:
    if blank_database_url.startswith("sqlite"):
        Path(blank_database_url.removeprefix("sqlite:///")).touch()  # exists, but empty
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", blank_database_url)
    result = invoke("keys", "list")
    assert result.exit_code == 2
    assert "run `review-engine db upgrade`" in result.stderr
    assert "SELECT" not in result.output


def test_openapi_export_matches_the_app(tmp_path: Path) -> None:
    output = tmp_path / "nested" / "openapi.json"
    result = invoke("openapi", "export", "--output", str(output))
    assert result.exit_code == 0, result.output
    expected = create_app(Settings(_env_file=None, database_url="sqlite://")).openapi()  # type: ignore[call-arg]
    assert output.read_text() == json.dumps(expected, indent=2, sort_keys=True) + "\n"
    assert "/partnerships" in json.loads(output.read_text())["paths"]


def test_purge_idempotency(use_database: str) -> None:
    result = invoke("db", "purge-idempotency")
    assert result.exit_code == 0
    assert "deleted 0" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_migrates_sqlite_then_runs_uvicorn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append((args, kwargs)))
    refreshes: list[object] = []
    monkeypatch.setattr(
        "review_engine.cli.refresh_stored_deadlines", lambda **kwargs: refreshes.append(kwargs)
    )
    database_url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    port = free_port()
    result = invoke("serve", "--port", str(port), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            ("review_engine.app:served_app",),
            {"factory": True, "host": "127.0.0.1", "port": port, "workers": 2},
        )
    ]
    assert len(refreshes) == 1  # migrations ran, so the stored deadlines were recomputed
    engine = create_db_engine(database_url)
    try:
        assert database_at_head(engine)
    finally:
        engine.dispose()

    assert invoke("serve", "--port", str(port)).exit_code == 0
    assert len(calls) == 2
    assert len(refreshes) == 1  # already at head: nothing migrated, nothing to recompute


@pytest.mark.postgres
def test_serve_refuses_a_postgresql_database_that_is_not_migrated(
    monkeypatch: pytest.MonkeyPatch, postgres_databases: PostgresDatabases
) -> None:
    calls: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: calls.append(args))
    blank = postgres_databases.create()
    try:
        monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", blank)
        result = invoke("serve", "--port", str(free_port()))
        assert result.exit_code == 2
        assert "run `review-engine db upgrade`" in result.stderr
        assert calls == []
        engine = create_db_engine(blank)
        try:
            assert not database_at_head(engine)  # PostgreSQL is migrated explicitly
        finally:
            engine.dispose()
        assert invoke("db", "upgrade").exit_code == 0
        assert invoke("serve", "--port", str(free_port())).exit_code == 0
        assert len(calls) == 1
    finally:
        postgres_databases.drop(blank)


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert "Usage" in result.output
    for command in ("serve", "db", "keys", "partnerships", "openapi", "demo"):
        assert command in result.output
