"""Recommendation operations: record one on a case or a partnership, read and list them.
Each function that changes data owns its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine import audit, workflow
from review_engine.actions.models import Recommendation
from review_engine.actions.schemas import RecommendationCreate, RecommendationRead
from review_engine.actions.views import recommendation_reads
from review_engine.auth.models import Principal
from review_engine.cases.changes import CaseView, get_case
from review_engine.errors import ChangeNotAllowed, NotFound
from review_engine.idempotency import Claim, commit_answer
from review_engine.pagination import decode_cursor, encode_cursor, time_and_id
from review_engine.partnerships.models import Partnership

RenderRecommendation = Callable[[RecommendationRead], Response]


def open_case(*, session: Session, principal: Principal, case_id: uuid.UUID) -> CaseView:
    """The case, locked against a concurrent change (see `get_case`); 409 if it has ended:
    a closed or withdrawn case takes no new recommendations or actions."""
    view = get_case(session=session, principal=principal, case_id=case_id, for_update=True)
    if view.state in workflow.FINAL_STATES:
        raise ChangeNotAllowed(
            f"The case is {view.state}: it takes no new recommendations, actions or contributions."
        )
    return view


def add_recommendation(
    *,
    session: Session,
    principal: Principal,
    partnership: Partnership,
    case_id: uuid.UUID | None,
    recommendation_in: RecommendationCreate,
    as_of: date,
    render: RenderRecommendation,
    claim: Claim | None,
) -> Response:
    """Records a recommendation of the case's review (`case_id`) or, with no case, one the
    partnership chose to act on."""
    recommendation = Recommendation(
        partnership_id=partnership.id,
        case_id=case_id,
        number=recommendation_in.number,
        text=recommendation_in.text,
        source=recommendation_in.source,
    )
    session.add(recommendation)
    session.flush()
    audit.record(
        session=session,
        principal=principal,
        subject="recommendation",
        subject_id=recommendation.id,
        partnership_id=partnership.id,
        version=1,
        change="create",
        details={"source": recommendation.source, "case_id": str(case_id) if case_id else None},
    )
    read = recommendation_reads(
        session=session, recommendations=[recommendation], partnership=partnership.code, as_of=as_of
    )[0]
    answer = render(read)
    commit_answer(session=session, answer=answer, claim=claim)
    return answer


def get_recommendation(
    *, session: Session, principal: Principal, recommendation_id: uuid.UUID
) -> tuple[Recommendation, Partnership]:
    """The recommendation and its partnership, if the caller may see it (404 otherwise)."""
    row = session.exec(
        select(Recommendation, Partnership)
        .join(Partnership, col(Partnership.id) == col(Recommendation.partnership_id))
        .where(col(Recommendation.id) == recommendation_id)
    ).first()
    if row is None or not principal.can_access(row[1].code):
        raise NotFound(f"No recommendation with id {recommendation_id}.")
    return row


def list_recommendations(
    *,
    session: Session,
    partnership: Partnership,
    case_id: uuid.UUID | None,
    as_of: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[RecommendationRead], str | None]:
    """A page of the case's recommendations (or all the partnership's, with no case), in
    the order they were recorded, each with its actions."""
    query = select(Recommendation).where(col(Recommendation.partnership_id) == partnership.id)
    if case_id is not None:
        query = query.where(col(Recommendation.case_id) == case_id)
    if cursor is not None:
        created_at, after_id = decode_cursor(cursor, time_and_id)
        query = query.where(
            (col(Recommendation.created_at) > created_at)
            | ((col(Recommendation.created_at) == created_at) & (col(Recommendation.id) > after_id))
        )
    rows = list(
        session.exec(
            query.order_by(col(Recommendation.created_at), col(Recommendation.id)).limit(limit + 1)
        )
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    reads = (
        recommendation_reads(
            session=session, recommendations=page, partnership=partnership.code, as_of=as_of
        )
        if page
        else []
    )
    return reads, next_cursor
