"""GET /cases: filters, "as of" evaluation and keyset pagination."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from review_engine.app import create_app
from review_engine.cases import listing
from review_engine.settings import Settings
from tests.cases_helpers import create, fire

Headers = dict[str, str]


@pytest.fixture
def member(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> Headers:
    admin = auth(make_key(role="admin"))
    for code in ("wessex", "kingsmere"):
        response = client.post("/partnerships", json={"code": code, "name": code}, headers=admin)
        assert response.status_code == 201, response.text
    return auth(make_key(role="member"))


def references(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def test_lists_carry_no_sensitive_fields(client: TestClient, member: Headers) -> None:
    create(client, member)
    response = client.get("/cases", headers=member)
    item = response.json()["items"][0]
    for field in ("summary", "children", "incident_on", "looked_after", "timeline"):
        assert field not in item
    assert "CANARY" not in response.text
    assert "Canary" not in response.text


def test_filters(client: TestClient, member: Headers) -> None:
    create(client, member, reference="A", themes=["neglect"])
    b = create(client, member, reference="B", themes=["sudi"], aware_on="2026-06-15")
    create(client, member, reference="C", partnership="kingsmere", themes=["neglect"])
    fire(client, member, b, "notify_panel", {"notified_on": "2026-06-16"})

    def listed(**params: Any) -> list[str]:
        return references(client.get("/cases", params=params, headers=member))

    assert listed() == ["A", "B", "C"]
    assert listed(partnership="kingsmere") == ["C"]
    assert listed(state="rapid_review") == ["B"]
    assert listed(theme="neglect") == ["A", "C"]
    # A and C: notification due 8 June, not met. B: notified on time, partners not informed
    # (due 22 June), rapid review due 7 July.
    assert listed(overdue="true", as_of="2026-06-05") == []
    assert listed(overdue="true", as_of="2026-06-09") == ["A", "C"]
    assert listed(overdue="true", as_of="2026-06-23") == ["A", "B", "C"]
    assert listed(overdue="false", as_of="2026-06-09") == ["B"]
    assert listed(due_before="2026-06-20", as_of="2026-06-01") == ["A", "C"]
    assert listed(due_before="2026-06-23", as_of="2026-06-01") == ["A", "B", "C"]
    statuses = client.get("/cases", params={"as_of": "2026-06-09"}, headers=member).json()
    assert statuses["items"][0]["deadlines"][0]["status"] == "overdue"
    bad_state = client.get("/cases", params={"state": "limbo"}, headers=member)
    assert bad_state.status_code == 422
    assert bad_state.json()["errors"][0]["field"] == "query.state"


def test_keyset_pagination_is_complete_and_stable(client: TestClient, member: Headers) -> None:
    for number in range(7):
        create(client, member, reference=f"R{number}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/cases", params=params, headers=member).json()
        seen += [item["reference"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A case created mid-walk appears at the end, never shifting earlier pages.
        if pages == 1:
            create(client, member, reference="LATE")
    assert seen == [f"R{number}" for number in range(7)] + ["LATE"]
    assert pages == 3
    assert client.get("/cases", params={"limit": 0}, headers=member).status_code == 422
    garbage = client.get("/cases", params={"cursor": "!!not-a-cursor"}, headers=member)
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "query.cursor"


def test_the_deployments_page_size_caps_every_list(
    settings: Settings, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    """REVIEW_ENGINE_MAX_PAGE_SIZE caps `limit` on cases, history and partnerships alike,
    above the default 100 as well as below it."""
    for maximum, asked, expected in [(2, 5, 2), (150, 120, 120)]:
        app = create_app(settings.model_copy(update={"max_page_size": maximum}))
        with TestClient(app) as client:
            admin = auth(make_key(role="admin"))
            for code in ("wessex", "mercia", "anglia"):
                client.post("/partnerships", json={"code": code, "name": code}, headers=admin)
            case = create(client, admin, reference=f"CAP-{maximum}")
            for day in range(2, 9):
                client.post(
                    f"/cases/{case['id']}/waivers",
                    json={"clock": "notification", "reason": f"r{day}"},
                    headers={**admin, "If-Match": "*"},
                )
            params = {"limit": str(asked)}
            partnerships = client.get("/partnerships", params=params, headers=admin).json()
            history = client.get(f"/cases/{case['id']}/history", params=params, headers=admin)
            got = (len(partnerships["items"]), len(history.json()["items"]))
            assert got == (min(expected, 3), min(expected, 8)), maximum
            if maximum == 2:
                assert partnerships["next_cursor"] is not None
                assert history.json()["next_cursor"] is not None


def test_a_past_day_deadline_filter_checks_a_bounded_number_of_cases_per_page(
    client: TestClient, member: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P1, P3, P5 became aware on Mon 1 June 2026: notifying the Panel and informing the
    partners are due Mon 8 June (5 working days). P0, P2, P4, P6 on Fri 5 June: due Fri
    12 June. So on Tue 9 June (a past day: the stored rows cannot narrow it) exactly the
    odd ones are overdue. With two cases checked a request, pages come short, some empty,
    yet following `next_cursor` lists exactly those three, in order."""
    monkeypatch.setattr(listing, "SCAN_LIMIT", 2)
    monkeypatch.setattr(listing, "_BATCH", 2)
    for number in range(7):
        aware_on = "2026-06-01" if number % 2 else "2026-06-05"
        create(client, member, reference=f"P{number}", aware_on=aware_on)
    pages: list[list[str]] = []
    params: dict[str, Any] = {"overdue": "true", "as_of": "2026-06-09", "limit": 1}
    while True:
        response = client.get("/cases", params=params, headers=member)
        pages.append(references(response))
        if response.json()["next_cursor"] is None:
            break
        params["cursor"] = response.json()["next_cursor"]
        assert len(pages) < 10
    assert [reference for page in pages for reference in page] == ["P1", "P3", "P5"]
    assert [] in pages  # a short page with more to come
    assert all(len(page) <= 1 for page in pages)


def test_both_deadline_filters_at_once_as_of_today(client: TestClient, member: Headers) -> None:
    """Today's lists are narrowed by the stored deadline rows, one candidate set per
    filter. A case aware on Mon 1 June 2026 that nobody acted on had its notification due
    Mon 8 June: overdue today and running, due before any later day. One aware today has
    nothing due before today, and nothing overdue."""
    create(client, member, reference="OLD", aware_on="2026-06-01")
    create(client, member, reference="NEW", aware_on=str(date.today()))

    def listed(**params: Any) -> list[str]:
        return references(client.get("/cases", params=params, headers=member))

    tomorrow = str(date.today() + timedelta(days=1))
    assert listed(overdue="true", due_before="2099-01-01") == ["OLD"]
    assert listed(overdue="false", due_before="2099-01-01") == ["NEW"]
    assert listed(overdue="true", due_before=tomorrow) == ["OLD"]
    assert listed(overdue="false", due_before="2026-06-02") == []
