"""Recommendations and their actions through the HTTP API (SQLite and PostgreSQL): the life
of an action, every rule refusing a change (and writing nothing), and a slipped due date
replayed "as of" a day. (The closure gate, the action plan and other partnerships' keys are
in tests/test_actions_plan.py.)

The server's today is pinned (`clock`, tests/actions_helpers.py): the days an action is
recorded on and its due date is moved on are then known, and the tests hold on any real
day. Dates are worked by hand.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.actions_helpers import (
    ASSURING,
    CANCELLING,
    COMPLETING,
    COUNCIL,
    EVIDENCE,
    HEALTH,
    IMPACT,
    NOTE,
    POLICE,
    SUBGROUP,
    TODAY,
    TOMORROW,
    Api,
    Clock,
    Fields,
    Json,
    api,
    assert_problem,
    clock,
)

__all__ = ["api", "clock"]  # fixtures (pytest finds them here)

# -- 1. The life of an action -------------------------------------------------------------


def test_an_action_from_recommendation_to_assured_impact(api: Api) -> None:
    agencies = api.get("member", "/partnerships/wessex/agencies").json()["items"]
    assert [agency["name"] for agency in agencies] == [COUNCIL, HEALTH, POLICE]
    assert_problem(api.post("member", "/partnerships/wessex/agencies", {"name": "X"}), 403)

    case = api.published_case()
    url = f"/cases/{case['id']}/recommendations"
    rec = api.recommend("member", url, number="1", source="lcspr")
    assert (rec["case_id"], rec["partnership"], rec["actions"]) == (case["id"], "wessex", [])

    action = api.act("member", rec, lead_agency="wessex POLICE", owner="DI Example")
    assert (action["_etag"], action["version"], action["status"]) == ('"v1-20261127"', 1, "open")
    assert action["original_due_on"] == action["due_on"] == "2027-03-31"
    assert (action["lead_agency"], action["recorded_on"]) == (POLICE, "2026-11-27")
    assert (action["due_on_changes"], action["slipped_days"], action["overdue"]) == (0, 0, False)

    noted = {"note": NOTE, "noted_on": "2026-11-20"}
    note = api.post("member", f"/actions/{action['id']}/updates", noted)
    assert note.status_code == 201, note.text
    notes = api.get("member", f"/actions/{action['id']}/updates").json()["items"]
    assert [(n["note"], n["noted_on"], n["recorded_by"]) for n in notes] == [
        (NOTE, "2026-11-20", "wessex-member")
    ]
    assert api.read("member", action["id"]) == action  # a note leaves the action (and ETag)

    action = api.change("member", action, status="in_progress")
    action = api.change("member", action, **COMPLETING)
    assert (action["completed_on"], action["evidence_of_completion"]) == ("2026-11-27", EVIDENCE)
    action = api.change("manager", action, **ASSURING)
    assert [action[name] for name in ASSURING] == list(ASSURING.values())
    action = api.change("member", action, evidence_of_impact=IMPACT)
    action = api.change("member", action, rating="blue")
    assert (action["evidence_of_impact"], action["rating"]) == (IMPACT, "blue")
    assert api.read("member", action["id"]) == action
    listing = api.get("member", url).json()["items"]
    assert [[a["status"] for a in r["actions"]] for r in listing] == [["assured"]]
    case_read = api.get("member", f"/cases/{case['id']}").json()
    assert (case_read["outstanding_actions"], "close" in case_read["allowed_events"]) == ([], True)

    response = api.get("member", f"/actions/{action['id']}/history")
    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert [(h["version"], h["actor"], h["change"]) for h in history] == [
        (1, "wessex-member", "create"),
        (1, "wessex-member", "progress_note"),
        (2, "wessex-member", "patch"),
        (3, "wessex-member", "patch"),
        (4, "wessex-manager", "patch"),
        (5, "wessex-member", "patch"),
        (6, "wessex-member", "patch"),
    ]
    assert history[0]["details"]["lead_agency"] == POLICE
    assert [h["details"].get("status") for h in history[2:5]] == [
        {"from": "open", "to": "in_progress"},
        {"from": "in_progress", "to": "completed"},
        {"from": "completed", "to": "assured"},
    ]
    assert history[3]["details"]["changed"] == ["evidence_of_completion", "status"]
    assert history[5]["details"]["changed"] == ["evidence_of_impact"]
    assert history[6]["details"]["rating"] == {"from": None, "to": "blue"}
    text = json.dumps(history)
    for free_text in ("CANARY", "DI Example", "Audit referrals", SUBGROUP):
        assert free_text not in text  # names and statuses only, never narrative


# -- 2. Every rule refuses, and writes nothing ----------------------------------------------

# (who, status, fields named, body), refused on an open action.
OPEN_REFUSALS: list[tuple[str, int, Fields, Json]] = [
    ("member", 422, ("body.evidence_of_completion",), {"status": "completed"}),
    ("member", 422, ("body.completed_on",), {**COMPLETING, "completed_on": TOMORROW}),
    ("member", 422, ("body.completed_on",), {"completed_on": "2026-11-20"}),  # not completed
    ("manager", 409, (), ASSURING),  # only a completed action can be assured
    ("member", 403, (), CANCELLING),
    ("manager", 422, ("body.cancellation_reason",), {"status": "cancelled"}),
    ("manager", 422, ("body.cancelled_on",), {**CANCELLING, "cancelled_on": TOMORROW}),
    ("member", 422, ("body.due_on_change_reason",), {"due_on": "2027-04-30"}),
    ("member", 422, ("body.due_on_change_reason",), {"due_on_change_reason": "slipped"}),
    ("member", 422, ("body.rating",), {"rating": "blue"}),
    ("member", 422, ("body.evidence_of_impact",), {"evidence_of_impact": IMPACT}),
    ("member", 422, ("body.assured_on",), {"assured_on": "2026-11-27"}),
    ("member", 422, ("body.lead_agency",), {"lead_agency": "Kingsmere Police"}),
]
# Refused on an action completed on Fri 20 Nov: assurance needs a manager, a day neither
# before the completion nor after today, and the subgroup.
COMPLETED_REFUSALS: list[tuple[str, int, Fields, Json]] = [
    ("member", 403, (), ASSURING),
    ("manager", 422, ("body.assured_on", "body.assured_by"), {"status": "assured"}),
    ("manager", 422, ("body.assured_on",), {**ASSURING, "assured_on": "2026-11-19"}),
    ("manager", 422, ("body.assured_on",), {**ASSURING, "assured_on": TOMORROW}),
]
# Assured is final: only the evidence of impact and the rating still change.
FINAL_REFUSALS: list[Json] = [
    {"status": "in_progress"},
    CANCELLING,
    {"description": "Audit more referrals"},
    {"due_on": "2027-04-30", "due_on_change_reason": "late"},
    {"owner": "DS Ng"},
    {"evidence_of_completion": "More evidence"},
]


def test_each_rule_refuses_a_change_and_writes_nothing(api: Api) -> None:
    rec = api.recommend("member")
    action_id = api.act("member", rec)["id"]
    for who, status, fields, body in OPEN_REFUSALS:
        problem = api.refused(who, action_id, status, fields, body)
        assert status != 409 or "completed" in problem["detail"]

    missing = api.client.patch(
        f"/actions/{action_id}", json={"owner": "DC Lee"}, headers=api.keys["member"]
    )
    assert_problem(missing, 428, "header.If-Match")
    stale = api.read("member", action_id)
    current = api.change("member", stale, owner="DC Lee")
    conflict = api.patch("member", action_id, {"owner": "X"}, stale["_etag"])
    assert assert_problem(conflict, 412)["current_etag"] == current["_etag"]
    assert conflict.headers["ETag"] == current["_etag"]
    assert api.read("member", action_id)["owner"] == "DC Lee"

    unknown = {"description": "Train", "lead_agency": "Kingsmere Police", "due_on": "2027-01-29"}
    posted = api.post("member", f"/recommendations/{rec['id']}/actions", unknown)
    assert_problem(posted, 422, "body.lead_agency")
    blue = {**unknown, "lead_agency": POLICE, "rating": "blue"}
    posted = api.post("member", f"/recommendations/{rec['id']}/actions", blue)
    assert_problem(posted, 422, "body.rating")  # blue only once completed with evidence
    future = {"note": NOTE, "noted_on": TOMORROW}
    posted = api.post("member", f"/actions/{action_id}/updates", future)
    assert_problem(posted, 422, "body.noted_on")
    assert api.get("member", f"/actions/{action_id}/updates").json()["items"] == []
    assert api.listed("member") == [action_id]

    api.change("member", api.read("member", action_id), **COMPLETING, completed_on="2026-11-20")
    for who, status, fields, body in COMPLETED_REFUSALS:
        api.refused(who, action_id, status, fields, body)
    api.change("manager", api.read("member", action_id), **ASSURING)
    for body in FINAL_REFUSALS:
        assert "final" in api.refused("manager", action_id, 409, (), body)["detail"]

    # Cancelled is final too; an action never completed takes no impact and no blue.
    other = api.act("member", rec, lead_agency=HEALTH)
    assert api.change("manager", other, **CANCELLING)["cancelled_on"] == "2026-11-27"
    api.refused("manager", other["id"], 409, (), {"status": "open"})
    impact = {"evidence_of_impact": IMPACT}
    api.refused("manager", other["id"], 422, ("body.evidence_of_impact",), impact)
    api.refused("manager", other["id"], 422, ("body.rating",), {"rating": "blue"})


@pytest.mark.parametrize(
    "body",
    [
        {"evidence_of_completion": None},
        {"evidence_of_completion": "   "},
        {"due_on_change_reason": ""},
        {"status": "done"},
    ],
    ids=["null-evidence", "blank-evidence", "empty-reason", "unknown-status"],
)
def test_a_malformed_field_is_refused_naming_that_field_once(api: Api, body: Json) -> None:
    action_id = api.act("member", api.recommend("member"))["id"]
    problem = api.refused("member", action_id, 422, (f"body.{next(iter(body))}",), body)
    assert len(problem["errors"]) == 1, problem["errors"]


# -- 3. A slipped due date, replayed ------------------------------------------------------


def test_slippage_keeps_the_first_date_and_replays_the_date_then_in_force(
    api: Api, clock: Clock
) -> None:
    # Recorded Thu 1 Oct, due Thu 15 Oct. Moved on Tue 20 Oct (already late) to Fri 30 Oct,
    # and on Mon 2 Nov (late again) to Fri 13 Nov. Completed Fri 20 Nov.
    clock.today = date(2026, 10, 1)
    action = api.act("member", api.recommend("member"), due_on="2026-10-15")
    clock.today = date(2026, 10, 20)
    action = api.change("member", action, due_on="2026-10-30", due_on_change_reason="inspection")
    clock.today = date(2026, 11, 2)
    action = api.change("member", action, due_on="2026-11-13", due_on_change_reason="outage")
    # 15 Oct -> 13 Nov: 16 days to 31 Oct, then 13 more: 29 days.
    assert (action["original_due_on"], action["due_on"]) == ("2026-10-15", "2026-11-13")
    assert (action["due_on_changes"], action["slipped_days"]) == (2, 29)
    assert action["due_on_change_reason"] == "outage"
    clock.today = date(2026, 11, 20)
    api.change("member", action, **COMPLETING)

    clock.today = TODAY
    replay = {
        "2026-09-30": False,  # not yet recorded
        "2026-10-15": False,  # the due day itself is not late
        "2026-10-16": True,  # due 15 Oct then: the move on 20 Oct does not rewrite that
        "2026-10-20": False,  # moved that day to 30 Oct
        "2026-10-31": True,  # due 30 Oct then (today's 13 Nov would say not late)
        "2026-11-02": False,  # moved that day to 13 Nov
        "2026-11-13": False,
        "2026-11-16": True,
        "2026-11-20": False,  # completed that day
        "2026-11-27": False,
    }
    for day, overdue in replay.items():
        late, on_time = ([action["id"]], []) if overdue else ([], [action["id"]])
        assert api.listed("member", overdue="true", as_of=day) == late, day
        assert api.listed("member", overdue="false", as_of=day) == on_time, day
        assert api.read("member", action["id"], as_of=day)["overdue"] is overdue, day
