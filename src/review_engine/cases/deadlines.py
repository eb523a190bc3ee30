"""Stored deadlines: the clocks' results kept in `case_deadline` rows for indexed queries.

The pure `review_engine.clocks` module computes deadlines; this module evaluates them for a
stored case, rewrites a case's rows whenever something that can move them changes, and
builds the SQL conditions behind `GET /cases?overdue=true` and `?due_before=`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy import and_, delete, exists, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from review_engine.cases.models import Case, CaseDeadline
from review_engine.cases.schemas import DeadlineBasisRead, DeadlineRead
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


def store(*, session: Session, case: Case, deadlines: list[Deadline]) -> None:
    """Replace the case's deadline rows (within the caller's transaction)."""
    session.execute(delete(CaseDeadline).where(col(CaseDeadline.case_id) == case.id))
    now = utcnow()
    for deadline in deadlines:
        session.add(
            CaseDeadline(
                case_id=case.id,
                name=deadline.name,
                kind=deadline.kind,
                due_on=deadline.due_on,
                statutory_due_on=deadline.statutory_due_on,
                met_on=deadline.met_on,
                stopped_on=deadline.stopped_on,
                waived=deadline.status == "waived",
                paused=deadline.status == "paused",
                start_event=deadline.basis.start_event,
                start_on=deadline.basis.start_on,
                calendar_version=deadline.basis.calendar_version,
                computed_at=now,
            )
        )


def _open_deadline(as_of: date) -> ColumnElement[bool]:
    """A stored deadline that, as of `as_of`, is still running (not met, stopped, waived or
    paused). Exact only for an `as_of` on or after the day the rows were computed: nothing
    recorded can be dated later than that, so the rows still hold then."""
    return and_(
        col(CaseDeadline.case_id) == col(Case.id),
        col(CaseDeadline.kind) == "deadline",
        or_(col(CaseDeadline.met_on).is_(None), col(CaseDeadline.met_on) > as_of),
        or_(col(CaseDeadline.stopped_on).is_(None), col(CaseDeadline.stopped_on) > as_of),
        not_(col(CaseDeadline.waived)),
        not_(col(CaseDeadline.paused)),
    )


def overdue_condition(as_of: date) -> ColumnElement[bool]:
    """Cases with at least one deadline overdue as of `as_of` (see `_open_deadline`)."""
    return exists(
        select(col(CaseDeadline.id)).where(_open_deadline(as_of), col(CaseDeadline.due_on) < as_of)
    )


def due_before_condition(day: date, as_of: date) -> ColumnElement[bool]:
    """Cases with at least one deadline still running as of `as_of` and due before `day`
    (see `_open_deadline`)."""
    return exists(
        select(col(CaseDeadline.id)).where(_open_deadline(as_of), col(CaseDeadline.due_on) < day)
    )


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
    return DeadlineRead(
        name=deadline.name,
        kind=deadline.kind,
        due_on=deadline.due_on,
        statutory_due_on=deadline.statutory_due_on,
        status=deadline.status,
        met_on=deadline.met_on,
        stopped_on=deadline.stopped_on,
        delay_notified_on=deadline.delay_notified_on,
        basis=DeadlineBasisRead(**asdict(deadline.basis)),
    )
