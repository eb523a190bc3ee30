"""Routes for recommendations: on a case, on a partnership, and the actions on each.
Thin: parse the request, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from review_engine.actions import recommendations, service
from review_engine.actions.representation import action_change
from review_engine.actions.schemas import (
    ActionCreate,
    ActionRead,
    PartnershipRecommendationCreate,
    RecommendationCreate,
    RecommendationPage,
    RecommendationRead,
)
from review_engine.actions.views import recommendation_reads
from review_engine.auth.dependencies import MemberDep, ViewerDep
from review_engine.cases.changes import get_case
from review_engine.cases.representation import AsOf
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.pagination import DEFAULT_LIMIT, Cursor, Limit, page_size
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.partnerships.service import get_accessible

Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The partnership's code")]

router = APIRouter(tags=["recommendations"], responses=problem_responses(401, 404, 422))


def _created(read: RecommendationRead) -> Response:
    return JSONResponse(
        read.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/recommendations/{read.id}"},
    )


@router.post(
    "/cases/{case_id}/recommendations",
    status_code=status.HTTP_201_CREATED,
    response_model=RecommendationRead,
    summary="Record a recommendation of the case's review",
    responses=problem_responses(403, 409),
)
def add_case_recommendation(
    case_id: uuid.UUID,
    body: RecommendationCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    case = recommendations.open_case(session=session, principal=principal, case_id=case_id)
    return recommendations.add_recommendation(
        session=session,
        principal=principal,
        partnership=case.partnership,
        case_id=case_id,
        recommendation_in=body,
        as_of=context.today,
        render=_created,
        claim=claim,
    )


@router.get(
    "/cases/{case_id}/recommendations",
    summary="The case's recommendations, each with its actions, in the order recorded",
)
def list_case_recommendations(
    request: Request,
    case_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> RecommendationPage:
    case = get_case(session=session, principal=principal, case_id=case_id)
    items, next_cursor = recommendations.list_recommendations(
        session=session,
        partnership=case.partnership,
        case_id=case_id,
        as_of=as_of or context.today,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    return RecommendationPage(items=items, next_cursor=next_cursor)


@router.post(
    "/partnerships/{code}/recommendations",
    status_code=status.HTTP_201_CREATED,
    response_model=RecommendationRead,
    summary="Record a recommendation of a national review or Panel report to act on",
    responses=problem_responses(403),
)
def add_partnership_recommendation(
    code: Code,
    body: PartnershipRecommendationCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    partnership = get_accessible(session=session, principal=principal, code=code)
    return recommendations.add_recommendation(
        session=session,
        principal=principal,
        partnership=partnership,
        case_id=None,
        recommendation_in=body,
        as_of=context.today,
        render=_created,
        claim=claim,
    )


@router.get(
    "/partnerships/{code}/recommendations",
    summary="Every recommendation of the partnership (cases' and its own), in the order recorded",
)
def list_partnership_recommendations(
    request: Request,
    code: Code,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> RecommendationPage:
    partnership = get_accessible(session=session, principal=principal, code=code)
    items, next_cursor = recommendations.list_recommendations(
        session=session,
        partnership=partnership,
        case_id=None,
        as_of=as_of or context.today,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    return RecommendationPage(items=items, next_cursor=next_cursor)


@router.get("/recommendations/{recommendation_id}", summary="One recommendation, with its actions")
def read_recommendation(
    recommendation_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
) -> RecommendationRead:
    recommendation, partnership = recommendations.get_recommendation(
        session=session, principal=principal, recommendation_id=recommendation_id
    )
    return recommendation_reads(
        session=session,
        recommendations=[recommendation],
        partnership=partnership.code,
        as_of=as_of or context.today,
    )[0]


@router.post(
    "/recommendations/{recommendation_id}/actions",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionRead,
    summary="Record an action on the recommendation (it starts open)",
    responses=problem_responses(403, 409),
)
def add_action(
    recommendation_id: uuid.UUID,
    body: ActionCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    recommendation, _ = recommendations.get_recommendation(
        session=session, principal=principal, recommendation_id=recommendation_id
    )
    change = action_change(principal=principal, context=context, claim=claim, creates=True)
    return service.add_action(
        session=session, change=change, recommendation=recommendation, action_in=body
    )
