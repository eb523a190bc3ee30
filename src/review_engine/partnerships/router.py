"""HTTP routes for `/partnerships`: thin wrappers over `partnerships.service`."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from review_engine.auth.dependencies import AdminDep, ManagerDep, ViewerDep
from review_engine.cases.service import apply_rapid_review_clock_start
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import FieldError, UnprocessableContent, problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    page_size,
)
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


def _created(partnership: Partnership) -> Response:
    body = PartnershipRead.model_validate(partnership).model_dump(mode="json")
    headers = {"Location": f"/partnerships/{partnership.code}"}
    return JSONResponse(body, status_code=status.HTTP_201_CREATED, headers=headers)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnershipRead,
    summary="Register a partnership",
    responses=problem_responses(400, 409, 415),
)
def create_partnership(
    body: PartnershipCreate, principal: AdminDep, session: SessionDep, claim: IdempotencyClaimDep
) -> Response:
    return service.create_partnership_answering(
        session=session, data=body, render=_created, claim=claim
    )


@router.get("", summary="List the partnerships this key may see, by code")
def list_partnerships(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> PartnershipPage:
    size = page_size(request, limit)
    after = decode_cursor(cursor, _code) if cursor is not None else None
    rows = service.list_partnerships(
        session=session, principal=principal, after=after, limit=size + 1
    )
    items = [PartnershipRead.model_validate(row) for row in rows[:size]]
    next_cursor = encode_cursor([items[-1].code]) if len(rows) > size else None
    return PartnershipPage(items=items, next_cursor=next_cursor)


def _code(position: list[Any]) -> str:
    code = position[0]
    if not isinstance(code, str) or not re.fullmatch(CODE_PATTERN, code):
        raise ValueError("not a partnership code")
    return code


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
    request: Request,
    code: Code,
    body: PartnershipUpdate,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
) -> PartnershipRead:
    partnership = service.get_accessible(session=session, principal=principal, code=code)
    if body.alert_fallback_email and not request.app.state.settings.smtp_host:
        raise UnprocessableContent(
            "The fallback email cannot be set.",
            errors=[
                FieldError(
                    field="body.alert_fallback_email",
                    message="email needs a mail server: set REVIEW_ENGINE_SMTP_HOST",
                )
            ],
        )

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
