"""The running deadlines the alerts watch, wherever they come from: a case's clocks (its
stored deadline rows), actions and contributions. Read as columns through Core, each
source through its partial index (`ix_case_deadline_running`, `ix_action_running`,
`ix_contribution_outstanding`): detection reads them every round."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_
from sqlalchemy import select as columns
from sqlmodel import Session, col

from review_engine.actions.models import Action, running_action
from review_engine.alerts.models import ACTION_CLOCK, CONTRIBUTION_CLOCK, AlertProgress
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.contributions.models import Contribution, outstanding_contribution

__all__ = ["RunningDeadline", "on_the_ladder", "running_deadlines"]


@dataclass(frozen=True)
class RunningDeadline:
    """A deadline still running, wherever it comes from."""

    subject_type: str
    subject_id: uuid.UUID
    clock: str
    due_on: date
    partnership_id: uuid.UUID
    case_id: uuid.UUID | None


Column = Any  # a mapped column, or a literal (an action's clock name)


@dataclass(frozen=True)
class _Source:
    """One kind of deadline: its subject type, the columns that name one (subject id,
    clock, due date), and which of its rows are running and due by a horizon."""

    subject_type: str
    subject_id: Column
    clock: Column
    due_on: Column
    partnership_id: Column
    case_id: Column
    running: tuple[ColumnElement[bool], ...]


def _sources(horizon: date, as_of: date) -> list[_Source]:
    return [
        _Source(
            "case",
            col(CaseDeadline.case_id),
            col(CaseDeadline.name),
            col(CaseDeadline.due_on),
            # Looked up for the rows read only, not for every deadline the filters pass over.
            columns(col(Case.partnership_id))
            .where(col(Case.id) == col(CaseDeadline.case_id))
            .scalar_subquery(),
            col(CaseDeadline.case_id),
            (running_deadline(), col(CaseDeadline.due_on) <= horizon),
        ),
        _Source(
            "action",
            col(Action.id),
            literal(ACTION_CLOCK),
            col(Action.due_on),
            col(Action.partnership_id),
            col(Action.case_id),
            (running_action(), col(Action.due_on) <= horizon),
        ),
        _Source(
            "contribution",
            col(Contribution.id),
            literal(CONTRIBUTION_CLOCK),
            col(Contribution.due_on),
            col(Contribution.partnership_id),
            col(Contribution.case_id),
            (
                outstanding_contribution(),
                col(Contribution.due_on) <= horizon,
                col(Contribution.requested_on) <= as_of,
            ),
        ),
    ]


def _unchecked(query: Select[Any], source: _Source, ladder: str, as_of: date) -> Select[Any]:
    """Only the deadlines whose progress row (on this `ladder`) does not say their next
    rung starts after `as_of`."""
    progress = AlertProgress
    return query.outerjoin(
        progress,
        and_(
            col(progress.subject_type) == source.subject_type,
            col(progress.subject_id) == source.subject_id,
            col(progress.clock) == source.clock,
            col(progress.due_on) == source.due_on,
            col(progress.ladder) == ladder,
        ),
    ).where(or_(col(progress.subject_type).is_(None), col(progress.next_on) <= as_of))


def running_deadlines(
    *, session: Session, horizon: date, as_of: date, unchecked_on: str | None = None
) -> Iterator[RunningDeadline]:
    """Every running deadline due by `horizon`: a case's clocks, actions, contributions.
    With `unchecked_on` (a ladder's fingerprint), only those with something new by `as_of`
    for all their progress rows on that ladder say."""
    for source in _sources(horizon, as_of):
        query = columns(
            source.subject_id, source.clock, source.due_on, source.partnership_id, source.case_id
        ).where(*source.running)
        if unchecked_on is not None:
            query = _unchecked(query, source, unchecked_on, as_of)
        for subject_id, clock, due_on, partnership_id, case_id in session.connection().execute(
            query
        ):
            yield RunningDeadline(
                source.subject_type, subject_id, clock, due_on, partnership_id, case_id
            )


def on_the_ladder(*, session: Session, horizon: date, as_of: date) -> int:
    """How many deadlines are running and due by `horizon` (their ladder has begun): a count
    in each source's index, no row read."""
    return sum(
        session.connection().execute(columns(func.count()).where(*source.running)).scalar_one()
        for source in _sources(horizon, as_of)
    )
