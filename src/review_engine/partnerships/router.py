"""HTTP routes for `/partnerships`: thin wrappers over `partnerships.service`."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlmodel import Session

from review_engine.auth.dependencies import AdminDep, ManagerDep, ViewerDep
from review_engine.cases.service import apply_rapid_review_clock_start
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.partnerships import service
from review_engine.partnerships.models import CODE_PATTERN, Partnership
from review_engine.partnerships.schemas import (
    PartnershipCreate,
    PartnershipPage,
    PartnershipRead,
    PartnershipUpdate,
)

Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The partnership's code")]

router = APIRouter(
    prefix="/partnerships", tags=["partnerships"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a partnership",
    responses=problem_responses(409),
)
def create_partnership(
    body: PartnershipCreate, principal: AdminDep, session: SessionDep, response: Response
) -> PartnershipRead:
    partnership = service.create_partnership(session=session, data=body)
    response.headers["Location"] = f"/partnerships/{partnership.code}"
    return PartnershipRead.model_validate(partnership)


@router.get("", summary="List the partnerships this key may see")
def list_partnerships(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    after: Annotated[
        str | None, Query(pattern=CODE_PATTERN, description="Return codes after this one.")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped).")] = None,
) -> PartnershipPage:
    max_page = request.app.state.settings.max_page_size
    page_size = min(limit or max_page, max_page)
    rows = service.list_partnerships(
        session=session, principal=principal, after=after, limit=page_size + 1
    )
    items = [PartnershipRead.model_validate(row) for row in rows[:page_size]]
    next_after = items[-1].code if len(rows) > page_size else None
    return PartnershipPage(items=items, next_after=next_after)


@router.get("/{code}", summary="Get a partnership", responses=problem_responses(404))
def get_partnership(code: Code, principal: ViewerDep, session: SessionDep) -> PartnershipRead:
    partnership = service.get_accessible(session=session, principal=principal, code=code)
    return PartnershipRead.model_validate(partnership)


@router.patch(
    "/{code}",
    summary="Change a partnership's settings",
    description=(
        "A new `rapid_review_clock_start` applies to the partnership's cases whose rapid "
        "review has not been sent and which have not ended: each gets a new version (and "
        "ETag) and a `setting_changed` history entry. Cases already past that point keep "
        "the setting they had, so no verdict is rewritten."
    ),
    responses=problem_responses(404, 412),
)
def update_partnership(
    code: Code,
    body: PartnershipUpdate,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
) -> PartnershipRead:
    partnership = service.get_accessible(session=session, principal=principal, code=code)

    def refresh_deadlines(session: Session, partnership: Partnership) -> None:
        # The rapid review clock's start point is a partnership setting; the cases it still
        # applies to change with it, in this transaction.
        apply_rapid_review_clock_start(
            session=session, principal=principal, partnership=partnership, context=context
        )

    updated = service.update_partnership(
        session=session, partnership=partnership, changes=body, before_commit=refresh_deadlines
    )
    return PartnershipRead.model_validate(updated)
