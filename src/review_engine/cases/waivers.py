"""Timescale waivers: a manager records that a statutory timeframe does not apply to a case
(as the national relaxation of 2020 did for rapid reviews, advance notice and the 6-month
publication target), with the reason; or withdraws such a waiver.

A waived clock reports `waived` instead of pending, due soon or overdue, keeps its due dates
and meeting date, and drops out of `GET /cases?overdue=true`. Each change commits with the
case's new version, its recomputed deadline rows and a history entry.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.responses import Response

from review_engine.cases.changes import CaseView, ChangeRequest, open_for_change, save_change
from review_engine.clocks import ClockContext, WaivableClock
from review_engine.dates import CalendarDate
from review_engine.errors import FieldError, UnprocessableContent
from review_engine.text import Reason
from review_engine.timeline import Waiver


class TimescaleWaiver(BaseModel):
    """A statutory timeframe that does not apply to this case, and why."""

    model_config = ConfigDict(extra="forbid")

    clock: WaivableClock = Field(description="The clock to waive.")
    reason: Reason = Field(description="Why, e.g. the national relaxation in force at the time.")
    waived_on: CalendarDate | None = Field(
        None,
        description=(
            'Date the timescale was waived (default today). Deadlines read "as of" an '
            "earlier day do not see the waiver."
        ),
    )


def _save(
    *,
    session: Session,
    change: ChangeRequest,
    view: CaseView,
    waivers: dict[str, Waiver],
    action: str,
    details: dict[str, Any],
) -> Response:
    timeline = view.timeline.model_copy(update={"waivers": waivers})
    view.case.timeline = timeline.model_dump(mode="json")
    return save_change(
        session=session,
        change=change,
        view=view,
        action=action,
        details=details,
        moves_deadlines=True,
    )


def _waived_on(given: date | None, *, clock: str, view: CaseView, context: ClockContext) -> date:
    """The date the waiver takes effect: as given, else the date of the waiver it replaces
    (a corrected reason does not move it), else today."""
    today = context.today
    if given is None:
        earlier = view.timeline.waivers.get(clock)
        return earlier.waived_on if earlier is not None else today
    problem = None
    if given > today:
        problem = f"cannot be after today ({today.isoformat()})"
    elif given < view.timeline.aware_on:
        problem = (
            "must be on or after the date the local authority became aware "
            f"({view.timeline.aware_on.isoformat()})"
        )
    if problem is not None:
        raise UnprocessableContent(
            "Invalid waiver.", errors=[FieldError(field="body.waived_on", message=problem)]
        )
    return given


def waive_clock(
    *, session: Session, change: ChangeRequest, case_id: uuid.UUID, waiver: TimescaleWaiver
) -> Response:
    """Records (or replaces) a waiver of one clock."""
    view = open_for_change(session=session, change=change, case_id=case_id)
    waived_on = _waived_on(waiver.waived_on, clock=waiver.clock, view=view, context=change.context)
    recorded = Waiver(reason=waiver.reason, waived_on=waived_on)
    return _save(
        session=session,
        change=change,
        view=view,
        waivers={**view.timeline.waivers, waiver.clock: recorded},
        action="waiver",
        details={"clock": waiver.clock, **recorded.model_dump(mode="json")},
    )


def withdraw_waiver(
    *, session: Session, change: ChangeRequest, case_id: uuid.UUID, clock: str
) -> Response:
    """Removes a waiver, so the clock runs (and may be overdue) again."""
    view = open_for_change(session=session, change=change, case_id=case_id)
    if clock not in view.timeline.waivers:
        raise UnprocessableContent(
            f"The {clock} clock is not waived on this case.",
            errors=[FieldError(field="path.clock", message="not waived")],
        )
    waivers = {name: reason for name, reason in view.timeline.waivers.items() if name != clock}
    return _save(
        session=session,
        change=change,
        view=view,
        waivers=waivers,
        action="waiver_withdrawn",
        details={"clock": clock},
    )
