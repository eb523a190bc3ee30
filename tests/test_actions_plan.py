"""The closure gate, the action plan (filters, pages, CSV) and what a key scoped to
another partnership sees, through the HTTP API on SQLite and PostgreSQL (helpers and the
pinned today in tests/actions_helpers.py)."""

from __future__ import annotations

import csv
import io

from review_engine.actions.export import COLUMNS
from tests.actions_helpers import (
    CANCELLING,
    COMPLETING,
    COUNCIL,
    EVIDENCE,
    HEALTH,
    OWN_RECOMMENDATIONS,
    POLICE,
    Api,
    Json,
    api,
    assert_problem,
    clock,
)
from tests.cases_helpers import fire

__all__ = ["api", "clock"]  # fixtures (pytest finds them here)

# -- 4. The closure gate -------------------------------------------------------------------


def test_a_case_closes_only_once_every_action_is_assured_or_cancelled(api: Api) -> None:
    case = api.published_case()
    rec = api.recommend("member", f"/cases/{case['id']}/recommendations", source="lcspr")
    action = api.act("member", rec)
    closing = {"closed_on": "2026-11-10"}
    headers = {**api.keys["admin"], "If-Match": case["_etag"]}

    for body in ({}, COMPLETING):  # open, then completed but not assured
        action = api.change("member", action, **body) if body else action
        response = api.client.post(
            f"/cases/{case['id']}/events/close", json=closing, headers=headers
        )
        problem = assert_problem(response, 409)
        assert problem["outstanding_actions"] == [action["id"]]
        assert action["id"] in problem["detail"]
        assert "close" not in problem["allowed_events"]
        now = api.get("member", f"/cases/{case['id']}").json()
        assert (now["state"], now["version"]) == ("action_tracking", case["version"])
        assert now["outstanding_actions"] == [action["id"]]
        assert "close" not in now["allowed_events"]

    api.change("manager", action, **CANCELLING)
    now = api.get("member", f"/cases/{case['id']}").json()
    assert (now["outstanding_actions"], "close" in now["allowed_events"]) == ([], True)
    assert fire(api.client, api.keys["admin"], case, "close", closing)["state"] == "closed"

    again = {"text": "One more", "source": "lcspr"}
    assert_problem(api.post("member", f"/cases/{case['id']}/recommendations", again), 409)
    more = {"description": "More", "lead_agency": POLICE, "due_on": "2027-01-29"}
    assert_problem(api.post("member", f"/recommendations/{rec['id']}/actions", more), 409)
    recs = api.get("member", f"/cases/{case['id']}/recommendations").json()["items"]
    assert [len(r["actions"]) for r in recs] == [1]


# -- 5. The action plan: filters, pages and CSV ------------------------------------------


def test_the_action_plan_filters_pages_and_exports_every_matching_row(api: Api) -> None:
    rec = api.recommend("member", number="2b")
    late = api.act("member", rec, due_on="2026-10-01", rating="red")
    cancelled = api.act("member", rec, due_on="2026-11-02")
    api.change("manager", cancelled, **CANCELLING)
    running = api.act("member", rec, lead_agency=HEALTH, due_on="2026-12-01", rating="amber")
    api.change("member", running, status="in_progress")
    done = api.act("member", rec, due_on="2027-01-15")
    api.change("member", done, **COMPLETING, rating="blue")
    twin = api.act("member", rec, lead_agency=HEALTH, due_on="2027-01-15")
    formula = '=HYPERLINK("http://evil.example")'
    council = api.act("member", rec, lead_agency=COUNCIL, due_on="2027-02-01", description=formula)
    assert api.post("away", "/partnerships/kingsmere/agencies", {"name": POLICE}).status_code == 201
    away_rec = api.recommend("away", "/partnerships/kingsmere/recommendations")
    away = api.act("away", away_rec, due_on="2026-09-01")

    same_day = sorted([done["id"], twin["id"]])  # due the same day: by id
    wessex = [late["id"], cancelled["id"], running["id"], *same_day, council["id"]]
    assert api.listed("admin") == [away["id"], *wessex]
    assert api.listed("member") == wessex  # kingsmere's action is not for wessex's keys
    assert api.listed("admin", partnership="wessex") == wessex
    assert api.listed("admin", partnership="kingsmere") == [away["id"]]
    police = [late["id"], cancelled["id"], done["id"]]
    assert api.listed("member", lead_agency="wessex POLICE") == police
    assert api.listed("member", lead_agency="Kingsmere Police") == []
    open_ = [i for i in wessex if i in (late["id"], twin["id"], council["id"])]
    assert api.listed("member", status="open") == open_
    assert api.listed("member", status="cancelled") == [cancelled["id"]]
    assert api.listed("member", rating="blue") == [done["id"]]
    assert api.listed("member", rating="amber") == [running["id"]]
    # Today Fri 27 Nov: only the open action due Thu 1 Oct is late (the other was cancelled).
    assert api.listed("member", overdue="true") == [late["id"]]
    assert api.listed("member", overdue="false") == wessex[1:]
    assert api.listed("member", due_before="2027-01-15") == wessex[:3]  # not the day itself

    walked: list[str] = []
    cursor: Json = {}
    while True:
        page = api.get("admin", "/actions", limit="1", **cursor).json()
        assert len(page["items"]) == 1
        walked += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = {"cursor": page["next_cursor"]}
    assert walked == [away["id"], *wessex]  # each exactly once, in order

    def export(**params: str) -> list[dict[str, str]]:
        headers = {**api.keys["member"], "Accept": "text/csv"}
        response = api.client.get("/actions", headers=headers, params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        header, *rows = csv.reader(io.StringIO(response.text))
        assert header == list(COLUMNS)
        return [dict(zip(header, row, strict=True)) for row in rows]

    table = export(limit="1")
    assert [row["action_id"] for row in table] == wessex  # every row, whatever the limit
    by_id = {row["action_id"]: row for row in table}
    assert by_id[council["id"]]["action"] == "'" + formula  # never run as a formula
    assert [by_id[late["id"]][c] for c in ("overdue", "recommendation_number")] == ["yes", "2b"]
    assert by_id[done["id"]]["evidence_of_completion"] == EVIDENCE
    assert [row["action_id"] for row in export(lead_agency=POLICE)] == police


# -- 6. Another partnership's key ---------------------------------------------------------


def test_a_key_of_another_partnership_finds_nothing(api: Api) -> None:
    case = api.published_case()
    case_rec = api.recommend("member", f"/cases/{case['id']}/recommendations", source="lcspr")
    own = api.recommend("member", source="panel_report")
    assert (own["case_id"], own["source"]) == (None, "panel_report")
    wrong = {"text": "From our own review", "source": "lcspr"}
    assert_problem(api.post("member", OWN_RECOMMENDATIONS, wrong), 422, "body.source")
    listing = api.get("member", OWN_RECOMMENDATIONS).json()["items"]
    assert [r["id"] for r in listing] == [case_rec["id"], own["id"]]
    action = api.act("member", case_rec)

    for url in (
        f"/actions/{action['id']}",
        f"/actions/{action['id']}/history",
        f"/actions/{action['id']}/updates",
        f"/recommendations/{case_rec['id']}",
        f"/recommendations/{own['id']}",
        f"/cases/{case['id']}/recommendations",
        OWN_RECOMMENDATIONS,
    ):
        assert_problem(api.get("away", url), 404)
    assert_problem(api.patch("away", action["id"], {"owner": "X"}, "*"), 404)
    body = {"description": "X", "lead_agency": POLICE, "due_on": "2027-01-29"}
    assert_problem(api.post("away", f"/recommendations/{own['id']}/actions", body), 404)
    assert_problem(api.post("away", f"/actions/{action['id']}/updates", {"note": "X"}), 404)
    assert_problem(
        api.post("away", OWN_RECOMMENDATIONS, {"text": "X", "source": "panel_report"}), 404
    )
    assert (api.listed("away"), api.listed("away", partnership="wessex")) == ([], [])
    assert api.read("member", action["id"]) == action  # untouched
    after = api.get("member", OWN_RECOMMENDATIONS).json()["items"]
    assert [r["id"] for r in after] == [case_rec["id"], own["id"]]  # the away POST added none
