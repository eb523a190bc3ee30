"""Who may do what: partnership scoping (404, never a leak) and roles (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from review_engine.cases.models import Case, CaseHistoryEntry
from tests.cases_helpers import create, new_case

Headers = dict[str, str]


@pytest.fixture
def keys(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> dict[str, Headers]:
    admin = auth(make_key(role="admin"))
    for code in ("wessex", "kingsmere"):
        response = client.post("/partnerships", json={"code": code, "name": code}, headers=admin)
        assert response.status_code == 201, response.text
    return {
        "admin": admin,
        "viewer": auth(make_key(role="viewer")),
        "member": auth(make_key(role="member")),
        "manager": auth(make_key(role="manager")),
        "kingsmere_manager": auth(make_key(role="manager", partnerships=["kingsmere"])),
    }


def _counts(session: Session) -> tuple[int, int]:
    cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
    entries = session.execute(select(func.count()).select_from(CaseHistoryEntry)).scalar_one()
    session.rollback()  # end the read transaction so the API's writers are not held up
    return cases, entries


def test_a_case_outside_the_keys_partnerships_does_not_exist_for_it(
    client: TestClient, keys: dict[str, Headers], session: Session
) -> None:
    case = create(client, keys["member"])
    outsider = keys["kingsmere_manager"]
    before = _counts(session)
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/cases/{case['id']}", None),
        ("GET", f"/cases/{case['id']}/history", None),
        ("PATCH", f"/cases/{case['id']}", {"themes": ["x"]}),
        ("POST", f"/cases/{case['id']}/events/notify_panel", {"notified_on": "2026-06-03"}),
        ("POST", f"/cases/{case['id']}/events/publish", {}),
    ]
    missing = "/cases/00000000-0000-4000-8000-000000000000"
    for method, url, body in routes:
        response = client.request(
            method, url, json=body, headers={**outsider, "If-Match": case["_etag"]}
        )
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        nonexistent = client.request(
            method,
            url.replace(f"/cases/{case['id']}", missing),
            json=body,
            headers={**outsider, "If-Match": case["_etag"]},
        )
        # Indistinguishable from a case that does not exist, apart from the id itself.
        assert nonexistent.status_code == 404
        assert response.json()["title"] == nonexistent.json()["title"]
    assert _counts(session) == before
    listed = client.get("/cases", headers=outsider).json()["items"]
    assert listed == []
    assert client.get("/cases", params={"partnership": "wessex"}, headers=outsider).json() == {
        "items": [],
        "next_cursor": None,
    }
    refused = client.post("/cases", json={**_body(), "partnership": "wessex"}, headers=outsider)
    assert refused.status_code == 422  # it cannot create cases there either


def _body() -> dict[str, Any]:
    return new_case(reference="RR-OTHER")


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 403), ("member", 201), ("manager", 201), ("admin", 201)]
)
def test_who_may_create_a_case(
    client: TestClient, keys: dict[str, Headers], role: str, status: int
) -> None:
    response = client.post("/cases", json=_body(), headers=keys[role])
    assert response.status_code == status, response.text


def test_viewers_read_but_cannot_change(client: TestClient, keys: dict[str, Headers]) -> None:
    case = create(client, keys["member"])
    viewer = {**keys["viewer"], "If-Match": case["_etag"]}
    assert client.get(f"/cases/{case['id']}", headers=viewer).status_code == 200
    assert client.get("/cases", headers=viewer).status_code == 200
    assert client.get(f"/cases/{case['id']}/history", headers=viewer).status_code == 200
    fired = client.post(
        f"/cases/{case['id']}/events/notify_panel",
        json={"notified_on": "2026-06-03"},
        headers=viewer,
    )
    assert fired.status_code == 403
    patched = client.patch(f"/cases/{case['id']}", json={"themes": []}, headers=viewer)
    assert patched.status_code == 403


def test_no_key_is_401_with_www_authenticate(client: TestClient, keys: dict[str, Headers]) -> None:
    for method, url in (("GET", "/cases"), ("POST", "/cases"), ("GET", "/workflow")):
        response = client.request(method, url)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
