"""Timescale waivers: a manager records that a statutory timeframe does not apply to a case
(as the national relaxation of 2020 did for rapid reviews, advance notice and the 6-month
publication target), with the reason; or withdraws such a waiver.

A waived clock reports `waived` instead of pending, due soon or overdue, keeps its due dates
and meeting date, and drops out of `GET /cases?overdue=true`. Each change commits with the
case's new version, its recomputed deadline rows and a history entry.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

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
from review_engine.cases.deadlines import ClockContext
from review_engine.errors import FieldError, UnprocessableContent
from review_engine.text import NoNul

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


def _save(
    *,
    session: Session,
    principal: Principal,
    view: CaseView,
    waivers: dict[str, str],
    action: str,
    details: dict[str, str],
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
    """Records (or replaces the reason of) a waiver of one clock."""
    view = get_case(session=session, principal=principal, case_id=case_id)
    check_version(view, accepted_versions, current_etag(view.version))
    return _save(
        session=session,
        principal=principal,
        view=view,
        waivers={**view.timeline.waivers, waiver.clock: waiver.reason},
        action="waiver",
        details={"clock": waiver.clock, "reason": waiver.reason},
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
