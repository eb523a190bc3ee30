"""Case routes: thin. Parse the request, call the service, shape the response.

The routes that fire workflow events and waive timescales are in `event_routes.py`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from review_engine import workflow
from review_engine.auth.dependencies import MemberDep, ViewerDep
from review_engine.cases import listing, service
from review_engine.cases.changes import get_case, view_of
from review_engine.cases.representation import (
    AsOf,
    IfMatch,
    case_response,
    change_request,
    summary_fields,
)
from review_engine.cases.schemas import (
    THEME_PATTERN,
    CaseCreate,
    CasePage,
    CasePatch,
    CaseRead,
    CaseSummary,
    HistoryPage,
    Reference,
)
from review_engine.dates import CalendarDate
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.etags import case_etag, if_none_match_hits
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.pagination import DEFAULT_LIMIT, Cursor, Limit, page_size
from review_engine.partnerships.models import CODE_PATTERN

router = APIRouter(tags=["cases"])


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseRead,
    summary="Record a new referral",
    responses=problem_responses(401, 403, 409, 422),
)
def create_case(
    case_in: CaseCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    change = change_request(principal=principal, context=context, claim=claim, creates=True)
    return service.create_case(session=session, change=change, case_in=case_in)


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
        str | None, Query(description="Partnership code", pattern=CODE_PATTERN)
    ] = None,
    reference: Annotated[
        Reference | None, Query(description="Only the case with this reference (exact).")
    ] = None,
    state: Annotated[
        workflow.WorkflowState | None, Query(description="Workflow state, e.g. lcspr")
    ] = None,
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
        CalendarDate | None,
        Query(
            description=(
                "Only cases with a deadline still running as of `as_of` (pending, due_soon "
                "or overdue) and due before this day."
            )
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> CasePage:
    day = as_of or context.today
    rows, next_cursor = listing.list_cases(
        session=session,
        principal=principal,
        filters=listing.CaseFilters(
            partnership=partnership,
            reference=reference,
            state=state,
            theme=theme,
            overdue=overdue,
            due_before=due_before,
        ),
        as_of=day,
        context=context,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    items = [
        CaseSummary(
            **summary_fields(view_of(case, partnership, timeline=timeline), context, day, deadlines)
        )
        for case, partnership, timeline, deadlines in rows
    ]
    return CasePage(items=items, next_cursor=next_cursor)


@router.get(
    "/cases/{case_id}",
    response_model=CaseRead,
    summary="Read one case, with its deadlines and the events allowed now",
    responses={304: {"description": "Not modified"}, **problem_responses(401, 404, 422)},
)
def read_case(
    case_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    if_none_match: Annotated[
        str | None, Header(description="An ETag you hold: 304 if the case is unchanged.")
    ] = None,
) -> Response:
    view = get_case(session=session, principal=principal, case_id=case_id)
    day = as_of or context.today
    etag = case_etag(view.version, day)
    if if_none_match_hits(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return case_response(view, context, day)


@router.patch(
    "/cases/{case_id}",
    response_model=CaseRead,
    summary=(
        "Correct descriptive fields (themes, summary, children, incident_on, looked_after, "
        "care_leaver)"
    ),
    responses=problem_responses(400, 401, 403, 404, 412, 415, 422, 428),
)
def patch_case(
    case_id: uuid.UUID,
    patch: CasePatch,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: IfMatch = None,
) -> Response:
    change = change_request(principal=principal, context=context, claim=None, if_match=if_match)
    return service.patch_case(session=session, change=change, case_id=case_id, patch=patch)


@router.get(
    "/cases/{case_id}/history",
    response_model=HistoryPage,
    summary="The case's append-only audit trail, oldest first",
    responses=problem_responses(401, 404, 422),
)
def case_history(
    request: Request,
    case_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> HistoryPage:
    entries, next_cursor = service.list_history(
        session=session,
        principal=principal,
        case_id=case_id,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    items = [entry.model_dump() for entry in entries]
    return HistoryPage.model_validate({"items": items, "next_cursor": next_cursor})


@router.get(
    "/workflow",
    tags=["workflow"],
    summary="States, events and transitions",
    responses=problem_responses(401),
)
def describe_workflow(principal: ViewerDep) -> dict[str, Any]:
    return workflow.describe()
