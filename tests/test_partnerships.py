"""`/partnerships` through HTTP: create, list, get, patch, scoping, validation."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from review_engine.partnerships.models import Partnership

Headers = dict[str, str]
MakePartnership = Callable[..., dict[str, Any]]


def test_create_then_get(client: TestClient, headers_for: Callable[..., Headers]) -> None:
    admin = headers_for("admin")
    body = {"code": "wessex", "name": "Wessex SCP", "rapid_review_clock_start": "aware"}
    created = client.post("/partnerships", json=body, headers=admin)
    assert created.status_code == 201
    assert created.headers["Location"] == "/partnerships/wessex"
    assert created.json()["rapid_review_clock_start"] == "aware"
    assert created.json()["created_at"].endswith(("Z", "+00:00"))

    fetched = client.get(created.headers["Location"], headers=headers_for("viewer"))
    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_clock_start_defaults_to_notified(
    client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    response = client.post(
        "/partnerships", json={"code": "mercia", "name": "Mercia"}, headers=headers_for("admin")
    )
    assert response.json()["rapid_review_clock_start"] == "notified"


def test_duplicate_code_is_409(
    client: TestClient,
    partnership: MakePartnership,
    headers_for: Callable[..., Headers],
    session: Session,
) -> None:
    partnership("wessex")
    response = client.post(
        "/partnerships", json={"code": "wessex", "name": "Again"}, headers=headers_for("admin")
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/duplicate-code"
    assert session.exec(select(func.count()).select_from(Partnership)).one() == 1


def test_list_is_ordered_by_code_and_paged(
    client: TestClient, partnership: MakePartnership, headers_for: Callable[..., Headers]
) -> None:
    for code in ["wessex", "mercia", "anglia", "northumbria", "kent"]:
        partnership(code)
    viewer = headers_for("viewer")
    everything = client.get("/partnerships", headers=viewer).json()
    codes = [item["code"] for item in everything["items"]]
    assert codes == ["anglia", "kent", "mercia", "northumbria", "wessex"]
    assert everything["next_cursor"] is None

    first = client.get("/partnerships?limit=2", headers=viewer).json()
    assert [item["code"] for item in first["items"]] == ["anglia", "kent"]
    second = client.get(f"/partnerships?limit=2&cursor={first['next_cursor']}", headers=viewer)
    assert [item["code"] for item in second.json()["items"]] == ["mercia", "northumbria"]
    last = client.get(
        f"/partnerships?limit=2&cursor={second.json()['next_cursor']}", headers=viewer
    ).json()
    assert [item["code"] for item in last["items"]] == ["wessex"]
    assert last["next_cursor"] is None
    forged = client.get("/partnerships?cursor=WyIuLi4iXQ", headers=viewer)  # ["..."]
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "query.cursor"


def test_a_scoped_key_sees_only_its_partnerships(
    client: TestClient, partnership: MakePartnership, headers_for: Callable[..., Headers]
) -> None:
    partnership("wessex")
    partnership("mercia")
    scoped = headers_for("manager", partnerships=["wessex"])

    listed = client.get("/partnerships", headers=scoped).json()
    assert [item["code"] for item in listed["items"]] == ["wessex"]
    assert client.get("/partnerships/wessex", headers=scoped).status_code == 200

    # Another partnership is indistinguishable from a missing one: 404, never 403.
    hidden = client.get("/partnerships/mercia", headers=scoped)
    missing = client.get("/partnerships/atlantis", headers=scoped)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["type"] == missing.json()["type"] == "/problems/not-found"
    patched = client.patch("/partnerships/mercia", json={"name": "Taken"}, headers=scoped)
    assert patched.status_code == 404
    assert client.get("/partnerships/mercia", headers=headers_for("viewer")).json()["name"] != (
        "Taken"
    )


def test_patch_changes_settings(
    client: TestClient, partnership: MakePartnership, headers_for: Callable[..., Headers]
) -> None:
    created = partnership("wessex")
    manager = headers_for("manager")
    response = client.patch(
        "/partnerships/wessex", json={"rapid_review_clock_start": "aware"}, headers=manager
    )
    assert response.status_code == 200
    assert response.json()["rapid_review_clock_start"] == "aware"
    assert response.json()["name"] == created["name"]

    renamed = client.patch("/partnerships/wessex", json={"name": " Wessex "}, headers=manager)
    assert renamed.json()["name"] == "Wessex"
    assert renamed.json()["rapid_review_clock_start"] == "aware"


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_patch_needs_a_manager(
    client: TestClient,
    partnership: MakePartnership,
    headers_for: Callable[..., Headers],
    role: str,
) -> None:
    partnership("wessex")
    response = client.patch("/partnerships/wessex", json={"name": "x"}, headers=headers_for(role))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "Jane-Smith", "name": "x"}, "body.code"),
        ({"code": "j", "name": "x"}, "body.code"),
        ({"code": "-leading", "name": "x"}, "body.code"),
        ({"code": "a" * 41, "name": "x"}, "body.code"),
        ({"code": "ok-code", "name": "   "}, "body.name"),
        ({"code": "ok-code"}, "body.name"),
        ({"code": "ok-code", "name": "x", "rapid_review_clock_start": "Jane"}, None),
        ({"code": "ok-code", "name": "x", "id": "0000"}, "body.id"),
    ],
)
def test_invalid_input_is_422_naming_the_field_without_echoing_it(
    client: TestClient,
    headers_for: Callable[..., Headers],
    body: dict[str, Any],
    field: str | None,
) -> None:
    response = client.post("/partnerships", json=body, headers=headers_for("admin"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/unprocessable-content"
    fields = [error["field"] for error in problem["errors"]]
    assert (field or "body.rapid_review_clock_start") in fields
    for value in body.values():
        if value not in ("x", "ok-code"):
            assert str(value) not in response.text


def test_patch_refuses_the_code_and_unknown_fields(
    client: TestClient, partnership: MakePartnership, headers_for: Callable[..., Headers]
) -> None:
    partnership("wessex")
    response = client.patch(
        "/partnerships/wessex", json={"code": "renamed"}, headers=headers_for("manager")
    )
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.code"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415(
    client: TestClient, headers_for: Callable[..., Headers], content_type: str | None
) -> None:
    headers = headers_for("admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(
        "/partnerships", content=b'{"code": "wessex", "name": "W"}', headers=headers
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "header.Content-Type", "message": "must be application/json"}
    ]
    assert "application/json" in response.json()["detail"]


def test_malformed_json_is_400_saying_where(
    client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    response = client.post(
        "/partnerships",
        content=b'{"code": "wessex",\n "name": "Jane Smith"',
        headers={**headers_for("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "line 2, column 22" in response.json()["detail"]
    assert "Jane Smith" not in response.text


def test_unknown_query_parameters_are_422_naming_them(
    client: TestClient, headers_for: Callable[..., Headers]
) -> None:
    response = client.get("/partnerships?limt=2&curser=x", headers=headers_for("viewer"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.curser", "query.limt"]
