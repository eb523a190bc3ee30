"""The stored deadline rows (`case_deadline`, what the overdue list and alert detection read)
follow every change, and a change writes only the rows it moves: a clock untouched keeps its
row as it was, id and `computed_at` included. Through the HTTP API on both databases.

Dates by hand: aware Mon 1 Jun 2026, so the notification is due Mon 8 Jun (2, 3, 4, 5, 8
Jun); notified Wed 3 Jun, the rapid review is due 15 working days later, Wed 24 Jun.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from review_engine.cases.models import CaseDeadline
from tests.cases_helpers import create, fire

Headers = dict[str, str]
Row = tuple[int, str, date, date | None, bool, datetime]


def rows(session: Session, case: dict[str, Any]) -> dict[str, Row]:
    """Each clock's row: id, kind, due, met, paused, when computed."""
    session.rollback()  # a fresh snapshot: the app has committed since
    found = session.exec(
        select(CaseDeadline).where(col(CaseDeadline.case_id) == uuid.UUID(case["id"]))
    ).all()
    return {
        row.name: (row.id or 0, row.kind, row.due_on, row.met_on, row.paused, row.computed_at)
        for row in found
    }


def test_an_event_rewrites_only_the_rows_it_moves(
    client: TestClient, wessex_admin: Headers, session: Session
) -> None:
    case = create(client, wessex_admin, aware_on="2026-06-01")
    before = rows(session, case)
    assert before["notification"][2:4] == (date(2026, 6, 8), None)
    assert "rapid_review" not in before  # not started until the Panel is notified

    case = fire(client, wessex_admin, case, "notify_panel", {"notified_on": "2026-06-03"})
    after = rows(session, case)
    # The notification clock is met: the same row, updated.
    assert after["notification"][0] == before["notification"][0]
    assert after["notification"][3] == date(2026, 6, 3)
    assert after["notification"][5] > before["notification"][5]
    # The rapid review clock starts: a new row.
    assert after["rapid_review"][2:4] == (date(2026, 6, 24), None)
    # Every other clock is as it was, to the microsecond.
    untouched = set(before) - {"notification"}
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}

    # Informing the partners meets one clock: only its row changes.
    case = fire(
        client, wessex_admin, case, "inform_partners", {"partners_informed_on": "2026-06-02"}
    )
    informed = rows(session, case)
    assert informed["partners_informed"][3] == date(2026, 6, 2)
    assert {n: r for n, r in informed.items() if n != "partners_informed"} == {
        n: r for n, r in after.items() if n != "partners_informed"
    }
    # A change that moves no clock (the case's themes) writes no deadline row at all.
    headers = {**wessex_admin, "If-Match": case["_etag"]}
    patched = client.patch(f"/cases/{case['id']}", json={"themes": ["neglect"]}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert rows(session, case) == informed

    # And the rows always say what reading the case says.
    read = client.get(f"/cases/{case['id']}", headers=wessex_admin).json()
    stored = rows(session, case)
    assert {d["name"]: d["due_on"] for d in read["deadlines"]} == {
        name: row[2].isoformat() for name, row in stored.items()
    }
