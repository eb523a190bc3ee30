"""How a case is shown: its summary and full read, the answer to a change (with its ETag,
and `Location` for a new case), and the `ChangeRequest` every change route builds."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Header, Query
from fastapi.responses import JSONResponse

from review_engine import workflow
from review_engine.auth.models import Principal
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.changes import CaseView, ChangeRequest
from review_engine.cases.schemas import CaseRead, OverdueContribution
from review_engine.clocks import ClockContext, Deadline
from review_engine.contributions.rules import overdue_on
from review_engine.dates import CalendarDate
from review_engine.etags import case_etag, if_match_description, parse_if_match
from review_engine.idempotency import Claim

__all__ = [
    "DRY_RUN_HEADER",
    "AsOf",
    "IfMatch",
    "case_read",
    "case_response",
    "change_request",
    "summary_fields",
]

DRY_RUN_HEADER = "Dry-Run"

# Optional here so that a missing header is a 428 (RFC 6585), not a 422; the OpenAPI
# document declares it required (see `review_engine.openapi`).
IfMatch = Annotated[
    str | None,
    Header(description=if_match_description("case")),
]
AsOf = Annotated[
    CalendarDate | None,
    Query(description="Evaluate deadline statuses as of this day (default: today, London)."),
]


def summary_fields(
    view: CaseView, context: ClockContext, as_of: date, deadlines: list[Deadline] | None = None
) -> dict[str, Any]:
    case = view.case
    if deadlines is None:
        deadlines = stored_deadlines.evaluate(view.timeline, context=context, as_of=as_of)
    return {
        "id": case.id,
        "partnership": view.partnership.code,
        "reference": case.reference,
        "incident_type": case.incident_type,
        "aware_on": case.aware_on,
        "state": view.state,
        "version": view.version,
        "themes": case.themes,
        "deadlines": [stored_deadlines.deadline_read(deadline) for deadline in deadlines],
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def case_read(view: CaseView, context: ClockContext, as_of: date) -> CaseRead:
    case = view.case
    outstanding = list(view.links.outstanding_actions)
    return CaseRead(
        **summary_fields(view, context, as_of),
        incident_on=case.incident_on,
        looked_after=case.looked_after,
        care_leaver=case.care_leaver,
        summary=case.summary,
        children=case.children,  # validated into ChildDetails
        timeline=view.timeline.model_dump(mode="json", exclude={"aware_on"}),
        allowed_events=workflow.allowed_events(
            state=view.state,
            timeline=view.timeline,
            outstanding_actions=[str(action_id) for action_id in outstanding],
        ),
        outstanding_actions=outstanding,
        overdue_contributions=[
            OverdueContribution(id=facts.id, agency=facts.agency, due_on=facts.due_on)
            for facts in view.links.contributions
            if overdue_on(facts, as_of)
        ],
        as_of=as_of,
        dry_run=view.dry_run,
    )


def case_response(
    view: CaseView, context: ClockContext, as_of: date, *, status_code: int = 200
) -> JSONResponse:
    """The case as JSON with its ETag (and `Location` when created; `Dry-Run` when nothing
    was written)."""
    body = case_read(view, context, as_of).model_dump(mode="json")
    headers = {"ETag": case_etag(view.version, as_of)}
    if status_code == 201:
        headers["Location"] = f"/cases/{view.case.id}"
    if view.dry_run:
        headers[DRY_RUN_HEADER] = "true"
    return JSONResponse(body, status_code=status_code, headers=headers)


def change_request(
    *,
    principal: Principal,
    context: ClockContext,
    claim: Claim | None,
    if_match: str | None = None,
    creates: bool = False,
) -> ChangeRequest:
    """What a change route hands its service. A change to a case needs `If-Match` (428
    without it, 412 unless it names a version); creating one (`creates`) takes none."""
    today = context.today
    status_code = 201 if creates else 200
    return ChangeRequest(
        principal=principal,
        accepted_versions=None if creates else parse_if_match(if_match),
        context=context,
        etag=lambda version: case_etag(version, today),
        render=lambda view: case_response(view, context, today, status_code=status_code),
        claim=claim,
    )
