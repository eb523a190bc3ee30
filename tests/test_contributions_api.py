"""Agency contributions through HTTP (SQLite and PostgreSQL): the default due date in working
days, recording what came back, refusals that change nothing, overdue as an exact replay,
the history, and keys scoped to another partnership.

Dates are worked by hand in the comments on the England and Wales calendar (2025: Christmas
Thu 25 Dec, Boxing Day Fri 26 Dec; 2026: New Year's Day Thu 1 Jan, Late Summer bank holiday
Mon 31 Aug; June 2026 has none). Statuses are read with an explicit `as_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from review_engine.deadline_context import today_in
from tests.cases_helpers import create, fire

Headers = dict[str, str]
Json = dict[str, Any]

PROBLEM = "application/problem+json"
MEMBER_NAME = "casey-member"
CANARY_REASON = "CANARY-REASON-91c2: the GP practice never saw the child"
POLICE, HEALTH = "Wessex Police", "Wessex Health"
LATER = (today_in("Europe/London") + timedelta(days=2)).isoformat()  # after today, always


@pytest.fixture
def admin(
    partnership: Callable[..., Json], headers_for: Callable[..., Headers], client: TestClient
) -> Headers:
    """An admin; wessex lists Wessex Police and Wessex Health, mercia lists Mercia Police."""
    partnership("wessex")
    partnership("mercia")
    headers = headers_for("admin")
    for code, name in [("wessex", POLICE), ("wessex", HEALTH), ("mercia", "Mercia Police")]:
        added = client.post(f"/partnerships/{code}/agencies", json={"name": name}, headers=headers)
        assert added.status_code == 201, added.text
    return headers


@pytest.fixture
def member(admin: Headers, make_key: Callable[..., str]) -> Headers:
    return {"Authorization": f"Bearer {make_key(role='member', name=MEMBER_NAME)}"}


def post(client: TestClient, headers: Headers, case: Json, **body: Any) -> httpx2.Response:
    return client.post(f"/cases/{case['id']}/contributions", json=body, headers=headers)


def ask(
    client: TestClient, headers: Headers, case: Json, agency: str, on: str, **more: Any
) -> Json:
    """Asks `agency` on day `on`; the contribution, with its ETag as `_etag`."""
    response = post(client, headers, case, agency=agency, requested_on=on, **more)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/contributions/{response.json()['id']}"
    return {**response.json(), "_etag": response.headers["ETag"]}


def read(client: TestClient, headers: Headers, contribution: Json, as_of: str) -> Json:
    response = client.get(
        f"/contributions/{contribution['id']}", params={"as_of": as_of}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {**response.json(), "_etag": response.headers["ETag"]}


def patch(client: TestClient, headers: Headers, contribution: Json, body: Json) -> httpx2.Response:
    return client.patch(
        f"/contributions/{contribution['id']}",
        json=body,
        headers={**headers, "If-Match": contribution["_etag"]},
    )


def history(client: TestClient, headers: Headers, contribution: Json) -> list[Json]:
    response = client.get(f"/contributions/{contribution['id']}/history", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


def assert_problem(response: httpx2.Response, status: int, field: str | None = None) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: Json = response.json()
    if field is not None:
        assert {error["field"] for error in body["errors"]} == {field}
    return body


def listed(
    client: TestClient, headers: Headers, path: str = "/contributions", **params: str
) -> list[str]:
    """Every contribution id the list answers with, walking pages of one."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = {**params, "limit": "1", **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=page, headers=headers)
        assert response.status_code == 200, response.text
        ids += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return ids


# -- 1. The default due date ----------------------------------------------------------------


def test_the_default_due_date_skips_the_late_summer_bank_holiday(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    # Requested Thu 27 Aug 2026; Mon 31 Aug is the Late Summer bank holiday, so 5 working
    # days are Fri 28 Aug, Tue 1, Wed 2, Thu 3, Fri 4 Sep -> due Fri 4 Sep 2026.
    made = ask(client, member, create(client, admin), "wessex  POLICE", "2026-08-27")
    assert (made["agency"], made["partnership"], made["stage"], made["version"]) == (
        (POLICE, "wessex", "rapid_review", 1)
    )
    assert (made["due_on"], made["original_due_on"]) == ("2026-09-04", "2026-09-04")
    assert read(client, admin, made, "2026-09-04")["status"] == "outstanding"
    assert read(client, admin, made, "2026-09-05")["status"] == "overdue"


def test_the_default_due_date_skips_christmas_and_new_year(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    # Requested Tue 23 Dec 2025: Thu 25 Dec (Christmas), Fri 26 Dec (Boxing Day) and Thu 1
    # Jan 2026 (New Year's Day) are bank holidays, so 5 working days are Wed 24, Mon 29,
    # Tue 30, Wed 31 Dec, Fri 2 Jan -> due Fri 2 Jan 2026.
    case = create(client, admin, aware_on="2025-12-15", incident_on="2025-12-12")
    assert ask(client, member, case, HEALTH, "2025-12-23")["due_on"] == "2026-01-02"


def test_the_partnerships_setting_changes_the_default_for_new_requests_only(
    client: TestClient, admin: Headers, member: Headers, headers_for: Callable[..., Headers]
) -> None:
    manager = headers_for("manager")

    def setting() -> int:
        response = client.get("/partnerships/wessex", headers=manager)
        return int(response.json()["contribution_due_working_days"])

    assert setting() == 5
    case = create(client, admin)
    before = ask(client, member, case, POLICE, "2026-08-27")  # due Fri 4 Sep, as above

    field = "body.contribution_due_working_days"
    refusals = [(0, manager, 422, field), (61, manager, 422, field), (10, member, 403, None)]
    for days, who, status, named in refusals:  # 1..60 working days, set by a manager
        body = {"contribution_due_working_days": days}
        assert_problem(client.patch("/partnerships/wessex", json=body, headers=who), status, named)
        assert setting() == 5
    changed = client.patch(
        "/partnerships/wessex", json={"contribution_due_working_days": 10}, headers=manager
    )
    assert changed.status_code == 200, changed.text
    assert setting() == 10

    # Thu 27 Aug 2026 + 10 working days (Mon 31 Aug a bank holiday): Fri 28 Aug, Tue 1, Wed
    # 2, Thu 3, Fri 4, Mon 7, Tue 8, Wed 9, Thu 10, Fri 11 Sep -> due Fri 11 Sep 2026.
    assert ask(client, member, case, HEALTH, "2026-08-27")["due_on"] == "2026-09-11"
    kept = read(client, admin, before, "2026-09-01")
    assert (kept["due_on"], kept["version"], kept["_etag"]) == ("2026-09-04", 1, '"v1-20260901"')
    # A due date the request gives is kept as given; mercia still allows 5 working days.
    given = ask(client, member, case, POLICE, "2026-08-27", due_on="2026-09-07", stage="lcspr")
    assert given["due_on"] == "2026-09-07"
    other = create(client, admin, partnership="mercia", reference="M-1")
    assert ask(client, member, other, "Mercia Police", "2026-08-27")["due_on"] == "2026-09-04"


# -- 2. Recording what came back, and what is refused ----------------------------------------


def test_received_by_the_due_date_is_received_and_after_it_received_late(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    # Requested Mon 1 Jun 2026: due Mon 8 Jun (Tue 2, Wed 3, Thu 4, Fri 5, Mon 8).
    case = create(client, admin)
    on_time = ask(client, member, case, POLICE, "2026-06-01")
    late = ask(client, member, case, HEALTH, "2026-06-01")

    response = patch(client, member, on_time, {"received_on": "2026-06-08"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["version"]) == ("received", 2)
    assert response.headers["ETag"] != on_time["_etag"]
    response = patch(client, member, late, {"received_on": "2026-06-10"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "received_late"
    # Replayed: outstanding on its due date, overdue the day before it came.
    replay = [read(client, admin, late, f"2026-06-{day}")["status"] for day in ("08", "09", "10")]
    assert replay == ["outstanding", "overdue", "received_late"]


def test_not_coming_defaults_to_today_and_a_receipt_undoes_it(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    made = ask(client, member, create(client, admin), POLICE, "2026-06-01")
    days = {today_in("Europe/London")}
    response = patch(client, member, made, {"not_coming_reason": CANARY_REASON})
    days.add(today_in("Europe/London"))  # either side of midnight
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["not_coming_reason"]) == ("not_coming", CANARY_REASON)
    assert date.fromisoformat(body["not_coming_on"]) in days

    made["_etag"] = response.headers["ETag"]
    response = patch(client, member, made, {"received_on": "2026-06-05"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["received_on"], body["version"]) == ("received", "2026-06-05", 3)
    assert (body["not_coming_reason"], body["not_coming_on"]) == (None, None)


@pytest.mark.parametrize(
    ("received_first", "body", "field"),
    [
        pytest.param(False, {"received_on": "2026-05-29"}, "received_on", id="before-request"),
        pytest.param(False, {"received_on": LATER}, "received_on", id="future"),
        pytest.param(
            False, {"received_on": "2026-06-05", "not_coming_reason": "x"}, "not_coming_reason"
        ),  # both at once
        pytest.param(False, {"not_coming_on": "2026-06-05"}, "not_coming_on", id="no-reason"),
        pytest.param(
            False, {"not_coming_reason": "x", "not_coming_on": LATER}, "not_coming_on", id="later"
        ),
        pytest.param(False, {"due_on": "2026-05-31"}, "due_on", id="due-before-request"),
        pytest.param(False, {"received_on": None}, "received_on", id="null"),
        pytest.param(False, {"received_on": "01/06/2026"}, "received_on", id="not-a-date"),
        pytest.param(True, {"not_coming_reason": "x"}, "not_coming_reason", id="after-received"),
    ],
)
def test_a_refused_patch_is_422_naming_the_field_and_changes_nothing(
    client: TestClient,
    admin: Headers,
    member: Headers,
    received_first: bool,
    body: Json,
    field: str,
) -> None:
    made = ask(client, member, create(client, admin), POLICE, "2026-06-01")
    if received_first:
        assert patch(client, member, made, {"received_on": "2026-06-05"}).status_code == 200
    before = read(client, admin, made, "2026-07-01")
    trail = history(client, admin, made)

    assert_problem(patch(client, member, before, body), 422, f"body.{field}")
    assert read(client, admin, made, "2026-07-01") == before
    assert history(client, admin, made) == trail


def test_if_match_is_required_and_a_stale_one_is_refused(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    made = ask(client, member, create(client, admin), POLICE, "2026-06-01")  # due Mon 8 Jun
    change = {"received_on": "2026-06-05"}

    missing = client.patch(f"/contributions/{made['id']}", json=change, headers=member)
    assert_problem(missing, 428, "header.If-Match")
    assert read(client, admin, made, "2026-07-01")["version"] == 1

    more_time = patch(client, member, made, {"due_on": "2026-06-12"})
    assert more_time.status_code == 200, more_time.text
    assert (more_time.json()["due_on"], more_time.json()["original_due_on"]) == (
        ("2026-06-12", "2026-06-08")
    )
    current = read(client, admin, made, "2026-07-01")
    stale = patch(client, member, made, change)  # the ETag from before the new due date
    assert_problem(stale, 412)
    assert stale.headers["ETag"].startswith('"v2-')
    assert read(client, admin, made, "2026-07-01") == current


def test_an_agency_not_on_the_list_is_422_listing_the_known_names(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    case = create(client, admin)
    response = post(client, member, case, agency="Mercia Police", requested_on="2026-06-01")
    problem = assert_problem(response, 422, "body.agency")  # mercia lists it; wessex does not
    assert "Wessex Health, Wessex Police" in problem["detail"]
    assert listed(client, admin, f"/cases/{case['id']}/contributions") == []


def test_the_same_agency_asked_twice_for_the_same_stage_is_409(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    case = create(client, admin)
    first = ask(client, member, case, POLICE, "2026-06-01")
    again = post(client, member, case, agency="WESSEX POLICE", requested_on="2026-06-03")
    assert_problem(again, 409)
    assert listed(client, admin, f"/cases/{case['id']}/contributions") == [first["id"]]
    # Another stage of the same case is a new request.
    assert ask(client, member, case, POLICE, "2026-06-03", stage="lcspr")["stage"] == "lcspr"


@pytest.mark.parametrize("ending", ["withdrawn", "closed"])
def test_a_case_that_has_ended_takes_no_contribution(
    client: TestClient, admin: Headers, member: Headers, ending: str
) -> None:
    case = create(client, admin)
    reason = "criteria not met"
    if ending == "withdrawn":
        case = fire(client, admin, case, "notify_panel", {"notified_on": "2026-06-03"})
        case = fire(
            client, admin, case, "withdraw", {"withdrawn_on": "2026-06-05", "reason": reason}
        )
    else:
        decision = {"decided_on": "2026-06-03", "reason": reason}
        case = fire(client, admin, case, "decide_not_to_notify", decision)
        case = fire(client, admin, case, "close", {"closed_on": "2026-06-05"})
    assert case["state"] == ending
    response = post(client, member, case, agency=POLICE, requested_on="2026-06-04")
    assert assert_problem(response, 409)["type"] == "/problems/change-not-allowed"
    assert listed(client, admin, f"/cases/{case['id']}/contributions") == []


# -- 3. Overdue, replayed ------------------------------------------------------------------


def test_overdue_is_an_exact_replay_in_the_lists_and_the_case_read(
    client: TestClient, admin: Headers, member: Headers, headers_for: Callable[..., Headers]
) -> None:
    case = create(client, admin)
    # A: requested Mon 1 Jun, due Mon 8 Jun (Tue 2 .. Mon 8), received Mon 15 Jun.
    made_a = ask(client, member, case, POLICE, "2026-06-01")
    assert patch(client, member, made_a, {"received_on": "2026-06-15"}).status_code == 200
    # C: requested Mon 1 Jun, due Fri 5 Jun as given, known not coming on Fri 12 Jun.
    made_c = ask(client, member, case, HEALTH, "2026-06-01", due_on="2026-06-05")
    stop = {"not_coming_reason": "no involvement", "not_coming_on": "2026-06-12"}
    assert patch(client, member, made_c, stop).status_code == 200
    # B: requested Wed 10 Jun, due Wed 17 Jun (Thu 11, Fri 12, Mon 15, Tue 16, Wed 17).
    made_b = ask(client, member, case, HEALTH, "2026-06-10", stage="lcspr")
    assert made_b["due_on"] == "2026-06-17"
    # D (mercia): requested Tue 2 Jun, due Tue 9 Jun (Wed 3 .. Tue 9), never received.
    other = create(client, admin, partnership="mercia", reference="M-1")
    made_d = ask(client, member, other, "Mercia Police", "2026-06-02")
    assert made_d["due_on"] == "2026-06-09"
    a, b, c, d = (made["id"] for made in (made_a, made_b, made_c, made_d))

    def overdue(as_of: str, **params: str) -> list[str]:
        return listed(client, admin, overdue="true", as_of=as_of, **params)

    assert overdue("2026-06-05") == []  # C is due that day, not yet late
    assert overdue("2026-06-08") == [c]
    assert overdue("2026-06-09") == [c, a]  # B, requested on the 10th, does not count yet
    assert overdue("2026-06-10") == [c, a, d]
    assert overdue("2026-06-12") == [a, d]  # C known not coming that day
    assert overdue("2026-06-15") == [d]  # A arrived that day
    assert overdue("2026-06-18") == [d, b]
    assert listed(client, admin, overdue="false", as_of="2026-06-10") == [b]
    days = [(a, "06-12"), (a, "06-15"), (c, "06-11"), (c, "06-12"), (b, "06-09")]
    replay = [read(client, admin, {"id": x}, f"2026-{day}")["status"] for x, day in days]
    assert replay == ["overdue", "received_late", "overdue", "not_coming", "outstanding"]

    # Filters, each walked a page at a time.
    assert overdue("2026-06-10", partnership="mercia") == [d]
    assert overdue("2026-06-10", agency=" wessex   POLICE") == [a]
    assert listed(client, admin, agency=HEALTH) == [c, b]
    assert listed(client, admin, f"/cases/{case['id']}/contributions") == [c, a, b]
    mercia = headers_for("viewer", partnerships=["mercia"])
    assert listed(client, mercia, as_of="2026-06-10") == [d]
    assert listed(client, mercia, partnership="wessex") == []

    # The case read agrees with the list, day by day.
    for as_of, expected in [
        ("2026-06-10", [(c, HEALTH, "2026-06-05"), (a, POLICE, "2026-06-08")]),
        ("2026-06-12", [(a, POLICE, "2026-06-08")]),
        ("2026-06-15", []),
        ("2026-06-18", [(b, HEALTH, "2026-06-17")]),
    ]:
        response = client.get(f"/cases/{case['id']}", params={"as_of": as_of}, headers=admin)
        assert response.status_code == 200, response.text
        shown = response.json()["overdue_contributions"]
        assert [(o["id"], o["agency"], o["due_on"]) for o in shown] == expected, as_of
        assert [o["id"] for o in shown] == overdue(as_of, partnership="wessex")


# -- 4. History ---------------------------------------------------------------------------


def test_the_history_names_the_actor_of_each_change_and_keeps_no_free_text(
    client: TestClient, admin: Headers, member: Headers
) -> None:
    made = ask(client, member, create(client, admin), POLICE, "2026-06-01")
    stop = {"not_coming_reason": CANARY_REASON, "not_coming_on": "2026-06-04"}
    response = patch(client, member, made, stop)
    assert response.status_code == 200, response.text
    made["_etag"] = response.headers["ETag"]
    assert patch(client, admin, made, {"received_on": "2026-06-05"}).status_code == 200

    response = client.get(f"/contributions/{made['id']}/history", headers=admin)
    assert response.status_code == 200, response.text
    assert "CANARY" not in response.text
    entries = response.json()["items"]
    assert [(e["version"], e["change"], e["actor"]) for e in entries] == [
        (1, "create", MEMBER_NAME),
        (2, "patch", MEMBER_NAME),
        (3, "patch", entries[2]["actor"]),
    ]
    assert entries[2]["actor"].startswith("test-admin-")  # the admin key's name
    assert [e["details"] for e in entries] == [
        {"agency": POLICE, "stage": "rapid_review", "due_on": "2026-06-08"},
        {"changed": ["not_coming_on", "not_coming_reason"], "not_coming_on": "2026-06-04"},
        {"changed": ["received_on"], "received_on": "2026-06-05"},
    ]


# -- 5. Another partnership's contributions ---------------------------------------------------


def test_a_key_scoped_to_another_partnership_gets_404_and_sees_nothing(
    client: TestClient, admin: Headers, member: Headers, make_key: Callable[..., str]
) -> None:
    case = create(client, admin)
    made = ask(client, member, case, POLICE, "2026-06-01")
    before = read(client, admin, made, "2026-07-01")
    elsewhere = {"Authorization": f"Bearer {make_key(role='member', partnerships=['mercia'])}"}
    path = f"/contributions/{made['id']}"

    for response in [
        client.get(f"/cases/{case['id']}/contributions", headers=elsewhere),
        post(client, elsewhere, case, agency=HEALTH, requested_on="2026-06-01"),
        client.get(path, headers=elsewhere),
        patch(client, elsewhere, made, {"received_on": "2026-06-05"}),
        client.get(f"{path}/history", headers=elsewhere),
    ]:
        assert assert_problem(response, 404)["type"] == "/problems/not-found"
    assert listed(client, elsewhere) == []
    assert listed(client, elsewhere, partnership="wessex") == []
    assert read(client, admin, made, "2026-07-01") == before
    assert listed(client, admin, f"/cases/{case['id']}/contributions") == [made["id"]]
    assert len(history(client, admin, made)) == 1
