"""`GET /cases`: filters and keyset pagination in a stable order (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from review_engine.auth.models import Principal
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.models import Case, CaseTheme
from review_engine.errors import FieldError, UnprocessableContent
from review_engine.partnerships.models import Partnership


@dataclass(frozen=True)
class CaseFilters:
    partnership: str | None = None
    state: str | None = None
    theme: str | None = None
    overdue: bool | None = None
    due_before: date | None = None


def encode_cursor(case: Case) -> str:
    position = json.dumps([case.created_at.isoformat(), str(case.id)])
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, case_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        created = datetime.fromisoformat(created_at)
        if created.tzinfo is None:
            raise ValueError("cursor without a UTC offset")  # encode_cursor always writes one
        return created, uuid.UUID(case_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise UnprocessableContent(
            "The cursor is not one this API returned.",
            errors=[FieldError(field="query.cursor", message="not a valid cursor")],
        ) from None


def list_cases(
    *,
    session: Session,
    principal: Principal,
    filters: CaseFilters,
    as_of: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Case, Partnership]], str | None]:
    """A page of the cases the caller may see, oldest first, and the next page's cursor."""
    query = select(Case, Partnership).join(
        Partnership, col(Partnership.id) == col(Case.partnership_id)
    )
    if principal.partnership_codes is not None:
        query = query.where(col(Partnership.code).in_(sorted(principal.partnership_codes)))
    if filters.partnership is not None:
        query = query.where(col(Partnership.code) == filters.partnership)
    if filters.state is not None:
        query = query.where(col(Case.state) == filters.state)
    if filters.theme is not None:
        query = query.where(
            select(col(CaseTheme.case_id))
            .where(col(CaseTheme.case_id) == col(Case.id), col(CaseTheme.theme) == filters.theme)
            .exists()
        )
    if filters.overdue is True:
        query = query.where(stored_deadlines.overdue_condition(as_of))
    elif filters.overdue is False:
        query = query.where(~stored_deadlines.overdue_condition(as_of))
    if filters.due_before is not None:
        query = query.where(stored_deadlines.due_before_condition(filters.due_before, as_of))
    if cursor is not None:
        created_at, case_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(Case.created_at) > created_at,
                and_(col(Case.created_at) == created_at, col(Case.id) > case_id),
            )
        )
    query = query.order_by(col(Case.created_at), col(Case.id)).limit(limit + 1)
    rows = [(row[0], row[1]) for row in session.execute(query).all()]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return rows[:limit], next_cursor
