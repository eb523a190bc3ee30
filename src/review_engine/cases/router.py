"""Case routes: thin. Parse the request, call the service, shape the response."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from review_engine import workflow
from review_engine.auth.dependencies import ManagerDep, MemberDep, ViewerDep
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases import listing, service, waivers
from review_engine.cases.changes import CaseView, get_case, view_of
from review_engine.cases.etags import case_etag, if_none_match_hits, parse_if_match
from review_engine.cases.schemas import (
    PARTNERSHIP_CODE_PATTERN,
    THEME_PATTERN,
    CaseCreate,
    CasePage,
    CasePatch,
    CaseRead,
    CaseSummary,
    HistoryPage,
)
from review_engine.cases.waivers import TimescaleWaiver, WaivableClock
from review_engine.clocks import ClockContext, Deadline
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import FieldError, UnprocessableContent, problem_responses
from review_engine.settings import Settings

router = APIRouter(tags=["cases"])


IfMatch = Annotated[
    str | None,
    Header(description="The case's current ETag (required: 428 without it, 412 if stale)."),
]
AsOf = Annotated[
    date | None,
    Query(description="Evaluate deadline statuses as of this day (default: today, London)."),
]


def _as_of(as_of: date | None, context: ClockContext) -> date:
    """The day to evaluate statuses for; it must be one the calendar can count from."""
    if as_of is None:
        return context.today
    if not context.calendar.covers(as_of):
        raise UnprocessableContent(
            "as_of is outside the years the bank holiday calendar covers.",
            errors=[FieldError(field="query.as_of", message="outside the calendar's years")],
        )
    return as_of


def _summary_fields(
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


def _case_read(view: CaseView, context: ClockContext, as_of: date) -> CaseRead:
    case = view.case
    return CaseRead(
        **_summary_fields(view, context, as_of),
        incident_on=case.incident_on,
        looked_after=case.looked_after,
        care_leaver=case.care_leaver,
        summary=case.summary,
        children=case.children,  # validated into ChildDetails
        timeline=view.timeline.model_dump(mode="json", exclude={"aware_on"}),
        allowed_events=workflow.allowed_events(state=view.state, timeline=view.timeline),
        as_of=as_of,
    )


def _case_response(
    view: CaseView, context: ClockContext, as_of: date, *, status_code: int = 200
) -> JSONResponse:
    body = _case_read(view, context, as_of).model_dump(mode="json")
    headers = {"ETag": case_etag(view.version, as_of)}
    if status_code == 201:
        headers["Location"] = f"/cases/{view.case.id}"
    return JSONResponse(body, status_code=status_code, headers=headers)


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseRead,
    summary="Record a new referral",
    responses=problem_responses(401, 403, 409, 422),
)
def create_case(
    case_in: CaseCreate, principal: MemberDep, session: SessionDep, context: ClockContextDep
) -> JSONResponse:
    view = service.create_case(
        session=session, principal=principal, case_in=case_in, context=context
    )
    return _case_response(view, context, context.today, status_code=201)


@router.get(
    "/cases",
    response_model=CasePage,
    summary="List cases (no sensitive fields), oldest first",
    responses=problem_responses(401, 422),
)
def list_cases(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    partnership: Annotated[
        str | None, Query(description="Partnership code", pattern=PARTNERSHIP_CODE_PATTERN)
    ] = None,
    state: Annotated[str | None, Query(description="Workflow state, e.g. lcspr")] = None,
    theme: Annotated[str | None, Query(pattern=THEME_PATTERN)] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description=(
                "Only cases with (true) or without (false) a deadline overdue as of `as_of`: "
                "exactly the cases whose read with that `as_of` shows one."
            )
        ),
    ] = None,
    due_before: Annotated[
        date | None,
        Query(
            description=(
                "Only cases with a deadline still running as of `as_of` (pending, due_soon "
                "or overdue) and due before this day."
            )
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CasePage:
    day = _as_of(as_of, context)
    settings: Settings = request.app.state.settings
    if state is not None and state not in workflow.STATES:
        raise UnprocessableContent(
            f"Unknown state; use one of: {', '.join(workflow.STATES)}.",
            errors=[FieldError(field="query.state", message="unknown workflow state")],
        )
    rows, next_cursor = listing.list_cases(
        session=session,
        principal=principal,
        filters=listing.CaseFilters(
            partnership=partnership,
            state=state,
            theme=theme,
            overdue=overdue,
            due_before=due_before,
        ),
        as_of=day,
        context=context,
        cursor=cursor,
        limit=min(limit, settings.max_page_size),
    )
    items = [
        CaseSummary(**_summary_fields(view_of(case, partnership), context, day, deadlines))
        for case, partnership, deadlines in rows
    ]
    return CasePage(items=items, next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}",
    response_model=CaseRead,
    summary="Read one case, with its deadlines and the events allowed now",
    responses={304: {"description": "Not modified"}, **problem_responses(401, 404)},
)
def read_case(
    case_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    view = get_case(session=session, principal=principal, case_id=case_id)
    day = _as_of(as_of, context)
    etag = case_etag(view.version, day)
    if if_none_match_hits(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return _case_response(view, context, day)


@router.patch(
    "/cases/{case_id}",
    response_model=CaseRead,
    summary="Correct descriptive fields (themes, summary, children, incident_on, looked_after)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def patch_case(
    case_id: uuid.UUID,
    patch: CasePatch,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    today = context.today
    view = service.patch_case(
        session=session,
        principal=principal,
        case_id=case_id,
        patch=patch,
        accepted_versions=parse_if_match(if_match),
        current_etag=lambda version: case_etag(version, today),
    )
    return _case_response(view, context, today)


@router.get(
    "/cases/{case_id}/history",
    response_model=HistoryPage,
    summary="The case's append-only audit trail, oldest first",
    responses=problem_responses(401, 404),
)
def case_history(case_id: uuid.UUID, principal: ViewerDep, session: SessionDep) -> HistoryPage:
    entries = service.list_history(session=session, principal=principal, case_id=case_id)
    return HistoryPage.model_validate({"items": [entry.model_dump() for entry in entries]})


@router.post(
    "/cases/{case_id}/waivers",
    response_model=CaseRead,
    summary="Waive a statutory timescale for this case, with the reason (managers)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def waive_timescale(
    case_id: uuid.UUID,
    waiver: TimescaleWaiver,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    today = context.today
    view = waivers.waive_clock(
        session=session,
        principal=principal,
        case_id=case_id,
        waiver=waiver,
        accepted_versions=parse_if_match(if_match),
        current_etag=lambda version: case_etag(version, today),
        context=context,
    )
    return _case_response(view, context, today)


@router.delete(
    "/cases/{case_id}/waivers/{clock}",
    response_model=CaseRead,
    summary="Withdraw a timescale waiver (managers)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def withdraw_waiver(
    case_id: uuid.UUID,
    clock: WaivableClock,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    today = context.today
    view = waivers.withdraw_waiver(
        session=session,
        principal=principal,
        case_id=case_id,
        clock=clock,
        accepted_versions=parse_if_match(if_match),
        current_etag=lambda version: case_etag(version, today),
        context=context,
    )
    return _case_response(view, context, today)


def _event_route(event: str) -> None:
    schema = workflow.payload_schema(event)

    def fire_event(
        case_id: uuid.UUID,
        principal: MemberDep,
        session: SessionDep,
        context: ClockContextDep,
        payload: Annotated[dict[str, Any], Body(default_factory=dict)],
        if_match: IfMatch = None,
        dry_run: Annotated[
            bool, Query(description="Answer with the case as it would be; write nothing")
        ] = False,
    ) -> JSONResponse:
        today = context.today
        view = service.fire_event(
            session=session,
            principal=principal,
            case_id=case_id,
            event=event,
            payload=payload,
            accepted_versions=parse_if_match(if_match, required=not dry_run),
            current_etag=lambda version: case_etag(version, today),
            dry_run=dry_run,
            context=context,
        )
        return _case_response(view, context, today)

    router.add_api_route(
        f"/cases/{{case_id}}/events/{event}",
        fire_event,
        methods=["POST"],
        name=f"fire_{event}",
        summary=f"Fire the {event} event",
        description=(schema.__doc__ or "").strip(),
        response_model=CaseRead,
        responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema.model_json_schema()}},
            }
        },
    )


for _event in workflow.EVENTS:
    _event_route(_event)


@router.get("/workflow", tags=["workflow"], summary="States, events and transitions")
def describe_workflow(principal: ViewerDep) -> dict[str, Any]:
    return workflow.describe()
