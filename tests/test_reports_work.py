"""GET /reports/annual's `actions` and `contributions`: the work that follows the reviews,
counted for a reporting year through the HTTP API on SQLite and PostgreSQL. The server's
today (`clock`, tests/actions_helpers.py) is moved to date what it stamps: an action's
`recorded_on`, a due date's move, a default completion or cancellation.

Every date is worked by hand. 2025/26 runs from Tue 1 Apr 2025 to Tue 31 Mar 2026 (2024/25
ends on Mon 31 Mar 2025; 2026/27 begins on Wed 1 Apr 2026). Actions' days are calendar days.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from tests.actions_helpers import (
    COUNCIL,
    EVIDENCE,
    HEALTH,
    IMPACT,
    POLICE,
    TODAY,
    Api,
    Clock,
    Json,
    api,
    assert_problem,
    clock,
)
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create

__all__ = ["api", "clock"]  # fixtures (pytest finds them here)

URL = "/reports/annual"
HOSPICE = "St. Aldhelm's Hospice"  # a dot in the name, yet one key
DESCRIPTION = "DESCRIPTION-CANARY-3e81: audit every front-door referral"
OWNER = "OWNER-CANARY-c07d: Jo Bloggs"
REASON = "REASON-CANARY-77aa: the audit team was redeployed"
ASSURED_BY = "ASSURED-BY-CANARY-1f4b Subgroup"
RECOMMENDATION = "RECOMMENDATION-CANARY-52e0: share information at the front door"
CANARIES = [DESCRIPTION, OWNER, REASON, ASSURED_BY, RECOMMENDATION, EVIDENCE, IMPACT]
CANARIES += [CANARY_NAME, CANARY_SUMMARY]  # the cases' (contributions are asked on cases)
WORK = ("actions", "contributions")
AWARE = {"aware_on": "2025-03-03", "incident_on": "2025-03-01"}  # the contributions' cases


@dataclass
class Work:
    """Wessex's actions (by a name each) and contributions, dated by moving the clock."""

    api: Api
    clock: Clock
    recommendation: Json
    actions: dict[str, Json] = field(default_factory=dict)

    def on(self, day: str) -> None:
        self.clock.today = date.fromisoformat(day)

    def act(self, name: str, on: str, agency: str, due: str) -> None:
        self.on(on)
        fields = {"lead_agency": agency, "due_on": due, "description": DESCRIPTION, "owner": OWNER}
        self.actions[name] = self.api.act("member", self.recommendation, **fields)

    def change(self, name: str, on: str, **body: Any) -> None:
        self.on(on)
        who = "manager" if body.get("status") in ("assured", "cancelled") else "member"
        self.actions[name] = self.api.change(who, self.actions[name], **body)

    def move(self, name: str, on: str, due: str) -> None:
        self.change(name, on, due_on=due, due_on_change_reason=REASON)

    def complete(self, name: str, on: str) -> None:  # completed_on: the server's today
        self.change(name, on, status="completed", evidence_of_completion=EVIDENCE)

    def assure(self, name: str, on: str) -> None:
        body = {"assured_on": on, "assured_by": ASSURED_BY, "evidence_of_impact": IMPACT}
        self.change(name, on, status="assured", **body)

    def cancel(self, name: str, on: str) -> None:  # cancelled_on: the server's today
        self.change(name, on, status="cancelled", cancellation_reason=REASON)

    def ask(self, reference: str, requested: str, due: str, **patch: str) -> None:
        """Asks Wessex Police for a contribution to a new case, then records `patch`."""
        self.on(TODAY.isoformat())
        admin = self.api.keys["admin"]
        case = create(self.api.client, admin, reference=reference, **AWARE)
        body = {"agency": POLICE, "requested_on": requested, "due_on": due}
        asked = self.api.client.post(f"/cases/{case['id']}/contributions", json=body, headers=admin)
        assert asked.status_code == 201, asked.text
        if patch:
            headers = {**admin, "If-Match": asked.headers["ETag"]}
            url = f"/contributions/{asked.json()['id']}"
            assert self.api.client.patch(url, json=patch, headers=headers).status_code == 200

    def get(self, year: int, who: str = "member", accept: str = "", **params: str) -> Any:
        self.on(TODAY.isoformat())  # Fri 27 Nov 2026: after every date here
        headers = {**self.api.keys[who], "Accept": accept or "application/json"}
        query = {"partnership": "wessex", "year": str(year), **params}
        return self.api.client.get(URL, params=query, headers=headers)

    def read(self, year: int, **params: str) -> tuple[Json, dict[str, list[str]]]:
        """The report's `actions` and `contributions`, and what each of their figures
        counts (actions by name, contributions by case reference; empty ones left out)."""
        response = self.get(year, detail="true", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        names = {action["id"]: name for name, action in self.actions.items()}
        detail = {}
        for figure, ids in body["detail"].items():
            if figure.startswith("actions.") and ids:
                assert ids == sorted(ids)  # by id
                detail[figure] = sorted(names[i] for i in ids)
            elif figure.startswith("contributions.") and ids:
                detail[figure] = ids
        return {group: body[group] for group in WORK}, detail


@pytest.fixture
def work(api: Api, clock: Clock) -> Work:
    added = api.post("manager", "/partnerships/wessex/agencies", {"name": HOSPICE})
    assert added.status_code == 201, added.text
    return Work(api, clock, api.recommend("member", text=RECOMMENDATION))


def plan(w: Work) -> None:
    """Ten actions around 2025/26, named by where each stands at its end, Tue 31 Mar 2026."""
    # Recorded Mon 6 Jan 2025, in 2024/25. Assured on Mon 31 Mar 2025 and cancelled that
    # day: before 2025/26 began, so left out of it. Assured on Tue 1 Apr 2025: in it.
    w.act("assured_before", "2025-01-06", POLICE, "2025-03-31")
    w.act("assured", "2025-01-06", POLICE, "2025-03-31")
    w.act("cancelled_before", "2025-01-06", HEALTH, "2025-03-31")
    w.act("done", "2025-03-03", HEALTH, "2025-12-31")  # completed Fri 14 Nov 2025, below
    w.complete("assured_before", "2025-03-10")
    w.complete("assured", "2025-03-20")
    w.assure("assured_before", "2025-03-31")
    w.cancel("cancelled_before", "2025-03-31")
    w.assure("assured", "2025-04-01")
    # Recorded Mon 2 Jun 2025. "overdue": due Fri 30 Jan 2026, before 31 Mar. "running": in
    # progress, due Tue 31 Mar 2026 itself, so not overdue that day.
    w.act("overdue", "2025-06-02", POLICE, "2026-01-30")
    w.act("running", "2025-06-02", HEALTH, "2026-03-31")
    w.act("cancelled", "2025-06-02", HOSPICE, "2025-12-31")
    w.act("slipped", "2025-06-02", HOSPICE, "2025-09-30")
    w.change("running", "2025-07-01", status="in_progress")
    # Tue 30 Sep -> Thu 30 Oct 2025 (+30) on Mon 15 Sep, -> Fri 14 Nov (+15) on Mon 20 Oct:
    # slipped 45 days; still open on 31 Mar 2026 and overdue (due before it).
    w.move("slipped", "2025-09-15", "2025-10-30")
    w.move("slipped", "2025-10-20", "2025-11-14")
    w.complete("done", "2025-11-14")
    w.cancel("cancelled", "2025-12-01")
    # Recorded on the year's last day, due Thu 30 Apr 2026 and moved that same day to Thu
    # 7 May (+7): the move is in force on 31 Mar. Recorded Wed 1 Apr 2026: not in 2025/26.
    w.act("new", "2026-03-31", HEALTH, "2026-04-30")
    w.move("new", "2026-03-31", "2026-05-07")
    w.act("next_year", "2026-04-01", POLICE, "2026-06-30")


def contributions(w: Work) -> None:
    """Contributions asked of Wessex Police, one a case (named by what came of it)."""
    w.ask("CR-PREV", "2025-03-31", "2025-04-07")  # Mon 31 Mar 2025: in 2024/25
    w.ask("CR-ONTIME", "2025-04-01", "2025-04-08", received_on="2025-04-08")  # on the due day
    w.ask("CR-LATE", "2025-06-02", "2025-06-09", received_on="2025-06-10")  # a day late
    not_coming = {"not_coming_reason": REASON, "not_coming_on": "2025-06-05"}  # Thu 5 Jun
    w.ask("CR-NONE", "2025-06-02", "2025-06-09", **not_coming)
    w.ask("CR-AWAITED", "2026-02-02", "2026-02-09")  # never came: overdue from Tue 10 Feb
    # Asked Tue 31 Mar 2026, the year's last day; came on its due day, Thu 9 Apr 2026.
    w.ask("CR-0331", "2026-03-31", "2026-04-09", received_on="2026-04-09")
    w.ask("CR-NEXT", "2026-04-01", "2026-04-09")  # Wed 1 Apr 2026: in 2026/27


def figures(*counts: int | str) -> Json:
    """An `actions` group: open, overdue, completed, assured, cancelled, slipped, days."""
    names = ("open", "overdue", "completed", "assured", "cancelled", "slipped", "slipped_days")
    return dict(zip(names, counts, strict=True))


ACTIONS_SAY = {
    "open": "open or in progress at the year's end (or on the report's day, if earlier)",
    "overdue": "of those, overdue",
    "completed": "completed, awaiting assurance",
    "assured": "assured in the year",
    "cancelled": "cancelled in the year",
    "slipped": "with their due date moved from the first one set",
    "slipped_days": "days their due dates moved, in total",
}
CONTRIBUTIONS_SAY = {
    "requested": "agency contributions requested in the year",
    "returned_on_time": "of those, returned by their due date",
    "returned_late": "of those, returned late",
    "not_coming": "of those, known not to be coming",
    "outstanding": "of those, still awaited",
}


def test_a_year_of_actions_by_where_each_stood_at_its_end_and_by_lead_agency(work: Work) -> None:
    plan(work)
    found, detail = work.read(2025)
    assert found["actions"] == {
        **figures(4, 2, 1, 1, 1, 2, 52),  # 45 + 7 days slipped
        "by_lead_agency": {  # Wessex Council leads none of them
            HOSPICE: figures(1, 1, 0, 0, 1, 1, 45),
            HEALTH: figures(2, 0, 1, 0, 0, 1, 7),
            POLICE: figures(1, 1, 0, 1, 0, 0, 0),
        },
    }
    assert list(found["actions"]["by_lead_agency"]) == [HOSPICE, HEALTH, POLICE]  # by name
    assert detail == {
        "actions.open": ["new", "overdue", "running", "slipped"],
        "actions.overdue": ["overdue", "slipped"],
        "actions.completed": ["done"],
        "actions.assured": ["assured"],
        "actions.cancelled": ["cancelled"],
        "actions.slipped": ["new", "slipped"],
        f"actions.by_lead_agency.{HOSPICE}.open": ["slipped"],
        f"actions.by_lead_agency.{HOSPICE}.overdue": ["slipped"],
        f"actions.by_lead_agency.{HOSPICE}.cancelled": ["cancelled"],
        f"actions.by_lead_agency.{HOSPICE}.slipped": ["slipped"],
        f"actions.by_lead_agency.{HEALTH}.open": ["new", "running"],
        f"actions.by_lead_agency.{HEALTH}.completed": ["done"],
        f"actions.by_lead_agency.{HEALTH}.slipped": ["new"],
        f"actions.by_lead_agency.{POLICE}.open": ["overdue"],
        f"actions.by_lead_agency.{POLICE}.overdue": ["overdue"],
        f"actions.by_lead_agency.{POLICE}.assured": ["assured"],
    }
    # 2025/26 asked before it began, on Sat 1 Mar 2025: the actions assured and cancelled on
    # Mon 31 Mar 2025 were still open then, due that day; "done" was recorded on Mon 3 Mar.
    _, early = work.read(2025, as_of="2025-03-01")
    assert {name: names for name, names in early.items() if "by_lead" not in name} == {
        "actions.open": ["assured", "assured_before", "cancelled_before"],
    }
    # 2026/27, today Fri 27 Nov 2026: what was still running carries on, all of it now
    # overdue; what was assured or cancelled in 2025/26 is left out.
    later, detail = work.read(2026)
    assert {name: names for name, names in detail.items() if "by_lead" not in name} == {
        "actions.open": ["new", "next_year", "overdue", "running", "slipped"],
        "actions.overdue": ["new", "next_year", "overdue", "running", "slipped"],
        "actions.completed": ["done"],
        "actions.slipped": ["new", "slipped"],
    }
    assert later["actions"]["slipped_days"] == 52


def table(group: str, row: str, prefix: str = "") -> dict[str, list[str]]:
    """The detail a row of `|`-separated cells gives: a cell a figure, in the JSON's order."""
    names = list(ACTIONS_SAY)[:-1] if group == "actions" else list(CONTRIBUTIONS_SAY)
    cells = [cell.split() for cell in row.split("|")]  # slipped_days is no list
    return {f"{group}.{n}": [prefix + x for x in c] for n, c in zip(names, cells, strict=True) if c}


# (year, as_of or "" for today, "open | overdue | completed | assured | cancelled | slipped")
REPLAYS: list[tuple[int, str, str]] = [
    # Mid-year, Tue 30 Sep 2025: "short" is not yet recorded, nothing is late.
    (2025, "2025-09-30", "finished moved       |                |          | |       |"),
    # Sat 1 Nov 2025: "short" (due Fri 31 Oct) is late; cancelled Mon 1 Dec.
    (2025, "2025-11-01", "finished moved short | short          |          | |       |"),
    (2025, "2025-12-01", "finished moved       |                |          | | short |"),
    # The year's end, Tue 31 Mar 2026: both are late. The move of Thu 2 Apr and the completion
    # of Fri 15 May 2026 came after it, so asked later (or today) the year reads the same.
    (2025, "2026-03-31", "finished moved       | finished moved |          | | short |"),
    (2025, "2026-06-30", "finished moved       | finished moved |          | | short |"),
    (2025, "", "finished moved       | finished moved |          | | short |"),
    # 2026/27 ("short" was cancelled before it began). Wed 1 Apr 2026: due Fri 27 Feb still.
    (2026, "2026-04-01", "finished moved       | finished moved |          | |       |"),
    # Thu 2 Apr: moved that day to Thu 30 Apr, so not late; slipped.
    (2026, "2026-04-02", "finished moved       | finished       |          | |       | moved"),
    # Fri 15 May: "finished" completed that day; "moved" late again (due Thu 30 Apr).
    (2026, "2026-05-15", "moved                | moved          | finished | |       | moved"),
]


def test_as_of_replays_each_action_as_it_stood_and_the_year_at_its_end(work: Work) -> None:
    work.act("finished", "2025-06-02", POLICE, "2026-01-30")
    work.act("moved", "2025-06-02", HEALTH, "2026-02-27")
    work.act("short", "2025-10-01", COUNCIL, "2025-10-31")
    work.cancel("short", "2025-12-01")
    work.move("moved", "2026-04-02", "2026-04-30")  # Fri 27 Feb -> Thu 30 Apr: +62 days
    work.complete("finished", "2026-05-15")
    for year, as_of, row in REPLAYS:
        found, detail = work.read(year, **({"as_of": as_of} if as_of else {}))
        totals = {name: ids for name, ids in detail.items() if name.count(".") == 1}
        assert totals == table("actions", row), (year, as_of)
        days = 62 if row.endswith("moved") else 0
        assert found["actions"]["slipped_days"] == days, (year, as_of)
    # By lead agency too, as the year ended: the later move is not slipped for the NHS Trust.
    assert work.read(2025)[0]["actions"]["by_lead_agency"] == {
        COUNCIL: figures(0, 0, 0, 0, 1, 0, 0),
        HEALTH: figures(1, 1, 0, 0, 0, 0, 0),
        POLICE: figures(1, 1, 0, 0, 0, 0, 0),
    }


def test_a_due_date_brought_forward_counts_as_moved_and_its_days_as_negative(work: Work) -> None:
    # Due Fri 30 Jan 2026, brought forward on Tue 1 Jul 2025 to Wed 31 Dec 2025: -30 days.
    # Due Tue 30 Sep 2025, moved on Mon 15 Sep to Thu 30 Oct: +30. The total is net, as
    # `GET /actions` gives `slipped_days` (negative if brought forward).
    work.act("forward", "2025-06-02", POLICE, "2026-01-30")
    work.act("later", "2025-06-02", HEALTH, "2025-09-30")
    work.move("forward", "2025-07-01", "2025-12-31")
    work.move("later", "2025-09-15", "2025-10-30")
    found, detail = work.read(2025)
    assert detail["actions.slipped"] == ["forward", "later"]
    by_agency = found["actions"]["by_lead_agency"]
    days = [found["actions"]["slipped_days"], by_agency[POLICE]["slipped_days"]]
    assert days == [0, -30]


# (year, as_of or "" for today, "requested | on time | late | not coming | outstanding"),
# by reference (CR-...), as the report sorts them
ASKED: list[tuple[int, str, str]] = [
    # Today: CR-0331 came on its due day, after the year's end but before the report's day.
    (2025, "", "0331 AWAITED LATE NONE ONTIME | 0331 ONTIME | LATE | NONE | AWAITED"),
    # Tue 31 Mar 2026, and Wed 8 Apr, the day before it came: outstanding.
    (2025, "2026-03-31", "0331 AWAITED LATE NONE ONTIME | ONTIME | LATE | NONE | 0331 AWAITED"),
    (2025, "2026-04-08", "0331 AWAITED LATE NONE ONTIME | ONTIME | LATE | NONE | 0331 AWAITED"),
    # Mon 30 Mar 2026: CR-0331 not yet asked.
    (2025, "2026-03-30", "AWAITED LATE NONE ONTIME      | ONTIME | LATE | NONE | AWAITED"),
    # Mon 9 Jun 2025, the day before CR-LATE came; Wed 4 Jun, before CR-NONE was known.
    (2025, "2025-06-09", "LATE NONE ONTIME              | ONTIME |      | NONE | LATE"),
    (2025, "2025-06-04", "LATE NONE ONTIME              | ONTIME |      |      | LATE NONE"),
    # Sun 1 Jun 2025: only CR-ONTIME asked yet; Mon 7 Apr, the day before it came.
    (2025, "2025-06-01", "ONTIME                        | ONTIME |      |      |"),
    (2025, "2025-04-07", "ONTIME                        |        |      |      | ONTIME"),
    (2024, "", "PREV | | | | PREV"),
    (2026, "", "NEXT | | | | NEXT"),
]


def test_contributions_asked_in_the_year_by_where_each_stood_on_the_day(work: Work) -> None:
    contributions(work)
    for year, as_of, row in ASKED:
        found, detail = work.read(year, **({"as_of": as_of} if as_of else {}))
        expected = table("contributions", row, "CR-")
        assert detail == expected, (year, as_of)
        numbers = {n: len(expected.get(f"contributions.{n}", [])) for n in CONTRIBUTIONS_SAY}
        assert found["contributions"] == numbers, (year, as_of)
    assert list(work.read(2025)[0]["contributions"].values()) == [5, 2, 1, 1, 1]


def test_suppression_hides_small_counts_and_the_days_beside_a_hidden_slipped(work: Work) -> None:
    plan(work)
    contributions(work)
    found, _ = work.read(2025, suppress_below="3")
    c = "c"
    assert found == {
        "actions": {
            **figures(4, c, c, c, c, c, c),
            "by_lead_agency": {
                HOSPICE: figures(c, c, 0, 0, c, c, c),
                HEALTH: figures(c, 0, c, 0, 0, c, c),
                POLICE: figures(c, c, 0, c, 0, 0, 0),
            },
        },
        "contributions": dict(zip(CONTRIBUTIONS_SAY, [5, c, c, c, c], strict=True)),
    }
    # Below 2, the two slipped actions and their 52 days show in total, not per agency.
    below_two, _ = work.read(2025, suppress_below="2")
    assert (below_two["actions"]["slipped"], below_two["actions"]["slipped_days"]) == (2, 52)
    by_agency = below_two["actions"]["by_lead_agency"]
    assert [g["slipped_days"] for g in by_agency.values()] == [c, c, 0]
    assert below_two["contributions"]["returned_on_time"] == 2
    for shown in (found, below_two):
        for group in [shown["actions"], *shown["actions"]["by_lead_agency"].values()]:
            assert (group["slipped"] == c) == (group["slipped_days"] == c), group
    # 2024/25, at Mon 31 Mar 2025: "done" open (due Wed 31 Dec 2025); "assured" completed
    # (assured the next day); "assured_before" assured, "cancelled_before" cancelled, that
    # day. One contribution, CR-PREV, asked that day and never come.
    hidden, _ = work.read(2024, suppress_below="3")
    assert hidden == {
        "actions": {
            **figures(c, 0, c, c, c, 0, 0),
            "by_lead_agency": {
                HEALTH: figures(c, 0, 0, 0, c, 0, 0),
                POLICE: figures(0, 0, c, c, 0, 0, 0),
            },
        },
        "contributions": dict(zip(CONTRIBUTIONS_SAY, [c, 0, 0, 0, c], strict=True)),
    }


@pytest.mark.parametrize("params", [{}, {"suppress_below": "3"}], ids=["plain", "suppressed"])
def test_the_csv_rows_carry_the_jsons_values_with_each_agency_named(
    work: Work, params: dict[str, str]
) -> None:
    plan(work)
    contributions(work)
    found, _ = work.read(2025, **params)
    response = work.get(2025, accept="text/csv", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    header, *rows = csv.reader(io.StringIO(response.text))
    assert header == ["figure", "count"]
    actions = dict(found["actions"])
    agencies = actions.pop("by_lead_agency")
    expected = [[f"Actions: {ACTIONS_SAY[n]}", str(v)] for n, v in actions.items()]
    for agency, shown in agencies.items():
        says = f"Actions led by {agency}"
        expected += [[f"{says}: {ACTIONS_SAY[n]}", str(v)] for n, v in shown.items()]
    shown = found["contributions"]
    expected += [[f"Contributions: {CONTRIBUTIONS_SAY[n]}", str(v)] for n, v in shown.items()]
    assert len(expected) == 7 + 3 * 7 + 5
    assert rows[-len(expected) :] == expected
    assert not [
        row for row in rows[: -len(expected)] if row[0].startswith(("Actions", "Contributions"))
    ]
    slipped = "with their due date moved from the first one set"
    assert [f"Actions led by St. Aldhelm's Hospice: {slipped}", "c" if params else "1"] in rows
    assert ["Actions: days their due dates moved, in total", "c" if params else "52"] in rows


def test_another_partnerships_key_finds_nothing_and_no_free_text_is_shown(
    work: Work, make_key: Callable[..., str]
) -> None:
    plan(work)
    contributions(work)
    away = {"Authorization": f"Bearer {make_key(role='viewer', partnerships=['kingsmere'])}"}
    own = {"Authorization": f"Bearer {make_key(role='viewer', partnerships=['wessex'])}"}
    work.api.keys.update(away_viewer=away, own_viewer=own)
    problem = assert_problem(work.get(2025, "away_viewer"), 404)
    assert not [i for i in work.actions.values() if i["id"] in str(problem)]
    theirs = work.get(2025, "away_viewer", partnership="kingsmere").json()  # its own: empty
    assert theirs["actions"] == {**figures(0, 0, 0, 0, 0, 0, 0), "by_lead_agency": {}}
    assert set(theirs["contributions"].values()) == {0}
    mine = work.get(2025, "own_viewer", detail="true")
    assert mine.status_code == 200, mine.text
    assert mine.json()["actions"] == work.read(2025)[0]["actions"]

    ids = {action["id"] for action in work.actions.values()}
    texts = []
    for year in (2025, 2026):
        body = work.get(year, detail="true")
        counted = [i for name, i in body.json()["detail"].items() if name.startswith("actions.")]
        assert {i for listed in counted for i in listed} <= ids  # ids, nothing else
        texts += [body.text, work.get(year, accept="text/csv").text]
    for text in texts:
        assert [canary for canary in CANARIES if canary in text] == []
