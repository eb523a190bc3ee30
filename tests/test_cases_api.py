"""Cases through the HTTP API: create, read, events, concurrency control, patch, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cases_helpers import (
    CANARY_NAME,
    CANARY_SUMMARY,
    LCSPR_JOURNEY,
    create,
    fire,
    new_case,
)

Headers = dict[str, str]


@pytest.fixture
def member(
    client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> Headers:
    admin = auth(make_key(role="admin"))
    for code, name in (("wessex", "Wessex Vale SCP"), ("kingsmere", "Kingsmere SCP")):
        response = client.post("/partnerships", json={"code": code, "name": name}, headers=admin)
        assert response.status_code == 201, response.text
    return auth(make_key(role="member"))


@pytest.fixture
def manager(
    member: Headers, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> Headers:
    return auth(make_key(role="manager"))


def history(client: TestClient, headers: Headers, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/cases/{case['id']}/history", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_create_and_read_a_case(client: TestClient, member: Headers) -> None:
    response = client.post("/cases", json=new_case(), headers=member)
    assert response.status_code == 201, response.text
    case = response.json()
    assert response.headers["Location"] == f"/cases/{case['id']}"
    assert response.headers["ETag"].startswith('"v1-')
    assert len(case["id"]) == 36  # an opaque UUID
    assert case["state"] == "referred"
    assert case["version"] == 1
    assert case["allowed_events"] == ["notify_panel", "inform_partners", "decide_not_to_notify"]
    assert [d["name"] for d in case["deadlines"]] == ["notification", "partners_informed"]
    notification = case["deadlines"][0]
    assert notification["due_on"] == "2026-06-08"  # Mon 1 June + 5 working days
    assert notification["basis"]["start_event"] == "aware_on"
    assert "docs/statutory-basis.md#notification" in notification["basis"]["rule"]

    read = client.get(f"/cases/{case['id']}", headers=member, params={"as_of": "2026-06-02"})
    assert read.status_code == 200
    body = read.json()
    assert body["summary"] == CANARY_SUMMARY
    assert body["children"][0]["name"] == CANARY_NAME
    assert body["deadlines"][0]["status"] == "pending"
    assert body["as_of"] == "2026-06-02"
    late = client.get(f"/cases/{case['id']}", headers=member, params={"as_of": "2026-06-09"})
    assert late.json()["deadlines"][0]["status"] == "overdue"


def test_if_none_match_answers_304(client: TestClient, member: Headers) -> None:
    case = create(client, member)
    params = {"as_of": "2026-06-02"}
    first = client.get(f"/cases/{case['id']}", headers=member, params=params)
    etag = first.headers["ETag"]
    again = client.get(
        f"/cases/{case['id']}", headers={**member, "If-None-Match": etag}, params=params
    )
    assert again.status_code == 304
    assert again.content == b""
    next_day = client.get(
        f"/cases/{case['id']}",
        headers={**member, "If-None-Match": etag},
        params={"as_of": "2026-06-03"},
    )
    assert next_day.status_code == 200  # statuses are evaluated per day


def test_duplicate_reference_is_409_but_another_partnership_may_reuse_it(
    client: TestClient, member: Headers
) -> None:
    create(client, member)
    duplicate = client.post("/cases", json=new_case(), headers=member)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    other = client.post("/cases", json=new_case(partnership="kingsmere"), headers=member)
    assert other.status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"aware_on": None}, "body.aware_on"),
        ({"incident_type": "accident"}, "body.incident_type"),
        ({"children": [{"name": CANARY_NAME}] * 5}, "body.children"),
        ({"children": [{"name": CANARY_NAME, "date_of_birth": "not a date"}]}, "body.children"),
        ({"partnership": "atlantis"}, "body.partnership"),
        ({"reference": ""}, "body.reference"),
        ({"themes": ["Not A Slug"]}, "body.themes"),
        ({"aware_on": "2999-01-01"}, "body.aware_on"),
        ({"state": "closed"}, "body.state"),
    ],
)
def test_invalid_case_is_422_naming_the_field_without_echoing_values(
    client: TestClient, member: Headers, fields: dict[str, Any], field: str
) -> None:
    body = new_case(**fields)
    if fields.get("aware_on", "") is None:
        del body["aware_on"]
    response = client.post("/cases", json=body, headers=member)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
    assert CANARY_NAME not in response.text
    assert CANARY_SUMMARY not in response.text
    assert client.get("/cases", headers=member).json()["items"] == []


def test_an_lcspr_journey_records_every_step(client: TestClient, member: Headers) -> None:
    case = create(client, member)
    for event, payload, state in LCSPR_JOURNEY:
        case = fire(client, member, case, event, payload)
        assert case["state"] == state
    deadlines = {d["name"]: d for d in case["deadlines"]}
    assert deadlines["notification"]["status"] == "met"
    assert deadlines["rapid_review"]["met_on"] == "2026-06-19"
    publication = deadlines["review_publication"]
    assert publication["statutory_due_on"] == "2027-01-01"  # decided 1 July + 6 months
    assert publication["basis"]["paused_working_days"] == 5
    assert publication["due_on"] == "2027-01-08"  # from New Year's Day, + 5 working days
    entries = history(client, member, case)
    assert [e["action"] for e in entries] == ["create"] + ["event"] * len(LCSPR_JOURNEY)
    assert [e["event"] for e in entries[1:]] == [event for event, _, _ in LCSPR_JOURNEY]
    assert [e["version"] for e in entries] == list(range(1, len(LCSPR_JOURNEY) + 2))
    assert entries[3]["from_state"] == "rapid_review"
    assert entries[3]["to_state"] == "awaiting_panel"
    assert entries[3]["details"] == {"submitted_on": "2026-06-19", "recommendation": "lcspr"}
    assert all(entry["actor"] for entry in entries)
    assert CANARY_NAME not in str(entries)
    assert CANARY_SUMMARY not in str(entries)


def test_publication_needs_a_manager_and_the_seven_working_day_notice(
    client: TestClient, member: Headers, manager: Headers
) -> None:
    case = create(client, member)
    for event, payload, _ in LCSPR_JOURNEY:
        case = fire(client, member, case, event, payload)
    approve = {"approved_on": "2026-08-14", "planned_publication_on": "2026-09-01"}
    fire(client, member, case, "approve_final_report", approve, expect=403)
    case = fire(client, manager, case, "approve_final_report", approve)
    assert case["state"] == "pre_publication"
    assert "publish" not in case["allowed_events"]  # no advance copies yet
    copies = {d["name"]: d for d in case["deadlines"]}["advance_copies"]
    assert copies["due_on"] == "2026-08-20"  # 7 working days before 1 Sept; 31 Aug is a holiday
    case = fire(client, manager, case, "send_advance_copies", {"sent_on": "2026-08-21"})
    publish = {
        "published_on": "2026-09-01",
        "mode": "redacted",
        "url": "https://example.org/reviews/child-t",
        "title": "Child T",
    }
    refused = fire(client, manager, case, "publish", publish, expect=422)
    assert any(error["field"] == "body.late_notice_reason" for error in refused["errors"])
    case = fire(client, manager, case, "publish", {**publish, "late_notice_reason": "urgent"})
    assert case["state"] == "action_tracking"
    deadlines = {d["name"]: d for d in case["deadlines"]}
    assert deadlines["advance_copies"]["status"] == "met_late"
    assert deadlines["review_publication"]["status"] == "met"
    assert deadlines["keep_published_until"]["due_on"] == "2027-09-01"


def test_if_match_is_required_and_checked(client: TestClient, member: Headers) -> None:
    case = create(client, member)
    url = f"/cases/{case['id']}/events/notify_panel"
    payload = {"notified_on": "2026-06-03"}
    missing = client.post(url, json=payload, headers=member)
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    weak = client.post(url, json=payload, headers={**member, "If-Match": "W/" + case["_etag"]})
    assert weak.status_code == 412
    updated = fire(client, member, case, "notify_panel", payload)
    stale = client.post(
        f"/cases/{case['id']}/events/inform_partners",
        json={"partners_informed_on": "2026-06-03"},
        headers={**member, "If-Match": case["_etag"]},
    )
    assert stale.status_code == 412
    assert stale.headers["ETag"] == updated["_etag"]
    assert stale.json()["current_etag"] == updated["_etag"]
    star = client.post(
        f"/cases/{case['id']}/events/inform_partners",
        json={"partners_informed_on": "2026-06-03"},
        headers={**member, "If-Match": "*"},
    )
    assert star.status_code == 200
    assert len(history(client, member, case)) == 3


def test_illegal_event_is_409_listing_allowed_events_and_writes_nothing(
    client: TestClient, member: Headers
) -> None:
    case = create(client, member)
    response = client.post(
        f"/cases/{case['id']}/events/close",
        json={"closed_on": "2026-06-05"},
        headers={**member, "If-Match": case["_etag"]},
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "/problems/transition-not-allowed"
    assert problem["allowed_events"] == ["notify_panel", "inform_partners", "decide_not_to_notify"]
    assert "notify_panel" in problem["detail"]
    unknown = client.post(
        f"/cases/{case['id']}/events/teleport", json={}, headers={**member, "If-Match": "*"}
    )
    assert unknown.status_code == 404
    assert len(history(client, member, case)) == 1


def test_invalid_event_data_is_422_naming_the_field_and_writes_nothing(
    client: TestClient, member: Headers
) -> None:
    case = create(client, member)
    missing = fire(client, member, case, "notify_panel", {}, expect=422)
    assert [error["field"] for error in missing["errors"]] == ["body.notified_on"]
    before_aware = fire(
        client, member, case, "notify_panel", {"notified_on": "2026-05-01"}, expect=422
    )
    assert before_aware["errors"][0]["field"] == "body.notified_on"
    extra = fire(
        client,
        member,
        case,
        "notify_panel",
        {"notified_on": "2026-06-03", "state": "x"},
        expect=422,
    )
    assert extra["errors"][0]["field"] == "body.state"
    read = client.get(f"/cases/{case['id']}", headers=member).json()
    assert (read["state"], read["version"]) == ("referred", 1)
    assert len(history(client, member, case)) == 1


def test_dry_run_shows_the_outcome_and_writes_nothing(client: TestClient, member: Headers) -> None:
    case = create(client, member)
    url = f"/cases/{case['id']}/events/notify_panel"
    body = {"notified_on": "2026-06-03"}
    # A dry run answers for the version you hold, so it needs If-Match like the event.
    unconditional = client.post(url, params={"dry_run": "true"}, json=body, headers=member)
    assert unconditional.status_code == 428
    response = client.post(
        url, params={"dry_run": "true"}, json=body, headers={**member, "If-Match": case["_etag"]}
    )
    assert response.status_code == 200, response.text
    assert response.headers["Dry-Run"] == "true"
    preview = response.json()
    assert preview["dry_run"] is True
    assert preview["state"] == "rapid_review"
    assert preview["version"] == 1
    assert response.headers["ETag"] == case["_etag"]
    assert "rapid_review" in [d["name"] for d in preview["deadlines"]]
    read = client.get(f"/cases/{case['id']}", headers=member).json()
    assert (read["state"], read["version"], read["dry_run"]) == ("referred", 1, False)
    assert len(history(client, member, case)) == 1
    stale = client.post(
        url, params={"dry_run": "true"}, json=body, headers={**member, "If-Match": '"v9-20260601"'}
    )
    assert stale.status_code == 412
    real = client.post(url, json=body, headers={**member, "If-Match": case["_etag"]})
    assert "Dry-Run" not in real.headers
    assert real.json()["dry_run"] is False


def test_patch_descriptive_fields_and_refuse_server_controlled_ones(
    client: TestClient, member: Headers
) -> None:
    case = create(client, member)
    url = f"/cases/{case['id']}"
    patched = client.patch(
        url,
        json={"themes": ["sudi"], "summary": "CANARY-PATCHED"},
        headers={**member, "If-Match": case["_etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["themes"] == ["sudi"]
    assert patched.json()["version"] == 2
    for field, value in (
        ("state", "closed"),
        ("version", 9),
        ("deadlines", []),
        ("notified_on", "2026-06-02"),
    ):
        refused = client.patch(url, json={field: value}, headers={**member, "If-Match": "*"})
        assert refused.status_code == 422, field
        assert refused.json()["errors"][0]["field"] == f"body.{field}"
    no_if_match = client.patch(url, json={"themes": []}, headers=member)
    assert no_if_match.status_code == 428
    empty = client.patch(url, json={}, headers={**member, "If-Match": "*"})
    assert (empty.status_code, empty.json()["version"]) == (200, 2)  # nothing to record
    read = client.get(url, headers=member).json()
    assert (read["state"], read["version"], read["themes"]) == ("referred", 2, ["sudi"])
    entries = history(client, member, case)
    assert entries[-1]["action"] == "patch"
    assert entries[-1]["details"] == {"changed": ["summary", "themes"], "themes": ["sudi"]}
    assert "CANARY-PATCHED" not in str(entries)


def test_workflow_description(client: TestClient, member: Headers) -> None:
    response = client.get("/workflow", headers=member)
    assert response.status_code == 200
    described = response.json()
    assert [state["name"] for state in described["states"]][0] == "referred"
    events = {event["name"]: event for event in described["events"]}
    assert {"source": "pre_publication", "target": "action_tracking"} in events["publish"][
        "transitions"
    ]


def test_event_dates_cannot_be_in_the_future(client: TestClient, member: Headers) -> None:
    case = create(client, member)
    refused = fire(client, member, case, "notify_panel", {"notified_on": "2099-01-05"}, expect=422)
    assert refused["errors"] == [
        {"field": "body.notified_on", "message": refused["errors"][0]["message"]}
    ]
    assert "cannot be after today" in refused["errors"][0]["message"]
