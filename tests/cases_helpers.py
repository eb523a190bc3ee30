"""Helpers for driving cases through the HTTP API in tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

CANARY_NAME = "Zebedee Canary-Quux"
CANARY_SUMMARY = "CANARY-SUMMARY-7f3a: found unresponsive at 14 Canary Row"


def new_case(
    reference: str = "RR-2026-001", partnership: str = "wessex", **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partnership": partnership,
        "reference": reference,
        "incident_type": "serious_harm",
        "aware_on": "2026-06-01",
        "incident_on": "2026-05-30",
        "themes": ["neglect", "domestic_abuse"],
        "summary": CANARY_SUMMARY,
        "children": [{"name": CANARY_NAME, "date_of_birth": "2025-03-14", "ethnicity": "Canary"}],
    }
    body.update(fields)
    return body


def create(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/cases", json=new_case(**fields), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["_etag"] = response.headers["ETag"]
    return body


def fire(
    client: TestClient,
    headers: dict[str, str],
    case: dict[str, Any],
    event: str,
    payload: dict[str, Any] | None = None,
    *,
    expect: int = 200,
) -> dict[str, Any]:
    response = client.post(
        f"/cases/{case['id']}/events/{event}",
        json=payload or {},
        headers={**headers, "If-Match": case["_etag"]},
    )
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    if expect == 200:
        body["_etag"] = response.headers["ETag"]
    return body


# One realistic route through an LCSPR, as (event, payload, state after).
LCSPR_JOURNEY: list[tuple[str, dict[str, Any], str]] = [
    ("notify_panel", {"notified_on": "2026-06-03"}, "rapid_review"),
    ("inform_partners", {"partners_informed_on": "2026-06-04"}, "rapid_review"),
    (
        "submit_rapid_review",
        {"submitted_on": "2026-06-19", "recommendation": "lcspr"},
        "awaiting_panel",
    ),
    ("record_panel_response", {"received_on": "2026-07-01", "outcome": "agreed"}, "lcspr"),
    (
        "pause",
        {"started_on": "2026-07-06", "reason": "criminal trial", "panel_informed_on": "2026-07-07"},
        "lcspr_paused",
    ),
    ("resume", {"resumed_on": "2026-07-13"}, "lcspr"),
]
