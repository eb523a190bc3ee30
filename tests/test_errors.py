"""Every error is RFC 9457 problem+json, and none reveals internals or submitted values."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from review_engine.body_limit import MAX_BODY_BYTES
from review_engine.db import SessionDep
from review_engine.errors import (
    Conflict,
    IdempotencyKeyReused,
    Problem,
    TransitionNotAllowed,
    Unauthorized,
    UnprocessableContent,
    problem_for_status,
)

Headers = dict[str, str]
PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, type_: str) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["type"] == type_
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/no/such/thing"), 404, "/problems/not-found")
    assert body["instance"] == "/no/such/thing"
    assert "no/such" not in str(body["detail"])


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/partnerships")
    assert_problem(response, 405, "/problems/method-not-allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_an_oversized_body_is_a_413_problem(
    client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    admin = headers_for("admin")
    big = b"x" * (MAX_BODY_BYTES + 1)
    response = client.post(
        "/partnerships", content=big, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, "/problems/payload-too-large")


@pytest.mark.parametrize("idempotency_key", [None, "big-1"])
def test_an_oversized_streamed_body_is_a_413_problem(
    client: TestClient, headers_for: Callable[..., Headers], idempotency_key: str | None
) -> None:
    """No Content-Length: the cap applies while reading, inside or outside the middleware."""

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    headers = {**headers_for("admin"), "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    response = client.post("/partnerships", content=chunks(), headers=headers)
    assert_problem(response, 413, "/problems/payload-too-large")


def test_a_body_at_the_limit_is_read(
    client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    padding = " " * (MAX_BODY_BYTES - 40)
    body = ('{"code": "wessex", "name": "W"' + padding + "}").encode()
    assert len(body) <= MAX_BODY_BYTES
    response = client.post(
        "/partnerships",
        content=body,
        headers={**headers_for("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/test-only/crash")
    def crash() -> None:
        raise RuntimeError("secret detail at /srv/app/review_engine/x.py for Jane Smith")

    @app.get("/test-only/bad-sql")
    def bad_sql(session: SessionDep) -> None:
        session.exec(  # type: ignore[call-overload]
            text("SELECT * FROM no_such_table WHERE name = :name"), params={"name": "Jane Smith"}
        )

    return app


@pytest.mark.parametrize("path", ["/test-only/crash", "/test-only/bad-sql"])
def test_a_500_reveals_nothing(failing_app: FastAPI, path: str) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert_problem(response, 500, "/problems/internal-server-error")
    for leak in ("Traceback", "Jane Smith", "/srv/", ".py", "SELECT", "no_such_table", "Error"):
        assert leak not in response.text


def test_unauthorized_always_challenges() -> None:
    problem = Unauthorized("nope", headers={"X-Extra": "1"})
    assert problem.headers == {"X-Extra": "1", "WWW-Authenticate": 'Bearer realm="review-engine"'}


def test_problem_bodies_carry_extensions() -> None:
    problem = TransitionNotAllowed("Can't close a draft.", allowed_events=["submit"])
    assert isinstance(problem, Conflict)
    assert problem.body("/cases/1") == {
        "type": "/problems/transition-not-allowed",
        "title": "Transition not allowed",
        "status": 409,
        "detail": "Can't close a draft.",
        "instance": "/cases/1",
        "allowed_events": ["submit"],
    }
    assert isinstance(IdempotencyKeyReused("x"), UnprocessableContent)
    errors = UnprocessableContent("bad", errors=[{"field": "body.x", "message": "m"}]).body()
    assert errors["errors"] == [{"field": "body.x", "message": "m"}]


def test_unmapped_statuses_keep_their_code() -> None:
    problem = problem_for_status(418)
    assert isinstance(problem, Problem)
    assert (problem.status, problem.type, problem.title) == (418, "about:blank", "I'm a Teapot")


def test_a_busy_database_is_a_retryable_503_not_a_500() -> None:
    import sqlite3

    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from review_engine.errors import install_problem_handlers

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/busy")
    def busy() -> None:
        raise OperationalError(
            "UPDATE secret SET name = 'Child A'", {}, sqlite3.OperationalError("database is locked")
        )

    with TestClient(app) as client:
        response = client.get("/busy")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert "UPDATE" not in response.text
    assert "Child A" not in response.text


def test_a_field_that_may_be_left_out_is_named_once_with_what_is_wrong(
    client: TestClient, wessex_admin: Headers
) -> None:
    """A blank name in a partnership change is one error naming `body.name`, saying what
    is wrong, not one per union member pydantic tried (`body.name.function-after[...]`,
    `body.name.none: Input should be None`)."""
    response = client.patch("/partnerships/wessex", json={"name": "   "}, headers=wessex_admin)
    body = assert_problem(response, 422, "/problems/unprocessable-content")
    assert body["errors"] == [
        {"field": "body.name", "message": "String should have at least 1 character"}
    ]
