"""`/partnerships/{code}/agencies` through HTTP (SQLite and PostgreSQL): a manager adds an
agency, names are unique ignoring case and spacing, the list is by name and paged, a key
scoped elsewhere sees nothing, and a retried POST with an `Idempotency-Key` adds one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = dict[str, str]
MakePartnership = Callable[..., dict[str, Any]]

PROBLEM = "application/problem+json"


@pytest.fixture
def manager(partnership: MakePartnership, headers_for: Callable[..., Headers]) -> Headers:
    """A manager's headers, with the partnerships wessex and mercia registered."""
    partnership("wessex")
    partnership("mercia")
    return headers_for("manager")


def add(client: TestClient, headers: Headers, name: str, code: str = "wessex") -> dict[str, Any]:
    response = client.post(f"/partnerships/{code}/agencies", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def names(client: TestClient, headers: Headers, code: str = "wessex") -> list[str]:
    response = client.get(f"/partnerships/{code}/agencies", headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def assert_problem(response: Any, status: int, type_: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == type_
    if field is not None:
        assert [error["field"] for error in response.json()["errors"]] == [field]


def test_a_manager_adds_an_agency_and_reads_it_back(
    client: TestClient, manager: Headers, headers_for: Callable[..., Headers]
) -> None:
    response = client.post(
        "/partnerships/wessex/agencies", json={"name": "  Dorset   Police "}, headers=manager
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Dorset Police"  # stripped, inner spaces collapsed
    assert created["partnership"] == "wessex"
    assert response.headers["Location"] == f"/partnerships/wessex/agencies/{created['id']}"

    fetched = client.get(response.headers["Location"], headers=headers_for("viewer"))
    assert fetched.status_code == 200
    assert fetched.json() == created


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_only_a_manager_may_add_one(
    client: TestClient, manager: Headers, headers_for: Callable[..., Headers], role: str
) -> None:
    response = client.post(
        "/partnerships/wessex/agencies", json={"name": "Dorset Police"}, headers=headers_for(role)
    )
    assert_problem(response, 403, "/problems/forbidden")
    assert names(client, manager) == []


@pytest.mark.parametrize("again", ["Dorset Police", "DORSET POLICE", " dorset   police "])
def test_a_name_already_listed_is_409_whatever_its_case_or_spacing(
    client: TestClient, manager: Headers, again: str
) -> None:
    first = add(client, manager, "Dorset Police")
    response = client.post("/partnerships/wessex/agencies", json={"name": again}, headers=manager)
    assert_problem(response, 409, "/problems/duplicate-name")
    assert names(client, manager) == ["Dorset Police"]
    single = client.get(f"/partnerships/wessex/agencies/{first['id']}", headers=manager)
    assert single.json() == first
    # Another partnership may list the same agency.
    assert add(client, manager, "DORSET POLICE", code="mercia")["name"] == "DORSET POLICE"


def test_the_list_is_by_name_ignoring_case_and_walks_page_by_page(
    client: TestClient, manager: Headers
) -> None:
    for name in ["Wessex Police", "barnardo's", "Dorset Council", "Avon Health", "NHS Dorset"]:
        add(client, manager, name)
    add(client, manager, "Mercia Police", code="mercia")  # never on wessex's pages
    expected = ["Avon Health", "barnardo's", "Dorset Council", "NHS Dorset", "Wessex Police"]
    assert names(client, manager) == expected

    walked: list[str] = []
    cursor: str | None = None
    for _ in range(len(expected)):
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/partnerships/wessex/agencies", params=params, headers=manager)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) == 1
        walked += [item["name"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert walked == expected
    assert cursor is None  # the fifth page is the last


def test_a_key_scoped_to_another_partnership_gets_404_for_list_read_and_add(
    client: TestClient, manager: Headers, headers_for: Callable[..., Headers]
) -> None:
    agency = add(client, manager, "Dorset Police")
    elsewhere = headers_for("manager", partnerships=["mercia"])

    listed = client.get("/partnerships/wessex/agencies", headers=elsewhere)
    read = client.get(f"/partnerships/wessex/agencies/{agency['id']}", headers=elsewhere)
    added = client.post(
        "/partnerships/wessex/agencies", json={"name": "Wessex Health"}, headers=elsewhere
    )
    for response in (listed, read, added):
        assert_problem(response, 404, "/problems/not-found")
    assert names(client, manager) == ["Dorset Police"]

    # Nor does the agency show under the key's own partnership's path.
    own = client.get(f"/partnerships/mercia/agencies/{agency['id']}", headers=elsewhere)
    assert_problem(own, 404, "/problems/not-found")


@pytest.mark.parametrize(
    "name", ["Dorset\x00Police", "   ", "x" * 201], ids=["nul", "blank", "too-long"]
)
def test_an_unusable_name_is_422_naming_the_field(
    client: TestClient, manager: Headers, name: str
) -> None:
    response = client.post("/partnerships/wessex/agencies", json={"name": name}, headers=manager)
    assert_problem(response, 422, "/problems/unprocessable-content", field="body.name")
    assert "x" * 201 not in response.text  # the input is not echoed
    assert names(client, manager) == []


def test_a_retried_post_with_an_idempotency_key_adds_one_agency(
    client: TestClient, manager: Headers
) -> None:
    headers = {**manager, "Idempotency-Key": "add-dorset-police-1"}
    body = {"name": "Dorset Police"}
    first = client.post("/partnerships/wessex/agencies", json=body, headers=headers)
    again = client.post("/partnerships/wessex/agencies", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert names(client, manager) == ["Dorset Police"]

    # A new key is a new request: now the name is taken.
    other = {**manager, "Idempotency-Key": "add-dorset-police-2"}
    assert_problem(
        client.post("/partnerships/wessex/agencies", json=body, headers=other),
        409,
        "/problems/duplicate-name",
    )
