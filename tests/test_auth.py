"""API-key authentication (401) and role checks (403), through HTTP."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from review_engine.app import create_app
from review_engine.auth.models import ApiKey, Principal, Role
from review_engine.auth.service import parse_key, revoke_api_key
from review_engine.auth.usage import LAST_USED_RESOLUTION
from review_engine.settings import Settings

Headers = dict[str, str]
CHALLENGE = 'Bearer realm="review-engine"'


def assert_unauthorized(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["WWW-Authenticate"] == CHALLENGE  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.json()["type"] == "/problems/unauthorized"  # type: ignore[attr-defined]


def test_a_valid_key_is_accepted(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    response = client.get("/partnerships", headers=auth(make_key(role="viewer")))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token re_abc_def",
        "Bearer not-a-key",
        "Bearer re_",
        "Bearer re_deadbeef0000",
        "Bearer re_deadbeef0000_short",
        "Bearer re_deadbeef0000_" + "A" * 43,
    ],
    ids=lambda value: repr(value),
)
def test_missing_or_malformed_keys_are_401(client: TestClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_unauthorized(client.get("/partnerships", headers=headers))


def test_a_right_id_with_a_wrong_secret_is_401(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    key_id, secret = parse_key(make_key(role="admin")) or ("", "")
    wrong = f"re_{key_id}_{'x' * len(secret)}"
    assert_unauthorized(client.get("/partnerships", headers=auth(wrong)))


def test_a_revoked_key_is_refused_on_its_next_request(
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
    session: Session,
) -> None:
    key = make_key(role="admin", name="soon-revoked")
    assert client.get("/partnerships", headers=auth(key)).status_code == 200
    revoke_api_key(session=session, name="soon-revoked")
    assert_unauthorized(client.get("/partnerships", headers=auth(key)))


@pytest.mark.parametrize("param", ["api_key", "access_token", "token"])
def test_keys_in_the_query_string_are_refused(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers], param: str
) -> None:
    key = make_key(role="admin")
    assert_unauthorized(client.get(f"/partnerships?{param}={key}"))
    # Even alongside a valid header: the key has leaked into a URL and must not be used so.
    response = client.get(f"/partnerships?{param}={key}", headers=auth(key))
    assert_unauthorized(response)
    assert "never in the URL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("member", 403), ("manager", 403), ("admin", 201)],
)
def test_only_admins_create_partnerships(
    client: TestClient, headers_for: Callable[..., Headers], role: str, status: int
) -> None:
    body = {"code": f"p-{role}", "name": "Partnership"}
    response = client.post("/partnerships", json=body, headers=headers_for(role))
    assert response.status_code == status
    if status == 403:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/forbidden"
        assert "WWW-Authenticate" not in response.headers


def test_last_used_at_is_stored_apart_from_requests_at_most_once_a_minute(
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
    session: Session,
) -> None:
    key = make_key(role="viewer", name="watched")
    app: Any = client.app
    engine: Engine = app.state.engine
    written: list[str] = []

    def catch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")):
            written.append(statement)

    def last_used() -> object:
        session.rollback()
        return session.exec(select(ApiKey.last_used_at).where(ApiKey.name == "watched")).one()

    def flush() -> int:
        stored: int = app.state.key_usage.flush(engine)
        return stored

    event.listen(engine, "before_cursor_execute", catch)
    try:
        assert client.get("/partnerships", headers=auth(key)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    # A read writes nothing and, on SQLite, never takes the write lock (BEGIN IMMEDIATE).
    assert written == []
    assert last_used() is None
    assert flush() == 1
    first = last_used()
    assert first is not None
    client.get("/partnerships", headers=auth(key))
    assert flush() == 0
    assert last_used() == first  # within the minute: nothing to store

    # Pretend the last use was long ago; the next request's use is stored at the next flush.
    api_key = session.exec(select(ApiKey).where(ApiKey.name == "watched")).one()
    api_key.last_used_at = first - LAST_USED_RESOLUTION - timedelta(seconds=1)  # type: ignore[operator]
    session.add(api_key)
    session.commit()
    client.get("/partnerships", headers=auth(key))
    assert flush() == 1
    assert last_used() > first  # type: ignore[operator]


def test_a_use_not_yet_stored_is_stored_when_the_app_shuts_down(
    settings: Settings, make_key: Callable[..., str], session: Session
) -> None:
    key = make_key(role="viewer", name="shutdown")
    with TestClient(create_app(settings)) as client:
        assert client.get("/partnerships", headers={"Authorization": f"Bearer {key}"}).is_success
    stored = session.exec(select(ApiKey.last_used_at).where(ApiKey.name == "shutdown")).one()
    assert stored is not None


def test_a_write_request_reads_its_key_before_taking_the_write_lock(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    app: Any = client.app
    engine: Engine = app.state.engine
    statements: list[str] = []

    def catch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    body, admin = {"code": "locks", "name": "Partnership"}, auth(make_key(role="admin"))
    event.listen(engine, "before_cursor_execute", catch)
    try:
        made = client.post("/partnerships", json=body, headers=admin)
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    assert made.status_code == 201
    key_read = next(i for i, s in enumerate(statements) if "FROM api_key" in s)
    first_write = next(i for i, s in enumerate(statements) if s.startswith("INSERT"))
    if engine.dialect.name == "sqlite":  # the write lock is taken after the key's read ends
        lock = statements.index("BEGIN IMMEDIATE")
        assert statements.index("BEGIN DEFERRED") < key_read < lock < first_write
    else:
        assert key_read < first_write


def test_only_a_hash_of_the_secret_is_stored(
    make_key: Callable[..., str], session: Session
) -> None:
    key = make_key(role="viewer", name="hashed")
    _, secret = parse_key(key) or ("", "")
    stored = session.exec(select(ApiKey).where(ApiKey.name == "hashed")).one()
    assert secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64
    assert len(secret) >= 43  # 32 random bytes: 256 bits


def test_principal_roles_and_scope() -> None:
    scoped = Principal(key_name="k", role=Role.MEMBER, partnership_codes=frozenset({"wessex"}))
    assert scoped.can_access("wessex")
    assert not scoped.can_access("mercia")
    assert scoped.at_least(Role.VIEWER)
    assert scoped.at_least(Role.MEMBER)
    assert not scoped.at_least(Role.MANAGER)
    everywhere = Principal(key_name="a", role=Role.ADMIN, partnership_codes=None)
    assert everywhere.can_access("anything")
    assert all(everywhere.at_least(role) for role in Role)
