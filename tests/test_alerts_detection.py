"""Alert detection (issue 9, first step): each running deadline climbs the ladder and each
rung is recorded once, through runs on simulated days, gaps, moved due dates, two runners
at once, and the deadlines that raise nothing. On SQLite and PostgreSQL; dates are worked by
hand (2026: Mon 31 Aug is the Summer bank holiday)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from review_engine.actions.models import Action
from review_engine.alerts import detection
from review_engine.alerts.detection import PROGRESS_KEPT, UNIQUE_RUNG, Detected, detect
from review_engine.alerts.inserts import insert_new
from review_engine.alerts.ladder import Ladder
from review_engine.alerts.models import ACTION_CLOCK, Alert, AlertProgress, AlertRun
from review_engine.calendar import Calendar
from review_engine.cli import app as cli
from review_engine.db import utcnow
from tests.cases_helpers import create, fire

Headers = dict[str, str]
Rungs = list[tuple[str, int, str, str]]  # (rung, sequence, due_on, state)
CALENDAR = Calendar()


LADDER = Ladder()  # due_soon 2 working days before; reminders every 5


def run(session: Session, day: str) -> Detected | None:
    found = detect(
        session=session,
        calendar=CALENDAR,
        ladder=LADDER,
        as_of=date.fromisoformat(day),
        started_at=utcnow(),
    )
    session.rollback()  # end the read transaction, so other writers are not held up
    return found


def tally(found: Detected | None) -> tuple[int, int]:
    """A run's rungs raised and skipped (it must have run)."""
    assert found is not None
    return found.raised, found.skipped


def rungs(session: Session, subject_id: str) -> Rungs:
    alerts = session.exec(
        select(Alert)
        .where(col(Alert.subject_id) == _uuid(subject_id))
        .order_by(col(Alert.starts_on), col(Alert.sequence))
    ).all()
    session.rollback()
    return [(a.rung, a.sequence, a.due_on.isoformat(), a.state) for a in alerts]


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


@pytest.fixture
def plan(client: TestClient, wessex_admin: Headers) -> Callable[..., dict[str, Any]]:
    """Makes an action on a partnership recommendation (lead agency: Wessex Police)."""
    assert (
        client.post(
            "/partnerships/wessex/agencies", json={"name": "Wessex Police"}, headers=wessex_admin
        ).status_code
        == 201
    )
    recommendation = client.post(
        "/partnerships/wessex/recommendations",
        json={"text": "Share information", "source": "panel_report"},
        headers=wessex_admin,
    ).json()

    def make(due_on: str) -> dict[str, Any]:
        response = client.post(
            f"/recommendations/{recommendation['id']}/actions",
            json={"description": "Audit", "lead_agency": "Wessex Police", "due_on": due_on},
            headers=wessex_admin,
        )
        assert response.status_code == 201, response.text
        return {**response.json(), "_etag": response.headers["ETag"]}

    return make


def test_the_ladder_over_a_run_of_days_records_each_rung_once(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Due Fri 28 Aug 2026. due_soon two working days before: Thu 27 (1), Wed 26 Aug (2).
    due_today Fri 28. overdue on the first working day after: Sat, Sun, Mon 31 (bank
    holiday) are not, so Tue 1 Sep. Reminder 1 five working days on: Wed 2, Thu 3, Fri 4,
    Mon 7, Tue 8 Sep. Every day from Tue 25 Aug to Fri 11 Sep is run twice."""
    action = plan("2026-08-28")
    raised_on: list[tuple[str, int]] = []
    day = date(2026, 8, 25)
    while day <= date(2026, 9, 11):
        for _ in range(2):
            found = run(session, day.isoformat())
            assert found is not None
            raised_on.append((day.isoformat(), found.raised))
        day += timedelta(days=1)
    assert rungs(session, action["id"]) == [
        ("due_soon", 0, "2026-08-28", "raised"),
        ("due_today", 0, "2026-08-28", "raised"),
        ("overdue", 0, "2026-08-28", "raised"),
        ("overdue_reminder", 1, "2026-08-28", "raised"),
    ]
    # Raised on exactly the days the rungs start, by the first run of the day only.
    assert [(on, raised) for on, raised in raised_on if raised] == [
        ("2026-08-26", 1),
        ("2026-08-28", 1),
        ("2026-09-01", 1),
        ("2026-09-08", 1),
    ]
    alerts = session.exec(select(Alert).order_by(col(Alert.starts_on))).all()
    session.rollback()
    assert [alert.starts_on.isoformat() for alert in alerts] == [
        "2026-08-26",
        "2026-08-28",
        "2026-09-01",
        "2026-09-08",
    ]


def test_after_a_gap_only_the_furthest_rung_is_raised_and_the_rest_skipped(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Nobody ran detection until Wed 9 Sep: reminder 1 (from Tue 8 Sep) is raised; the
    rungs before it are recorded as skipped, never sent late."""
    action = plan("2026-08-28")
    found = run(session, "2026-09-09")
    assert found is not None
    assert (found.raised, found.skipped) == (1, 3)
    assert rungs(session, action["id"]) == [
        ("due_soon", 0, "2026-08-28", "skipped"),
        ("due_today", 0, "2026-08-28", "skipped"),
        ("overdue", 0, "2026-08-28", "skipped"),
        ("overdue_reminder", 1, "2026-08-28", "raised"),
    ]
    again = run(session, "2026-09-09")
    assert again is not None
    assert (again.raised, again.skipped) == (0, 0)


def test_a_rung_missing_among_recorded_reminders_is_recorded_as_skipped(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Due Fri 28 Aug 2026, overdue from Tue 1 Sep; reminders start Tue 8, Tue 15,
    Tue 22 Sep. Run on Wed 23 Sep: reminder 3 raised. With reminder 2's row gone (a gap
    detection's summary cannot read as "1 to 3") and the deadline's progress row too (so
    the next run checks it: a row not checked for a month is deleted), the next run records
    it again, skipped, and raises nothing; a run on Tue 29 Sep (reminder 4) raises only
    that."""
    action = plan("2026-08-28")
    assert tally(run(session, "2026-09-23")) == (1, 5)
    gone = session.exec(
        select(Alert).where(col(Alert.subject_id) == _uuid(action["id"]), col(Alert.sequence) == 2)
    ).one()
    session.delete(gone)
    session.delete(session.exec(select(AlertProgress)).one())
    session.commit()
    assert tally(run(session, "2026-09-23")) == (0, 1)
    assert tally(run(session, "2026-09-29")) == (1, 0)
    assert [(rung, sequence, state) for rung, sequence, _, state in rungs(session, action["id"])][
        3:
    ] == [
        ("overdue_reminder", 1, "skipped"),
        ("overdue_reminder", 2, "skipped"),
        ("overdue_reminder", 3, "raised"),
        ("overdue_reminder", 4, "raised"),
    ]


def test_a_run_checks_only_deadlines_with_a_rung_starting(
    session: Session, plan: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Due Fri 28 Aug 2026; reminders from Tue 8 Sep, weekly (Tue 15, 22, 29 Sep). Wed 23
    Sep's run records six rungs and notes the next starts Tue 29 Sep: runs on Wed 23 again
    and Mon 28 Sep check no deadline (still counted on the ladder); Tue 29 checks it and
    raises reminder 4."""
    checked: list[int] = []
    recorded = detection._recorded

    def counting(session: Session, deadlines: list[Any]) -> Any:
        checked.append(len(deadlines))
        return recorded(session, deadlines)

    monkeypatch.setattr(detection, "_recorded", counting)
    plan("2026-08-28")
    assert tally(run(session, "2026-09-23")) == (1, 5)
    progress = session.exec(select(AlertProgress)).one()
    assert (progress.next_on, progress.checked_on) == (date(2026, 9, 29), date(2026, 9, 23))
    session.rollback()
    for day in ("2026-09-23", "2026-09-28"):
        found = run(session, day)
        assert found is not None
        assert (found.deadlines, found.raised, found.skipped) == (1, 0, 0)
    assert tally(run(session, "2026-09-29")) == (1, 0)
    assert checked == [1, 0, 0, 1]


def test_another_ladder_checks_every_deadline_again(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Due Fri 28 Aug 2026, overdue from Tue 1 Sep. Every 5 working days, Wed 23 Sep has
    reminders 1 to 3; every 3 (Fri 4, Wed 9, Mon 14, Thu 17, Tue 22 Sep), 1 to 5. A run
    on the second ladder the same day checks the deadline again: reminder 4 skipped, 5
    raised."""
    plan("2026-08-28")
    assert tally(run(session, "2026-09-23")) == (1, 5)
    faster = Ladder(reminder_every_working_days=3)
    found = detect(session=session, calendar=CALENDAR, ladder=faster,
                   as_of=date(2026, 9, 23), started_at=utcnow())  # fmt: skip
    assert tally(found) == (1, 1)


def test_a_run_writing_many_progress_rows_leaves_statistics_for_the_next(
    session: Session, plan: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a run that writes many progress rows (here, one is many) analyzes the
    table, so the next run is not planned on an empty table's statistics."""
    monkeypatch.setattr(detection, "_MANY", 1)
    plan("2026-08-28")
    assert tally(run(session, "2026-09-23")) == (1, 5)
    if session.get_bind().dialect.name == "postgresql":
        reltuples = text("SELECT reltuples FROM pg_class WHERE relname = 'alert_progress'")
        assert session.execute(reltuples).scalar_one() == 1


def test_progress_not_checked_for_a_month_is_deleted(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """A progress row is a shortcut: one left by a deadline that stopped running goes
    after `PROGRESS_KEPT`, and a missing row only means the deadline is checked."""
    plan("2026-08-28")
    long_ago = date(2026, 9, 23) - PROGRESS_KEPT - timedelta(days=1)
    stale = AlertProgress(subject_type="action", subject_id=uuid.uuid4(), clock=ACTION_CLOCK,
                          due_on=date(2026, 7, 1), next_on=date(2026, 7, 8), ladder="old",
                          checked_on=long_ago)  # fmt: skip
    session.add(stale)
    session.commit()
    assert tally(run(session, "2026-09-23")) == (1, 5)
    kept = session.exec(select(AlertProgress.due_on)).all()
    session.rollback()
    assert kept == [date(2026, 8, 28)]


def test_a_deadline_overdue_for_a_year_raises_each_reminder_once(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Due Fri 28 Aug 2026, overdue from Tue 1 Sep. Tue 31 Aug 2027 is 252 working days
    after that: the 260 weekdays of 52 weeks less 8 bank holidays (Fri 25 and Mon 28 Dec
    2026; Fri 1 Jan, Fri 26 and Mon 29 Mar, Mon 3 and Mon 31 May, Mon 30 Aug 2027). So
    252 // 5 = 50 reminders have started; the 50th on the 250th working day, Thu 26 Aug
    2027 (Fri 27 is the 251st). The run raises it and skips the 52 rungs before it
    (due_soon, due_today, overdue, reminders 1 to 49); the next day's records nothing."""
    action = plan("2026-08-28")
    assert tally(run(session, "2027-08-31")) == (1, 52)
    assert tally(run(session, "2027-09-01")) == (0, 0)
    recorded = rungs(session, action["id"])
    assert recorded[-1] == ("overdue_reminder", 50, "2026-08-28", "raised")
    assert len(recorded) == 53
    last = session.exec(select(Alert).where(col(Alert.sequence) == 50)).one()
    session.rollback()
    assert last.starts_on == date(2027, 8, 26)


def test_a_moved_due_date_gets_a_ladder_of_its_own(
    client: TestClient,
    wessex_admin: Headers,
    session: Session,
    plan: Callable[..., dict[str, Any]],
) -> None:
    """Overdue on Tue 1 Sep for 28 Aug; moved to Fri 11 Sep, whose due_soon starts Wed 9
    Sep (Thu 10 is 1, Wed 9 is 2 working days before). The old date raises no more."""
    action = plan("2026-08-28")
    run(session, "2026-09-01")
    moved = client.patch(
        f"/actions/{action['id']}",
        json={"due_on": "2026-09-11", "due_on_change_reason": "Agency restructure"},
        headers={**wessex_admin, "If-Match": action["_etag"]},
    )
    assert moved.status_code == 200, moved.text
    run(session, "2026-09-09")
    assert rungs(session, action["id"]) == [
        ("due_soon", 0, "2026-08-28", "skipped"),
        ("due_today", 0, "2026-08-28", "skipped"),
        ("overdue", 0, "2026-08-28", "raised"),
        ("due_soon", 0, "2026-09-11", "raised"),
    ]


def test_finished_stopped_and_waived_deadlines_raise_nothing(
    client: TestClient,
    wessex_admin: Headers,
    session: Session,
    plan: Callable[..., dict[str, Any]],
) -> None:
    """As of Mon 7 Dec 2026 everything below is long overdue, yet only the running ones
    raise: the open action, the outstanding contribution, the live case's clocks."""
    running = plan("2026-08-28")
    for body in (
        {"status": "cancelled", "cancellation_reason": "superseded"},
        {"status": "completed", "evidence_of_completion": "done"},
    ):
        action = plan("2026-08-28")
        response = client.patch(
            f"/actions/{action['id']}",
            json=body,
            headers={**wessex_admin, "If-Match": action["_etag"]},
        )
        assert response.status_code == 200, response.text
        done = action["id"]
    live = create(client, wessex_admin, reference="LIVE-1")
    withdrawn = create(client, wessex_admin, reference="GONE-1")
    withdrawn = fire(client, wessex_admin, withdrawn, "notify_panel", {"notified_on": "2026-06-03"})
    fire(
        client,
        wessex_admin,
        withdrawn,
        "withdraw",
        {"withdrawn_on": "2026-06-05", "reason": "not a serious incident"},
    )
    waived = create(client, wessex_admin, reference="WAIVED-1")
    response = client.post(
        f"/cases/{waived['id']}/waivers",
        json={"clock": "notification", "reason": "Panel agreed a late notification"},
        headers={**wessex_admin, "If-Match": waived["_etag"]},
    )
    assert response.status_code == 200, response.text
    outstanding, received, not_coming = (
        client.post(
            f"/cases/{live['id']}/contributions",
            json={"agency": "Wessex Police", "requested_on": "2026-06-01", "stage": stage},
            headers=wessex_admin,
        ).json()
        for stage in ("rapid_review", "lcspr", "learning_review")
    )
    for contribution, body in (
        (received, {"received_on": "2026-06-05"}),
        (not_coming, {"not_coming_reason": "no involvement"}),
    ):
        response = client.patch(
            f"/contributions/{contribution['id']}",
            json=body,
            headers={**wessex_admin, "If-Match": "*"},
        )
        assert response.status_code == 200, response.text

    run(session, "2026-12-07")
    alerts = session.exec(select(Alert).where(col(Alert.state) == "raised")).all()
    session.rollback()
    raised = Counter((str(a.subject_id), a.clock) for a in alerts)
    assert (running["id"], "action_due") in raised
    assert (outstanding["id"], "contribution_due") in raised
    # A live case notified nobody: its notification clock (due Mon 8 Jun) raises.
    assert (live["id"], "notification") in raised
    assert (waived["id"], "notification") not in raised
    subjects = {subject for subject, _ in raised}
    for quiet in (done, received["id"], not_coming["id"], withdrawn["id"]):
        assert quiet not in subjects
    assert max(raised.values()) == 1  # one raised rung per deadline: the furthest


def test_two_runners_at_once_record_each_rung_once(
    database_url: str, session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """Six runners start together, each with its own connection: every rung is one row."""
    actions = [plan(f"2026-09-{day:02d}") for day in (1, 2, 3, 4)]
    engine: Engine = create_engine(database_url)
    barrier = threading.Barrier(6)
    results: list[Detected | None] = []

    def runner() -> None:
        with Session(engine) as own:
            barrier.wait()
            results.append(run(own, "2026-09-30"))

    threads = [threading.Thread(target=runner) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    ran = [found for found in results if found is not None]
    assert len(results) == 6
    assert ran
    assert sum(found.raised for found in ran) == len(actions)  # one raised rung each
    counts = Counter(
        (a.subject_id, a.rung, a.sequence, a.due_on) for a in session.exec(select(Alert)).all()
    )
    session.rollback()
    assert counts
    assert max(counts.values()) == 1


def test_alerts_run_and_status_on_the_command_line(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    session: Session,
    plan: Callable[..., dict[str, Any]],
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    runner = CliRunner()
    before = runner.invoke(cli, ["alerts", "status"])
    assert before.exit_code == 1
    assert "no detection run yet" in before.stderr
    plan("2026-08-28")
    result = runner.invoke(cli, ["alerts", "run", "--once", "--as-of", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "alerts as of 2026-09-01: 1 deadline(s) on the ladder, 1 alert(s) raised, "
        "2 rung(s) skipped, 0 delivery(ies) queued\n"
        "deliveries: 0 delivered, 0 to retry, 0 failed, 0 cancelled (no longer due)\n"
    )
    status = runner.invoke(cli, ["alerts", "status"])
    assert status.exit_code == 0, status.output
    assert "as of 2026-09-01: 1 deadline(s) on the ladder, 1 raised, 2 skipped" in status.stdout
    assert "deliveries: 0 waiting, 0 failed" in status.stdout
    # The on-call engineer's view without a key: /readyz carries the same, counts only.
    alerts = client.get("/readyz").json()["alerts"]
    assert alerts["last_run_as_of"] == "2026-09-01"
    assert (alerts["pending_deliveries"], alerts["failed_deliveries"]) == (0, 0)
    # The runner stops; an hour later (two intervals are 30 minutes) it is reported stale.
    _age_every_run(session, hours=1)
    stale = runner.invoke(cli, ["alerts", "status"])
    assert stale.exit_code == 1
    assert "stale: no run in the last 30 minutes" in stale.stderr


def _age_every_run(session: Session, *, hours: int) -> None:
    for alert_run in session.exec(select(AlertRun)).all():
        alert_run.finished_at = alert_run.finished_at - timedelta(hours=hours)
        session.add(alert_run)
    session.commit()


def test_a_backlog_of_thousands_of_rungs_is_recorded_in_one_run(
    session: Session, plan: Callable[..., dict[str, Any]]
) -> None:
    """A first run over a backlog records thousands of rungs at once: 6,000 rows of 13
    columns are 78,000 bound values, past PostgreSQL's 65,535 a statement. They are all
    inserted, and a second insert of the same rungs inserts none (the constraint decides)."""
    action = plan("2026-08-28")
    owner = session.exec(select(Action.partnership_id)).one()
    rows = [
        {
            "id": uuid.uuid4(),
            "subject_type": "action",
            "subject_id": _uuid(action["id"]),
            "clock": ACTION_CLOCK,
            "rung": "overdue_reminder",
            "sequence": sequence,
            "due_on": date(2026, 8, 28),
            "starts_on": date(2026, 9, 1),
            "state": "skipped",
            "partnership_id": owner,
            "case_id": None,
            "detected_on": date(2026, 9, 1),
            "created_at": utcnow(),
        }
        for sequence in range(1, 6001)
    ]
    assert len(insert_new(session, Alert, rows, UNIQUE_RUNG)) == 6000
    session.commit()
    again = [{**row, "id": uuid.uuid4()} for row in rows]
    assert insert_new(session, Alert, again, UNIQUE_RUNG) == []
    session.rollback()
    assert len(session.exec(select(Alert.id)).all()) == 6000
