"""Timescale waivers: recorded with a reason by a manager, visible in deadlines and history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cases_helpers import create

Headers = dict[str, str]


@pytest.fixture
def keys(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> dict[str, Headers]:
    admin = auth(make_key(role="admin"))
    response = client.post("/partnerships", json={"code": "wessex", "name": "W"}, headers=admin)
    assert response.status_code == 201, response.text
    return {"member": auth(make_key(role="member")), "manager": auth(make_key(role="manager"))}


def test_a_waived_clock_is_not_overdue_and_the_waiver_is_on_record(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    manager = keys["manager"]
    case = create(client, manager)  # aware Mon 1 Jun 2026
    overdue = {"overdue": "true", "as_of": "2026-06-09"}
    # Both notification clocks (due Mon 8 June) are overdue on 9 June.
    assert len(client.get("/cases", params=overdue, headers=manager).json()["items"]) == 1
    url = f"/cases/{case['id']}/waivers"
    reason = "National relaxation of timescales in force"
    body = {"clock": "notification", "reason": reason, "waived_on": "2026-06-05"}
    assert client.post(url, json=body, headers=keys["member"]).status_code == 403
    assert client.post(url, json=body, headers=manager).status_code == 428
    waived = client.post(url, json=body, headers={**manager, "If-Match": case["_etag"]})
    assert waived.status_code == 200, waived.text
    assert waived.json()["version"] == 2
    read = client.get(f"/cases/{case['id']}", params={"as_of": "2026-06-09"}, headers=manager)
    deadlines = {d["name"]: d for d in read.json()["deadlines"]}
    assert deadlines["notification"]["status"] == "waived"
    assert deadlines["notification"]["basis"]["waiver_reason"] == reason
    assert deadlines["notification"]["basis"]["waived_on"] == "2026-06-05"
    assert deadlines["partners_informed"]["status"] == "overdue"
    waiver = {"reason": reason, "waived_on": "2026-06-05"}
    assert read.json()["timeline"]["waivers"] == {"notification": waiver}
    # Still overdue, through partners_informed; waive that too and it drops off the list.
    assert len(client.get("/cases", params=overdue, headers=manager).json()["items"]) == 1
    client.post(
        url,
        json={"clock": "partners_informed", "reason": reason, "waived_on": "2026-06-09"},
        headers={**manager, "If-Match": "*"},
    )
    assert client.get("/cases", params=overdue, headers=manager).json()["items"] == []
    history = client.get(f"/cases/{case['id']}/history", headers=manager).json()["items"]
    assert [e["action"] for e in history] == ["create", "waiver", "waiver"]
    assert history[1]["details"] == {"clock": "notification", **waiver}
    # Withdrawn, the clock runs again.
    withdrawn = client.delete(
        f"/cases/{case['id']}/waivers/notification", headers={**manager, "If-Match": "*"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert len(client.get("/cases", params=overdue, headers=manager).json()["items"]) == 1
    again = client.delete(
        f"/cases/{case['id']}/waivers/notification", headers={**manager, "If-Match": "*"}
    )
    assert again.status_code == 422


def test_a_waiver_is_not_seen_as_of_a_day_before_it_was_recorded(
    client: TestClient, keys: dict[str, Headers]
) -> None:
    manager = keys["manager"]
    case = create(client, manager)  # aware Mon 1 Jun 2026: notification due Mon 8 Jun
    url = f"/cases/{case['id']}/waivers"
    body = {"clock": "notification", "reason": "relaxation", "waived_on": "2026-06-12"}
    assert client.post(url, json=body, headers={**manager, "If-Match": "*"}).status_code == 200

    def notification(as_of: str) -> str:
        params = {"as_of": as_of}
        read = client.get(f"/cases/{case['id']}", params=params, headers=manager).json()
        return next(d["status"] for d in read["deadlines"] if d["name"] == "notification")

    assert notification("2026-06-11") == "overdue"
    assert notification("2026-06-12") == "waived"
    listed = client.get(
        "/cases", params={"overdue": "true", "as_of": "2026-06-11"}, headers=manager
    )
    assert [item["id"] for item in listed.json()["items"]] == [case["id"]]
    # A corrected reason, with no date, keeps the date the waiver took effect.
    again = client.post(
        url,
        json={"clock": "notification", "reason": "national relaxation, 2026"},
        headers={**manager, "If-Match": "*"},
    )
    assert again.json()["timeline"]["waivers"]["notification"] == {
        "reason": "national relaxation, 2026",
        "waived_on": "2026-06-12",
    }
    # With no date at all, a new waiver takes effect today.
    today = client.post(
        url,
        json={"clock": "partners_informed", "reason": "relaxation"},
        headers={**manager, "If-Match": "*"},
    ).json()
    assert today["timeline"]["waivers"]["partners_informed"]["waived_on"] == today["as_of"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"clock": "keep_published_until", "reason": "x"}, "body.clock"),
        ({"clock": "notification", "reason": " "}, "body.reason"),
        ({"clock": "notification"}, "body.reason"),
        ({"clock": "notification", "reason": "x", "waived_on": "2026-05-31"}, "body.waived_on"),
        ({"clock": "notification", "reason": "x", "waived_on": "2099-01-01"}, "body.waived_on"),
        ({"clock": "notification", "reason": "x", "waived_on": "3000-01-01"}, "body.waived_on"),
    ],
)
def test_invalid_waivers_are_422_and_change_nothing(
    client: TestClient, keys: dict[str, Headers], body: dict[str, str], field: str
) -> None:
    case = create(client, keys["manager"])
    response = client.post(
        f"/cases/{case['id']}/waivers", json=body, headers={**keys["manager"], "If-Match": "*"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    read = client.get(f"/cases/{case['id']}", headers=keys["manager"]).json()
    assert read["version"] == 1
