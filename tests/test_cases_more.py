"""Cases: idempotent event replays, partnership settings moving deadlines, no data in logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire, new_case

Headers = dict[str, str]


@pytest.fixture
def admin(wessex_admin: Headers) -> Headers:
    return wessex_admin


def test_an_event_replayed_with_its_idempotency_key_happens_once(
    client: TestClient, admin: Headers
) -> None:
    case = create(client, admin)
    headers = {**admin, "If-Match": case["_etag"], "Idempotency-Key": "notify-7d1c"}
    url = f"/cases/{case['id']}/events/notify_panel"
    responses = [
        client.post(url, json={"notified_on": "2026-06-03"}, headers=headers) for _ in range(5)
    ]
    assert [r.status_code for r in responses] == [200] * 5
    assert len({r.content for r in responses}) == 1
    assert responses[-1].headers["Idempotent-Replayed"] == "true"
    history = client.get(f"/cases/{case['id']}/history", headers=admin).json()["items"]
    assert [entry["action"] for entry in history] == ["create", "event"]
    changed = client.post(url, json={"notified_on": "2026-06-04"}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["type"] == "/problems/idempotency-key-reused"


def test_changing_the_rapid_review_clock_start_moves_stored_deadlines(
    client: TestClient, admin: Headers
) -> None:
    case = create(client, admin)
    case = fire(client, admin, case, "inform_partners", {"partners_informed_on": "2026-06-02"})
    fire(client, admin, case, "notify_panel", {"notified_on": "2026-06-05"})
    params = {"overdue": "true", "as_of": "2026-06-24"}
    assert client.get("/cases", params=params, headers=admin).json()["items"] == []
    moved = client.patch(
        "/partnerships/wessex", json={"rapid_review_clock_start": "aware"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    overdue = client.get("/cases", params=params, headers=admin).json()["items"]
    assert [item["reference"] for item in overdue] == [case["reference"]]
    rapid_review = {d["name"]: d for d in overdue[0]["deadlines"]}["rapid_review"]
    assert rapid_review["due_on"] == "2026-06-22"  # from aware_on (1 June), not 5 June
    assert rapid_review["basis"]["start_event"] == "aware_on"


def test_sensitive_values_never_reach_the_logs(
    client: TestClient, admin: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = create(client, admin)
    client.post("/cases", json=new_case(), headers=admin)  # 409 duplicate
    client.post(
        "/cases",
        json=new_case(reference="X", children=[{"name": CANARY_NAME, "age_years": -1}]),
        headers=admin,
    )
    client.patch(
        f"/cases/{case['id']}",
        json={"summary": CANARY_SUMMARY, "state": "x"},
        headers={**admin, "If-Match": "*"},
    )
    client.get(f"/cases/{case['id']}", headers=admin)
    assert caplog.records, "expected some log output to check"
    assert CANARY_NAME not in caplog.text
    assert CANARY_SUMMARY not in caplog.text


@pytest.mark.parametrize(
    ("method", "url", "body", "params", "field"),
    [
        ("POST", "/cases", {"aware_on": "1871-12-29", "incident_on": None}, {}, "body.aware_on"),
        ("POST", "/cases", {"incident_on": "2026-06-02"}, {}, "body.incident_on"),
        ("POST", "/cases", {"summary": "a\x00b"}, {}, "body.summary"),
        ("POST", "/cases", {"children": [{"name": "A\x00"}]}, {}, "body.children"),
        ("GET", "/cases", None, {"as_of": "2101-01-03"}, "query.as_of"),
        ("GET", "/cases", None, {"theme": "\x00"}, "query.theme"),
        (
            "GET",
            "/cases",
            None,
            {"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgIngiXQ"},
            "query.cursor",
        ),
    ],
)
def test_dates_outside_the_calendar_and_nul_characters_are_422(
    client: TestClient,
    admin: Headers,
    method: str,
    url: str,
    body: dict[str, object] | None,
    params: dict[str, str],
    field: str,
) -> None:
    json_body = new_case(**body) if body is not None else None
    response = client.request(method, url, json=json_body, params=params, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith(field)
