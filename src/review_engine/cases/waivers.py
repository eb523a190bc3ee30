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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session

from review_engine.auth.models import Principal
from review_engine.cases.changes import (
    CaseView,
    EtagFor,
    check_version,
    commit_change,
    get_case,
)
from review_engine.clocks import ClockContext
from review_engine.errors import FieldError, UnprocessableContent
from review_engine.text import NoNul
from review_engine.timeline import Waiver

# Only clocks that can be late can be waived; keep_published_until is a constraint.
WaivableClock = Literal[
    "notification", "partners_informed", "rapid_review", "review_publication", "advance_copies"
]


class TimescaleWaiver(BaseModel):
    """A statutory timeframe that does not apply to this case, and why."""

    model_config = ConfigDict(extra="forbid")

    clock: WaivableClock = Field(description="The clock to waive.")
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul
    ] = Field(description="Why, e.g. the national relaxation in force at the time.")
    waived_on: date | None = Field(
        None,
        description=(
            'Date the timescale was waived (default today). Deadlines read "as of" an '
            "earlier day do not see the waiver."
        ),
    )


def _save(
    *,
    session: Session,
    principal: Principal,
    view: CaseView,
    waivers: dict[str, Waiver],
    action: str,
    details: dict[str, Any],
    current_etag: EtagFor,
    context: ClockContext,
) -> CaseView:
    timeline = view.timeline.model_copy(update={"waivers": waivers})
    view.case.timeline = timeline.model_dump(mode="json")
    return commit_change(
        session=session,
        principal=principal,
        view=view,
        action=action,
        details=details,
        current_etag=current_etag,
        context=context,
    )


def _waived_on(given: date | None, *, clock: str, view: CaseView, context: ClockContext) -> date:
    """The date the waiver takes effect: as given, else the date of the waiver it replaces
    (a corrected reason does not move it), else today."""
    today = context.today
    if given is None:
        earlier = view.timeline.waivers.get(clock)
        return earlier.waived_on if earlier is not None else today
    problem = None
    if not context.calendar.covers(given):
        problem = "outside the years the bank holiday calendar covers"
    elif given > today:
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
    *,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    waiver: TimescaleWaiver,
    accepted_versions: set[int] | None,
    current_etag: EtagFor,
    context: ClockContext,
) -> CaseView:
    """Records (or replaces) a waiver of one clock."""
    view = get_case(session=session, principal=principal, case_id=case_id)
    check_version(view, accepted_versions, current_etag(view.version))
    waived_on = _waived_on(waiver.waived_on, clock=waiver.clock, view=view, context=context)
    recorded = Waiver(reason=waiver.reason, waived_on=waived_on)
    return _save(
        session=session,
        principal=principal,
        view=view,
        waivers={**view.timeline.waivers, waiver.clock: recorded},
        action="waiver",
        details={"clock": waiver.clock, **recorded.model_dump(mode="json")},
        current_etag=current_etag,
        context=context,
    )


def withdraw_waiver(
    *,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    clock: str,
    accepted_versions: set[int] | None,
    current_etag: EtagFor,
    context: ClockContext,
) -> CaseView:
    """Removes a waiver, so the clock runs (and may be overdue) again."""
    view = get_case(session=session, principal=principal, case_id=case_id)
    check_version(view, accepted_versions, current_etag(view.version))
    if clock not in view.timeline.waivers:
        raise UnprocessableContent(
            f"The {clock} clock is not waived on this case.",
            errors=[FieldError(field="path.clock", message="not waived")],
        )
    waivers = {name: reason for name, reason in view.timeline.waivers.items() if name != clock}
    return _save(
        session=session,
        principal=principal,
        view=view,
        waivers=waivers,
        action="waiver_withdrawn",
        details={"clock": clock},
        current_etag=current_etag,
        context=context,
    )
