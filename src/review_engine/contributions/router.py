"""Routes for agency contributions. Thin: parse the request, call the service, shape the
response."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from review_engine import audit
from review_engine.agencies.schemas import AgencyName
from review_engine.auth.dependencies import MemberDep, ViewerDep
from review_engine.auth.models import Principal
from review_engine.cases.changes import get_case
from review_engine.cases.representation import AsOf
from review_engine.clocks import ClockContext
from review_engine.contributions import service
from review_engine.contributions.queries import facts_of
from review_engine.contributions.rules import overdue_on, status_on
from review_engine.contributions.schemas import (
    ContributionCreate,
    ContributionPage,
    ContributionPatch,
    ContributionRead,
)
from review_engine.contributions.service import ContributionChange, ContributionView
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.etags import etag, if_match_description, parse_if_match
from review_engine.idempotency import Claim, IdempotencyClaimDep
from review_engine.pagination import DEFAULT_LIMIT, Cursor, Limit, page_size
from review_engine.partnerships.models import CODE_PATTERN

router = APIRouter(tags=["contributions"], responses=problem_responses(401, 404, 422))

# Optional here so that a missing header is a 428, not a 422 (see `review_engine.openapi`).
ContributionIfMatch = Annotated[
    str | None,
    Header(description=if_match_description("contribution")),
]


def contribution_read(view: ContributionView, as_of: date) -> ContributionRead:
    contribution = view.contribution
    facts = facts_of(contribution, view.agency)
    return ContributionRead(
        id=contribution.id,
        case_id=contribution.case_id,
        partnership=view.partnership,
        agency=view.agency,
        stage=contribution.stage,
        version=contribution.version,
        requested_on=contribution.requested_on,
        due_on=contribution.due_on,
        original_due_on=contribution.original_due_on,
        received_on=contribution.received_on,
        not_coming_reason=contribution.not_coming_reason,
        not_coming_on=contribution.not_coming_on,
        status=status_on(facts, as_of),
        overdue=overdue_on(facts, as_of),
        as_of=as_of,
        created_at=contribution.created_at,
        updated_at=contribution.updated_at,
    )


def _response(view: ContributionView, as_of: date, status_code: int = 200) -> JSONResponse:
    headers = {"ETag": etag(view.contribution.version, as_of)}
    if status_code == 201:
        headers["Location"] = f"/contributions/{view.contribution.id}"
    body = contribution_read(view, as_of).model_dump(mode="json")
    return JSONResponse(body, status_code=status_code, headers=headers)


def _change(
    *,
    principal: Principal,
    context: ClockContext,
    claim: Claim | None,
    if_match: str | None = None,
    creates: bool = False,
) -> ContributionChange:
    today, status_code = context.today, 201 if creates else 200
    return ContributionChange(
        principal=principal,
        accepted_versions=None if creates else parse_if_match(if_match, "contribution"),
        context=context,
        etag=lambda version: etag(version, today),
        render=lambda view: _response(view, today, status_code),
        claim=claim,
    )


@router.post(
    "/cases/{case_id}/contributions",
    status_code=status.HTTP_201_CREATED,
    response_model=ContributionRead,
    summary="Ask an agency for its contribution to the case's rapid review or review",
    responses=problem_responses(403, 409),
)
def request_contribution(
    case_id: uuid.UUID,
    body: ContributionCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    change = _change(principal=principal, context=context, claim=claim, creates=True)
    return service.request_contribution(session=session, change=change, case_id=case_id, body=body)


@router.get(
    "/cases/{case_id}/contributions",
    summary="The case's agency contributions, soonest due first",
)
def list_case_contributions(
    request: Request,
    case_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ContributionPage:
    get_case(session=session, principal=principal, case_id=case_id)
    day = as_of or context.today
    views, next_cursor = service.list_contributions(
        session=session,
        principal=principal,
        filters=service.ContributionFilters(case_id=case_id),
        as_of=day,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    items = [contribution_read(view, day) for view in views]
    return ContributionPage(items=items, next_cursor=next_cursor)


@router.get("/contributions", summary="Agency contributions the key may see, soonest due first")
def list_contributions(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    partnership: Annotated[
        str | None, Query(description="Partnership code", pattern=CODE_PATTERN)
    ] = None,
    agency: Annotated[AgencyName | None, Query()] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description=(
                "Only contributions overdue (true) or not (false) as of `as_of`: requested "
                "by then, due before then, and neither received nor known not to be coming "
                "by then."
            )
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ContributionPage:
    day = as_of or context.today
    views, next_cursor = service.list_contributions(
        session=session,
        principal=principal,
        filters=service.ContributionFilters(
            partnership=partnership, agency=agency, overdue=overdue
        ),
        as_of=day,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    items = [contribution_read(view, day) for view in views]
    return ContributionPage(items=items, next_cursor=next_cursor)


@router.get(
    "/contributions/{contribution_id}",
    response_model=ContributionRead,
    summary="One agency contribution",
)
def read_contribution(
    contribution_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
) -> Response:
    view = service.get_contribution(
        session=session, principal=principal, contribution_id=contribution_id
    )
    return _response(view, as_of or context.today)


@router.patch(
    "/contributions/{contribution_id}",
    response_model=ContributionRead,
    summary="Record that a contribution arrived, or why it will not; or give more time",
    responses=problem_responses(403, 412, 428),
)
def patch_contribution(
    contribution_id: uuid.UUID,
    patch: ContributionPatch,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: ContributionIfMatch = None,
) -> Response:
    change = _change(principal=principal, context=context, claim=None, if_match=if_match)
    return service.patch_contribution(
        session=session, change=change, contribution_id=contribution_id, patch=patch
    )


@router.get(
    "/contributions/{contribution_id}/history",
    summary="Every change to the contribution: who, when, what (oldest first)",
)
def contribution_history(
    request: Request,
    contribution_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> audit.AuditPage:
    service.get_contribution(session=session, principal=principal, contribution_id=contribution_id)
    return audit.audit_page(
        session=session,
        subject="contribution",
        subject_id=contribution_id,
        cursor=cursor,
        limit=page_size(request, limit),
    )
