"""Statutory fidelity through the HTTP API (SQLite and PostgreSQL): clocks end with the case,
the six months run from the partners' decision, a missed deadline stays missed, "as of" is
a replay, settings never rewrite history, and the events that were missing.

Dates are worked by hand in the comments (England and Wales calendar; June 2026 has no bank
holiday). Statuses are always read with an explicit `as_of`, so the tests hold on any day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cases_helpers import create, fire

Headers = dict[str, str]
Case = dict[str, Any]

NOTIFY = {"notified_on": "2026-06-03"}  # aware Mon 1 Jun: notification due Mon 8 Jun
SUBMIT = {"submitted_on": "2026-06-19", "recommendation": "lcspr"}  # due Wed 24 Jun


@pytest.fixture
def admin(wessex_admin: Headers) -> Headers:
    return wessex_admin


def deadlines(client: TestClient, admin: Headers, case: Case, as_of: str) -> dict[str, Any]:
    response = client.get(f"/cases/{case['id']}", params={"as_of": as_of}, headers=admin)
    assert response.status_code == 200, response.text
    return {d["name"]: d for d in response.json()["deadlines"]}


def listed(client: TestClient, admin: Headers, **params: str) -> list[str]:
    """Every case id the list answers with these filters, across all its pages."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page_params = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = client.get("/cases", params=page_params, headers=admin)
        assert response.status_code == 200, response.text
        ids += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return ids


def to_lcspr(client: TestClient, admin: Headers, reference: str, *, inform: bool = True) -> Case:
    case = create(client, admin, reference=reference)
    case = fire(client, admin, case, "notify_panel", NOTIFY)
    if inform:
        case = fire(client, admin, case, "inform_partners", {"partners_informed_on": "2026-06-04"})
    case = fire(client, admin, case, "submit_rapid_review", SUBMIT)
    # The partners decided on Mon 22 Jun; the Panel agreed on Wed 1 Jul. Six months from
    # the decision: Tue 22 Dec 2026.
    response = {"received_on": "2026-07-01", "outcome": "agreed", "decided_on": "2026-06-22"}
    return fire(client, admin, case, "record_panel_response", response)


# -- 1. Clocks end with the case ------------------------------------------------------------


def test_a_withdrawn_case_is_never_overdue_again_but_was_overdue_before(
    client: TestClient, admin: Headers
) -> None:
    # Notified Wed 3 Jun; the partners never told (due Mon 8 Jun); rapid review never sent
    # (due Wed 24 Jun); withdrawn Wed 1 Jul.
    case = create(client, admin)
    case = fire(client, admin, case, "notify_panel", NOTIFY)
    withdrawal = {"withdrawn_on": "2026-07-01", "reason": "criteria not met"}
    case = fire(client, admin, case, "withdraw", withdrawal)

    now = deadlines(client, admin, case, "2026-07-01")
    assert {name: (d["status"], d["stopped_on"]) for name, d in now.items()} == {
        "notification": ("met", None),
        "partners_informed": ("stopped", "2026-07-01"),
        "rapid_review": ("stopped", "2026-07-01"),
    }
    assert listed(client, admin, overdue="true") == []
    assert listed(client, admin, due_before="2099-01-01") == []
    assert listed(client, admin, overdue="false") == [case["id"]]

    then = deadlines(client, admin, case, "2026-06-30")
    assert (then["partners_informed"]["status"], then["rapid_review"]["status"]) == (
        "overdue",
        "overdue",
    )
    assert listed(client, admin, overdue="true", as_of="2026-06-30") == [case["id"]]
    assert listed(client, admin, overdue="true", as_of="2026-06-08") == []  # not yet late


def test_withholding_publication_stops_the_advance_copies_clock(
    client: TestClient, admin: Headers
) -> None:
    # Approved Thu 1 Oct for publication Fri 20 Nov: copies due Wed 11 Nov (7 working days
    # back: 19, 18, 17, 16, 13, 12, 11 Nov). Withheld Mon 2 Nov, copies never sent.
    case = to_lcspr(client, admin, "WH-1")
    approval = {"approved_on": "2026-10-01", "planned_publication_on": "2026-11-20"}
    case = fire(client, admin, case, "approve_final_report", approval)
    withholding = {"reason": "would identify a sibling", "panel_informed_on": "2026-11-02"}
    case = fire(client, admin, case, "withhold_publication", withholding)
    copies = deadlines(client, admin, case, "2026-11-20")["advance_copies"]
    assert (copies["due_on"], copies["status"], copies["stopped_on"]) == (
        "2026-11-11",
        "stopped",
        "2026-11-02",
    )
    assert listed(client, admin, overdue="true", as_of="2026-11-20") == []


# -- 2. The six months run from the partners' decision ------------------------------------


def test_the_six_month_clock_starts_at_the_partners_decision(
    client: TestClient, admin: Headers
) -> None:
    case = to_lcspr(client, admin, "SIX-1")
    publication = deadlines(client, admin, case, "2026-07-01")["review_publication"]
    assert (publication["basis"]["start_on"], publication["due_on"]) == (
        "2026-06-22",
        "2026-12-22",
    )
    # Left out, the decision is the day the Panel's reply came: Wed 1 Jul -> Fri 1 Jan 2027.
    other = create(client, admin, reference="SIX-2")
    other = fire(client, admin, other, "notify_panel", NOTIFY)
    other = fire(client, admin, other, "submit_rapid_review", SUBMIT)
    other = fire(
        client,
        admin,
        other,
        "record_panel_response",
        {"received_on": "2026-07-01", "outcome": "agreed"},
    )
    assert deadlines(client, admin, other, "2026-07-01")["review_publication"]["due_on"] == (
        "2027-01-01"
    )


def test_a_decision_before_the_rapid_review_was_sent_is_refused(
    client: TestClient, admin: Headers
) -> None:
    case = create(client, admin)
    case = fire(client, admin, case, "notify_panel", NOTIFY)
    case = fire(client, admin, case, "submit_rapid_review", SUBMIT)
    early = {"received_on": "2026-07-01", "outcome": "agreed", "decided_on": "2026-06-18"}
    refused = fire(client, admin, case, "record_panel_response", early, expect=422)
    assert [e["field"] for e in refused["errors"]] == ["body.decided_on"]
    assert "2026-06-19" in refused["errors"][0]["message"]


# -- 3. A missed deadline stays missed ----------------------------------------------------


def test_a_pause_after_the_deadline_was_missed_moves_nothing(
    client: TestClient, admin: Headers
) -> None:
    # Due Tue 22 Dec 2026... so take a case decided earlier: aware Mon 2 Mar, notified Wed 4
    # Mar, sent Wed 18 Mar, decided Tue 24 Mar: due Thu 24 Sep. Paused Mon 5 Oct.
    case = create(client, admin, reference="LATE-1", aware_on="2026-03-02", incident_on=None)
    case = fire(client, admin, case, "notify_panel", {"notified_on": "2026-03-04"})
    submitted = {"submitted_on": "2026-03-18", "recommendation": "lcspr"}
    case = fire(client, admin, case, "submit_rapid_review", submitted)
    response = {"received_on": "2026-04-21", "outcome": "agreed", "decided_on": "2026-03-24"}
    case = fire(client, admin, case, "record_panel_response", response)
    pause = {"started_on": "2026-10-05", "reason": "trial", "panel_informed_on": "2026-10-05"}
    case = fire(client, admin, case, "pause", pause)
    assert case["state"] == "lcspr_paused"  # the pause is recorded ...
    publication = deadlines(client, admin, case, "2026-10-12")["review_publication"]
    assert (publication["status"], publication["due_on"]) == ("overdue", "2026-09-24")  # ...
    assert publication["basis"]["paused_working_days"] == 0
    assert listed(client, admin, overdue="true", as_of="2026-10-12") == [case["id"]]


# -- 4. "As of" is a replay, and the lists agree with the reads ----------------------------


def _varied_cases(client: TestClient, admin: Headers) -> list[Case]:
    """Cases at many stages, whose clocks start, stop, pause and get waived on known days."""
    made = []
    made.append(create(client, admin, reference="V-REFERRED"))
    withdrawn = fire(client, admin, create(client, admin, reference="V-WD"), "notify_panel", NOTIFY)
    made.append(
        fire(
            client,
            admin,
            withdrawn,
            "withdraw",
            {"withdrawn_on": "2026-07-01", "reason": "criteria not met"},
        )
    )
    not_notified = create(client, admin, reference="V-NN")
    made.append(
        fire(
            client,
            admin,
            not_notified,
            "decide_not_to_notify",
            {"decided_on": "2026-06-10", "reason": "criteria not met"},
        )
    )
    paused = to_lcspr(client, admin, "V-PAUSED")
    pause = {"started_on": "2026-07-06", "reason": "trial", "panel_informed_on": "2026-07-07"}
    made.append(fire(client, admin, paused, "pause", pause))
    waived = create(client, admin, reference="V-WAIVED")
    waiver = {"clock": "notification", "reason": "relaxation", "waived_on": "2026-06-15"}
    response = client.post(
        f"/cases/{waived['id']}/waivers", json=waiver, headers={**admin, "If-Match": "*"}
    )
    assert response.status_code == 200, response.text
    made.append(response.json())
    submitted = fire(
        client, admin, create(client, admin, reference="V-SENT"), "notify_panel", NOTIFY
    )
    made.append(
        fire(
            client,
            admin,
            submitted,
            "inform_partners",
            {"partners_informed_on": "2026-06-05"},
        )
    )
    return made


AS_OF_DAYS = ["2026-05-31", "2026-06-08", "2026-06-09", "2026-06-25", "2026-07-01", "2026-07-06"]


@pytest.mark.parametrize("as_of", [*AS_OF_DAYS, "today", "2027-03-01"])
def test_list_filters_answer_what_reading_each_case_answers(
    client: TestClient, admin: Headers, as_of: str
) -> None:
    cases = _varied_cases(client, admin)
    params = {} if as_of == "today" else {"as_of": as_of}
    reads = {
        case["id"]: client.get(f"/cases/{case['id']}", params=params, headers=admin).json()
        for case in cases
    }
    day = next(iter(reads.values()))["as_of"]
    overdue = {
        i for i, read in reads.items() if any(d["status"] == "overdue" for d in read["deadlines"])
    }
    assert set(listed(client, admin, overdue="true", **params)) == overdue
    assert set(listed(client, admin, overdue="false", **params)) == set(reads) - overdue
    for before in ["2026-06-09", "2026-06-25", "2027-01-01"]:
        running = {
            i
            for i, read in reads.items()
            if any(
                d["status"] in ("pending", "due_soon", "overdue") and d["due_on"] < before
                for d in read["deadlines"]
            )
        }
        assert set(listed(client, admin, due_before=before, **params)) == running, (day, before)


# -- 5. Settings do not rewrite history ---------------------------------------------------


def test_a_new_clock_start_setting_applies_only_where_the_rapid_review_is_still_due(
    client: TestClient, admin: Headers
) -> None:
    # Sent: notified Fri 5 Jun, submitted Wed 24 Jun. Counted from the notification it was
    # due Fri 26 Jun (met); from awareness (Mon 1 Jun) it would be Mon 22 Jun (late).
    sent = create(client, admin, reference="SET-SENT")
    sent = fire(client, admin, sent, "notify_panel", {"notified_on": "2026-06-05"})
    sent = fire(
        client, admin, sent, "submit_rapid_review", {**SUBMIT, "submitted_on": "2026-06-24"}
    )
    running = fire(
        client,
        admin,
        create(client, admin, reference="SET-RUN"),
        "notify_panel",
        {"notified_on": "2026-06-05"},
    )
    ended = fire(client, admin, create(client, admin, reference="SET-END"), "notify_panel", NOTIFY)
    ended = fire(client, admin, ended, "withdraw", {"withdrawn_on": "2026-06-10", "reason": "no"})
    waiting = create(client, admin, reference="SET-WAIT")
    before = {c["id"]: c for c in (sent, running, ended, waiting)}

    changed = client.patch(
        "/partnerships/wessex", json={"rapid_review_clock_start": "aware"}, headers=admin
    )
    assert changed.status_code == 200, changed.text

    for case in before.values():
        read = client.get(f"/cases/{case['id']}", headers={**admin, "If-None-Match": case["_etag"]})
        moved = case["id"] in (running["id"], waiting["id"])
        assert read.status_code == (200 if moved else 304), case["reference"]
        history = client.get(f"/cases/{case['id']}/history", headers=admin).json()["items"]
        if moved:
            assert read.json()["version"] == case["version"] + 1
            assert read.headers["ETag"] != case["_etag"]
            assert history[-1]["action"] == "setting_changed"
            assert history[-1]["details"] == {
                "rapid_review_clock_start": {"from": "notified", "to": "aware"}
            }
        else:
            assert history[-1]["action"] != "setting_changed"
    sent_clock = deadlines(client, admin, sent, "2026-07-01")["rapid_review"]
    assert (sent_clock["status"], sent_clock["due_on"]) == ("met", "2026-06-26")
    assert sent_clock["basis"]["rapid_review_clock_start"] == "notified"
    running_clock = deadlines(client, admin, running, "2026-06-23")["rapid_review"]
    assert (running_clock["status"], running_clock["due_on"]) == ("overdue", "2026-06-22")
    assert running_clock["basis"]["rapid_review_clock_start"] == "aware"
    # A new case takes the setting in force when it is recorded.
    new = create(client, admin, reference="SET-NEW")
    assert new["timeline"]["rapid_review_clock_start"] == "aware"


# -- 6. Events that were missing ----------------------------------------------------------


def test_partners_told_late_are_recorded_late(client: TestClient, admin: Headers) -> None:
    case = to_lcspr(client, admin, "TOLD-1", inform=False)
    assert "inform_partners" in case["allowed_events"]
    case = fire(client, admin, case, "inform_partners", {"partners_informed_on": "2026-07-02"})
    assert case["state"] == "lcspr"
    told = deadlines(client, admin, case, "2026-07-02")["partners_informed"]
    assert (told["status"], told["met_on"]) == ("met_late", "2026-07-02")  # due Mon 8 Jun


def test_a_delay_to_publication_told_to_the_panel_is_shown_on_the_deadline(
    client: TestClient, admin: Headers, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    case = to_lcspr(client, admin, "DELAY-1")
    approval = {"approved_on": "2026-10-01", "planned_publication_on": "2026-11-20"}
    case = fire(client, admin, case, "approve_final_report", approval)
    move = {
        "rescheduled_on": "2026-10-05",
        "planned_publication_on": "2027-02-01",
        "reason": "trial listed for January",
        "panel_informed_on": "2026-10-07",
    }
    member = auth(make_key(role="member"))
    assert fire(client, member, case, "reschedule_publication", move, expect=403)
    case = fire(client, admin, case, "reschedule_publication", move)
    publication = deadlines(client, admin, case, "2026-10-07")["review_publication"]
    assert publication["delay_notified_on"] == "2026-10-07"
    assert publication["due_on"] == "2026-12-22"  # a delay told to the Panel moves nothing
    assert (
        deadlines(client, admin, case, "2026-10-06")["review_publication"]["delay_notified_on"]
        is None
    )
    copies = deadlines(client, admin, case, "2026-10-07")["advance_copies"]
    assert copies["due_on"] == "2027-01-21"  # 7 working days before Mon 1 Feb 2027
    # As of Fri 2 Oct the plan was still 20 Nov: copies due Wed 11 Nov.
    assert deadlines(client, admin, case, "2026-10-02")["advance_copies"]["due_on"] == (
        "2026-11-11"
    )


def test_advance_copies_count_once_all_three_recipients_have_one(
    client: TestClient, admin: Headers
) -> None:
    case = to_lcspr(client, admin, "COPIES-1")
    approval = {"approved_on": "2026-10-01", "planned_publication_on": "2026-11-20"}
    case = fire(client, admin, case, "approve_final_report", approval)
    first = {"sent_on": "2026-10-05", "recipients": ["panel", "secretary_of_state"]}
    case = fire(client, admin, case, "send_advance_copies", first)
    assert "publish" not in case["allowed_events"]
    refused = fire(
        client,
        admin,
        case,
        "publish",
        {"published_on": "2026-11-20", "mode": "full", "url": "https://e.org/r", "title": "T"},
        expect=409,
    )
    assert "Ofsted" in refused["detail"]
    case = fire(
        client,
        admin,
        case,
        "send_advance_copies",
        {"sent_on": "2026-11-12", "recipients": ["ofsted"]},
    )
    copies = deadlines(client, admin, case, "2026-11-12")["advance_copies"]
    assert (copies["status"], copies["met_on"]) == ("met_late", "2026-11-12")  # due Wed 11 Nov
    assert [send["recipients"] for send in case["timeline"]["advance_copies"]] == [
        ["panel", "secretary_of_state"],
        ["ofsted"],
    ]


def test_new_information_after_a_decision_not_to_notify(client: TestClient, admin: Headers) -> None:
    case = create(client, admin)
    decision = {"decided_on": "2026-06-03", "reason": "criteria not met"}
    case = fire(client, admin, case, "decide_not_to_notify", decision)
    missing = fire(client, admin, case, "notify_panel", {"notified_on": "2026-06-22"}, expect=422)
    assert [e["field"] for e in missing["errors"]] == ["body.new_information_on"]
    # New information on Mon 15 Jun: notification due Mon 22 Jun.
    renewed = {"notified_on": "2026-06-23", "new_information_on": "2026-06-15"}
    case = fire(client, admin, case, "notify_panel", renewed)
    assert case["state"] == "rapid_review"
    notification = deadlines(client, admin, case, "2026-06-23")["notification"]
    assert (notification["due_on"], notification["status"]) == ("2026-06-22", "met_late")
    assert deadlines(client, admin, case, "2026-06-10")["notification"]["status"] == "stopped"


def test_the_panel_may_take_a_national_review_of_an_lcspr(
    client: TestClient, admin: Headers
) -> None:
    case = to_lcspr(client, admin, "ESC-1")
    pause = {"started_on": "2026-07-06", "reason": "trial", "panel_informed_on": "2026-07-07"}
    case = fire(client, admin, case, "pause", pause)
    case = fire(client, admin, case, "escalate_to_national_review", {"decided_on": "2026-08-03"})
    assert case["state"] == "national_review"
    publication = deadlines(client, admin, case, "2027-06-01")["review_publication"]
    assert (publication["status"], publication["stopped_on"]) == ("stopped", "2026-08-03")
    case = fire(client, admin, case, "complete_national_review", {"completed_on": "2026-11-02"})
    assert case["state"] == "action_tracking"


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"incident_type": "serious_harm", "looked_after": True}, False),
        ({"incident_type": "death"}, False),
        ({"incident_type": "death", "looked_after": True}, True),
        ({"incident_type": "death", "care_leaver": True}, True),
    ],
)
def test_no_rapid_review_only_for_a_looked_after_childs_or_care_leavers_death(
    client: TestClient, admin: Headers, fields: dict[str, Any], allowed: bool
) -> None:
    case = create(client, admin, **fields)
    payload = {**NOTIFY, "rapid_review_required": False}
    if allowed:
        assert fire(client, admin, case, "notify_panel", payload)["state"] == "closed"
        return
    refused = fire(client, admin, case, "notify_panel", payload, expect=422)
    assert [e["field"] for e in refused["errors"]] == ["body.rapid_review_required"]
    assert "care leaver" in refused["errors"][0]["message"]


def test_care_leaver_is_recorded_corrected_and_kept_off_lists(
    client: TestClient, admin: Headers
) -> None:
    case = create(client, admin, incident_type="death")
    assert case["care_leaver"] is None
    patched = client.patch(
        f"/cases/{case['id']}", json={"care_leaver": True}, headers={**admin, "If-Match": "*"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["care_leaver"] is True
    case = {**patched.json(), "_etag": patched.headers["ETag"]}
    closed = fire(client, admin, case, "notify_panel", {**NOTIFY, "rapid_review_required": False})
    assert closed["state"] == "closed"
    item = client.get("/cases", headers=admin).json()["items"][0]
    assert "care_leaver" not in item
    history = client.get(f"/cases/{case['id']}/history", headers=admin).json()["items"]
    assert history[1]["details"] == {"changed": ["care_leaver"]}
