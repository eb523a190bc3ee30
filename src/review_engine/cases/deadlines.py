"""Stored deadlines: the clocks' results kept in `case_deadline` rows for indexed queries.

The pure `review_engine.clocks` module computes deadlines; this module evaluates them for a
stored case, rewrites a case's rows whenever something that can move them changes, and
builds the SQL conditions behind `GET /cases?overdue=true` and `?due_before=`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select as columns
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.cases.schemas import DeadlineRead
from review_engine.clocks import ClockContext, Deadline, compute_deadlines
from review_engine.db import utcnow
from review_engine.timeline import CaseTimeline


def timeline_of(case: Case) -> CaseTimeline:
    return CaseTimeline.model_validate(case.timeline)


def evaluate(timeline: CaseTimeline, *, context: ClockContext, as_of: date) -> list[Deadline]:
    """The case's deadlines as of `as_of`, on the deployment's calendar."""
    return compute_deadlines(
        timeline,
        as_of=as_of,
        calendar=context.calendar,
        due_soon_working_days=context.due_soon_working_days,
    )


def _columns(deadline: Deadline) -> dict[str, Any]:
    """What a deadline's row holds (beyond its case, name and when it was computed)."""
    return {
        "kind": deadline.kind,
        "due_on": deadline.due_on,
        "statutory_due_on": deadline.statutory_due_on,
        "met_on": deadline.met_on,
        "stopped_on": deadline.stopped_on,
        "waived": deadline.status == "waived",
        "paused": deadline.status == "paused",
        "start_event": deadline.basis.start_event,
        "start_on": deadline.basis.start_on,
        "calendar_version": deadline.basis.calendar_version,
    }


def store(*, session: Session, case: Case, deadlines: list[Deadline]) -> None:
    """Bring the case's deadline rows in line with `deadlines` (within the caller's
    transaction), writing only what changed: most changes move one clock or two, and a
    row rewritten for nothing costs the write and its index entries."""
    stored = {
        row.name: row
        for row in session.exec(select(CaseDeadline).where(col(CaseDeadline.case_id) == case.id))
    }
    now = utcnow()
    for deadline in deadlines:
        columns = _columns(deadline)
        row = stored.pop(deadline.name, None)
        if row is None:
            session.add(
                CaseDeadline(case_id=case.id, name=deadline.name, computed_at=now, **columns)
            )
        elif any(getattr(row, name) != value for name, value in columns.items()):
            for name, value in columns.items():
                setattr(row, name, value)
            row.computed_at = now
    for gone in stored.values():  # a clock the case no longer has
        session.delete(gone)


def _running_due_before(day: date, name: str) -> Select[tuple[uuid.UUID]]:
    """The cases with a stored deadline still running and due before `day`: an index search
    on `ix_case_deadline_running`, so its cost is the deadlines running, not every case.
    Exact for an `as_of` on or after the day the rows were computed: nothing recorded can
    be dated after today, so a clock met or stopped by `as_of` is already so in its row.

    A MATERIALIZED CTE on PostgreSQL: its planner cannot tell how few rows the partial
    index holds (it guessed 74,717 of 1,210 at 100,000 cases), so for a page in list order
    it walked every case in that order probing for a match (486 ms) instead of taking the
    candidates first and sorting them (23 ms)."""
    running = (
        columns(col(CaseDeadline.case_id).label("case_id"))
        .where(running_deadline(), col(CaseDeadline.due_on) < day)
        .cte(name)  # one per filter: a list may take both
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return columns(running.c.case_id)


def overdue_condition(as_of: date) -> ColumnElement[bool]:
    """Cases with at least one deadline overdue as of `as_of`, today or later."""
    return col(Case.id).in_(_running_due_before(as_of, "running_overdue"))


def due_before_condition(day: date) -> ColumnElement[bool]:
    """Cases with at least one deadline still running (as of today or later) and due
    before `day`."""
    return col(Case.id).in_(_running_due_before(day, "running_due_before"))


# A deadline still running, as the stored rows' `_open_deadline` condition selects them.
RUNNING_STATUSES = frozenset({"pending", "due_soon", "overdue"})


def has_overdue(deadlines: list[Deadline]) -> bool:
    """What `overdue_condition` selects, decided from computed deadlines."""
    return any(deadline.status == "overdue" for deadline in deadlines)


def has_running_due_before(deadlines: list[Deadline], day: date) -> bool:
    """What `due_before_condition` selects, decided from computed deadlines."""
    return any(
        deadline.kind == "deadline"
        and deadline.status in RUNNING_STATUSES
        and deadline.due_on < day
        for deadline in deadlines
    )


def deadline_read(deadline: Deadline) -> DeadlineRead:
    # Read from the dataclasses' attributes by pydantic itself: `asdict`'s deep copy cost
    # half of a case list's time.
    return DeadlineRead.model_validate(deadline, from_attributes=True)
