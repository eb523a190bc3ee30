"""`Idempotency-Key` on POST: replay, misuse, concurrency, 5xx, expiry."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, col, func, select, update

from review_engine.auth.service import revoke_api_key
from review_engine.db import SessionDep, utcnow
from review_engine.idempotency import (
    RECORD_TTL,
    IdempotencyClaimDep,
    IdempotencyRecord,
    commit_answer,
    purge_expired_records,
)
from review_engine.partnerships.models import Partnership

Headers = dict[str, str]
BODY = {"code": "wessex", "name": "Wessex SCP"}


def count(session: Session, model: type[Any]) -> int:
    session.rollback()
    return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def admin(headers_for: Callable[..., Headers]) -> Headers:
    return headers_for("admin")


def test_ten_sequential_retries_create_one_partnership_and_identical_responses(
    client: TestClient, admin: Headers, session: Session
) -> None:
    headers = {**admin, "Idempotency-Key": "create-wessex-1"}
    responses = [client.post("/partnerships", json=BODY, headers=headers) for _ in range(10)]

    assert count(session, Partnership) == 1
    assert {response.status_code for response in responses} == {201}
    assert len({response.content for response in responses}) == 1
    assert {response.headers["Location"] for response in responses} == {"/partnerships/wessex"}
    assert "Idempotent-Replayed" not in responses[0].headers
    assert all(response.headers["Idempotent-Replayed"] == "true" for response in responses[1:])
    assert {response.headers["content-type"] for response in responses} == {"application/json"}


def test_error_responses_are_replayed_too(
    client: TestClient, admin: Headers, partnership: Callable[..., dict[str, Any]]
) -> None:
    partnership("wessex")
    headers = {**admin, "Idempotency-Key": "dup"}
    first = client.post("/partnerships", json=BODY, headers=headers)
    again = client.post("/partnerships", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 409
    assert first.content == again.content
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_same_key_with_a_different_body_or_path_is_422(
    client: TestClient, admin: Headers, session: Session
) -> None:
    headers = {**admin, "Idempotency-Key": "k1"}
    assert client.post("/partnerships", json=BODY, headers=headers).status_code == 201

    other_body = client.post("/partnerships", json={**BODY, "code": "mercia"}, headers=headers)
    assert other_body.status_code == 422
    assert other_body.headers["content-type"] == "application/problem+json"
    assert other_body.json()["type"] == "/problems/idempotency-key-reused"
    assert "mercia" not in other_body.text

    other_path = client.post("/partnerships/wessex", json=BODY, headers=headers)
    assert other_path.status_code == 422
    assert count(session, Partnership) == 1


def test_keys_are_scoped_to_the_caller(
    client: TestClient, headers_for: Callable[..., Headers], session: Session
) -> None:
    first = client.post(
        "/partnerships", json=BODY, headers={**headers_for("admin"), "Idempotency-Key": "same"}
    )
    second = client.post(
        "/partnerships",
        json={**BODY, "code": "mercia"},
        headers={**headers_for("admin"), "Idempotency-Key": "same"},
    )
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert count(session, Partnership) == 2


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "caf\u00e9".encode(), "tab\there"], ids=repr)
def test_bad_keys_are_400(
    client: TestClient, admin: Headers, key: str | bytes, session: Session
) -> None:
    response = client.post("/partnerships", json=BODY, headers={**admin, "Idempotency-Key": key})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert count(session, Partnership) == 0


def test_a_repeated_header_is_400(client: TestClient, admin: Headers) -> None:
    headers = [*admin.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = client.post("/partnerships", json=BODY, headers=headers)
    assert response.status_code == 400


def test_longest_key_and_quoted_form_are_accepted(client: TestClient, admin: Headers) -> None:
    longest = client.post(
        "/partnerships", json=BODY, headers={**admin, "Idempotency-Key": "k" * 255}
    )
    assert longest.status_code == 201
    quoted = {**admin, "Idempotency-Key": '"abc"'}
    assert (
        client.post("/partnerships", json={**BODY, "code": "x1"}, headers=quoted).status_code == 201
    )
    bare = {**admin, "Idempotency-Key": "abc"}
    replay = client.post("/partnerships", json={**BODY, "code": "x1"}, headers=bare)
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_requests_without_authorization_are_not_recorded(
    client: TestClient, session: Session
) -> None:
    response = client.post("/partnerships", json=BODY, headers={"Idempotency-Key": "anon"})
    assert response.status_code == 401
    assert count(session, IdempotencyRecord) == 0


def test_get_requests_ignore_the_header(
    client: TestClient, admin: Headers, session: Session
) -> None:
    response = client.get("/partnerships", headers={**admin, "Idempotency-Key": "g"})
    assert response.status_code == 200
    assert count(session, IdempotencyRecord) == 0


class Gate:
    """A test-only change (`POST /test-only/slow`) that holds its transaction open,
    key taken, from `started` until `release`."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def gate(app: FastAPI) -> Gate:
    gate = Gate()

    @app.post("/test-only/slow", status_code=201)
    def slow(session: SessionDep, claim: IdempotencyClaimDep) -> JSONResponse:
        session.exec(select(func.count()).select_from(Partnership)).one()  # the change begins
        gate.started.set()
        assert gate.release.wait(timeout=10)
        session.add(Partnership(code="slow", name="Slow SCP"))
        answer = JSONResponse({"done": "yes"}, status_code=201)
        commit_answer(session=session, answer=answer, claim=claim)
        return answer

    return gate


def test_a_duplicate_while_in_flight_is_409_then_replays(
    client: TestClient, admin: Headers, gate: Gate, session: Session
) -> None:
    """PostgreSQL answers the duplicate at once (the first holds the key's lock); SQLite
    runs one change at a time, so the duplicate waits for the first, then gets 409."""
    headers = {**admin, "Idempotency-Key": "slow-1"}
    at_once = session.get_bind().dialect.name == "postgresql"
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(client.post, "/test-only/slow", json={}, headers=headers)
        assert gate.started.wait(timeout=10)
        duplicate = pool.submit(client.post, "/test-only/slow", json={}, headers=headers)
        if at_once:
            duplicate.result(timeout=10)
        else:
            time.sleep(0.3)  # let it reach the write lock (a later arrival gets 409 too)
            assert not duplicate.done()
        gate.release.set()
        assert first.result(timeout=10).status_code == 201
        answered = duplicate.result(timeout=20)
    assert answered.status_code == 409
    assert answered.json()["type"] == "/problems/idempotency-key-in-flight"
    assert answered.headers["Retry-After"] == "1"
    replay = client.post("/test-only/slow", json={}, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert count(session, Partnership) == 1


def test_a_change_with_a_key_commits_once(
    client: TestClient, admin: Headers, app: FastAPI, session: Session
) -> None:
    """The key, the change and its stored answer: one write transaction, nothing before."""
    commits: list[int] = []
    engine = app.state.engine

    def on_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        headers = {**admin, "Idempotency-Key": "one-commit"}
        assert client.post("/partnerships", json=BODY, headers=headers).status_code == 201
        assert len(commits) == 1
        replayed = client.post("/partnerships", json=BODY, headers=headers)
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert len(commits) == 1  # a replay only reads
    finally:
        event.remove(engine, "commit", on_commit)
    assert count(session, IdempotencyRecord) == 1


def test_a_change_cut_short_leaves_nothing_and_its_retry_runs(
    app: FastAPI, admin: Headers, session: Session
) -> None:
    calls: list[int] = []

    @app.post("/test-only/cut", status_code=201)
    def cut(session: SessionDep, claim: IdempotencyClaimDep) -> JSONResponse:
        calls.append(1)
        session.add(Partnership(code="cut", name="Cut SCP"))
        session.flush()  # written, not committed
        if len(calls) == 1:
            raise RuntimeError("the process dies here")
        answer = JSONResponse({"done": "yes"}, status_code=201)
        commit_answer(session=session, answer=answer, claim=claim)
        return answer

    headers = {**admin, "Idempotency-Key": "cut-1"}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/test-only/cut", json={}, headers=headers).status_code == 500
        assert (count(session, Partnership), count(session, IdempotencyRecord)) == (0, 0)
        retried = client.post("/test-only/cut", json={}, headers=headers)
        again = client.post("/test-only/cut", json={}, headers=headers)
    assert retried.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (len(calls), count(session, Partnership)) == (2, 1)


def test_concurrent_duplicates_make_one_partnership(
    client: TestClient, admin: Headers, session: Session
) -> None:
    headers = {**admin, "Idempotency-Key": "race"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: client.post("/partnerships", json=BODY, headers=headers), range(8))
        )
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}
    created = [response for response in responses if response.status_code == 201]
    assert len({response.content for response in created}) == 1
    fresh = [response for response in created if "Idempotent-Replayed" not in response.headers]
    assert len(fresh) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["type"] == "/problems/idempotency-key-in-flight"
    assert count(session, Partnership) == 1


def test_server_errors_are_not_stored_so_a_retry_runs_again(
    app: FastAPI, admin: Headers, session: Session
) -> None:
    calls: list[int] = []

    @app.post("/test-only/flaky")
    def flaky() -> JSONResponse:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        if len(calls) == 2:
            return JSONResponse({"retry": "later"}, status_code=503)
        return JSONResponse({"ok": True}, status_code=200)

    headers = {**admin, "Idempotency-Key": "flaky-1"}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/test-only/flaky", json={}, headers=headers).status_code == 500
        assert count(session, IdempotencyRecord) == 0
        assert client.post("/test-only/flaky", json={}, headers=headers).status_code == 503
        assert count(session, IdempotencyRecord) == 0
        ok = client.post("/test-only/flaky", json={}, headers=headers)
        again = client.post("/test-only/flaky", json={}, headers=headers)
    assert ok.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(calls) == 3


def _age_records(session: Session, by: timedelta) -> None:
    session.exec(update(IdempotencyRecord).values(created_at=utcnow() - by))
    session.commit()


def test_records_expire_after_24_hours(
    client: TestClient, admin: Headers, session: Session
) -> None:
    headers = {**admin, "Idempotency-Key": "old"}
    assert client.post("/partnerships", json=BODY, headers=headers).status_code == 201
    _age_records(session, RECORD_TTL + timedelta(minutes=1))
    # An expired key may be used for a different request.
    reused = client.post("/partnerships", json={**BODY, "code": "mercia"}, headers=headers)
    assert reused.status_code == 201
    assert "Idempotent-Replayed" not in reused.headers


def test_purge_deletes_only_expired_records(
    client: TestClient, admin: Headers, session: Session
) -> None:
    for n in range(3):
        client.post(
            "/partnerships",
            json={**BODY, "code": f"p{n}"},
            headers={**admin, "Idempotency-Key": f"k{n}"},
        )
    session.exec(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.key) != "k2")
        .values(created_at=utcnow() - RECORD_TTL - timedelta(seconds=1))
    )
    session.commit()
    assert purge_expired_records(session=session) == 2
    assert count(session, IdempotencyRecord) == 1


def test_a_revoked_key_gets_401_not_the_stored_response(
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
    session: Session,
) -> None:
    headers = {**auth(make_key(role="admin", name="leaver")), "Idempotency-Key": "before"}
    assert client.post("/partnerships", json=BODY, headers=headers).status_code == 201
    revoke_api_key(session=session, name="leaver")
    response = client.post("/partnerships", json=BODY, headers=headers)
    assert response.status_code == 401
    assert "Idempotent-Replayed" not in response.headers


def test_every_post_documents_the_header(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    posts = [path["post"] for path in document["paths"].values() if "post" in path]
    assert posts
    for operation in posts:
        assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]
        assert {"400", "409", "422"} <= set(operation["responses"])
