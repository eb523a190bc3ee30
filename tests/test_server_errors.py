"""An unexpected exception: a 500 problem, its traceback in the log, and the client's
connection still open for its next request (`review_engine.server_errors`), against a
live uvicorn on loopback."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import TimeoutError as PoolTimeout

from review_engine.idempotency import middleware
from tests.conftest import served


@pytest.fixture
def failing(app: FastAPI) -> Iterator[tuple[str, int]]:
    """The app, with a route that fails, served by uvicorn as production serves it."""

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a fault the code did not foresee")

    with served(app) as address:
        yield address


def _ask(
    connection: socket.socket, reader: BinaryIO, path: str
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 GET on an open connection, and its answer (status, headers, body)."""
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    status_line = reader.readline()
    assert status_line, "the server closed the connection"
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


def test_a_500_keeps_the_connection_for_the_next_request(
    failing: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with socket.create_connection(failing, timeout=10) as connection:
        reader = connection.makefile("rb")
        status, headers, body = _ask(connection, reader, "/test-only/boom?reference=SECRET-REF")
        assert status == 500
        assert headers["content-type"] == "application/problem+json"
        assert headers.get("connection") != "close"
        problem = json.loads(body)
        assert problem["type"] == "/problems/internal-server-error"
        assert problem["detail"] == "The server failed to complete the request."
        assert "foresee" not in body.decode()  # the exception's text stays in the log
        # The same connection answers the next request.
        assert _ask(connection, reader, "/healthz")[0] == 200
    assert "Unexpected error answering GET /test-only/boom" in caplog.text
    assert "a fault the code did not foresee" in caplog.text  # the traceback is logged
    assert "SECRET-REF" not in caplog.text  # never the query string


def test_a_database_that_fails_before_any_route_runs_is_a_503(
    client: TestClient,
    headers_for: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The idempotency middleware reads the key's record before the app's handlers are
    reached: a pool with no free connection there is a 503 to retry, as in a route."""

    def no_connection(*_args: object) -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    monkeypatch.setattr(middleware, "_look_up", no_connection)
    caplog.set_level(logging.ERROR)
    headers = {**headers_for("admin"), "Idempotency-Key": "k-1"}
    response = client.post("/partnerships", json={"code": "x", "name": "X"}, headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert "QueuePool" not in response.text
    assert not caplog.records  # a busy database is not a fault to chase
