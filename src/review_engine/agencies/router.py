"""Routes for `/partnerships/{code}/agencies`: thin wrappers over `agencies.service`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from review_engine.agencies import service
from review_engine.agencies.models import Agency
from review_engine.agencies.schemas import AgencyCreate, AgencyPage, AgencyRead
from review_engine.auth.dependencies import ManagerDep, ViewerDep
from review_engine.db import SessionDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    page_size,
)
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.partnerships.service import get_accessible

Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The partnership's code")]

router = APIRouter(
    prefix="/partnerships/{code}/agencies",
    tags=["agencies"],
    responses=problem_responses(401, 404, 422),
)


def agency_read(agency: Agency, code: str) -> AgencyRead:
    return AgencyRead(
        id=agency.id, partnership=code, name=agency.name, created_at=agency.created_at
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AgencyRead,
    summary="Add an agency to the partnership's list (managers)",
    responses=problem_responses(403, 409),
)
def add_agency(
    code: Code,
    body: AgencyCreate,
    principal: ManagerDep,
    session: SessionDep,
    claim: IdempotencyClaimDep,
) -> Response:
    partnership = get_accessible(session=session, principal=principal, code=code)

    def created(agency: Agency) -> Response:
        return JSONResponse(
            agency_read(agency, code).model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/partnerships/{code}/agencies/{agency.id}"},
        )

    return service.add_agency(
        session=session,
        principal=principal,
        partnership=partnership,
        name=body.name,
        render=created,
        claim=claim,
    )


@router.get("", summary="The partnership's agencies, by name")
def list_agencies(
    request: Request,
    code: Code,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AgencyPage:
    partnership = get_accessible(session=session, principal=principal, code=code)
    size = page_size(request, limit)
    after = decode_cursor(cursor, _name_key) if cursor is not None else None
    rows = service.list_agencies(
        session=session, partnership=partnership, after=after, limit=size + 1
    )
    items = [agency_read(agency, code) for agency in rows[:size]]
    next_cursor = encode_cursor([rows[size - 1].name_key]) if len(rows) > size else None
    return AgencyPage(items=items, next_cursor=next_cursor)


def _name_key(position: list[Any]) -> str:
    key = position[0]
    if not isinstance(key, str):
        raise ValueError("not an agency position")
    return key


@router.get("/{agency_id}", summary="One agency on the partnership's list")
def get_agency(
    code: Code, agency_id: uuid.UUID, principal: ViewerDep, session: SessionDep
) -> AgencyRead:
    partnership = get_accessible(session=session, principal=principal, code=code)
    return agency_read(
        service.get_agency(session=session, partnership=partnership, agency_id=agency_id), code
    )
