"""`GET /cases`: filters and keyset pagination in a stable order (created_at, id).

The deadline filters (`overdue`, `due_before`) answer exactly what reading each case with
the same `as_of` answers: every candidate is checked on its computed deadlines. For an
`as_of` of today or later the stored deadline rows narrow the candidates first (an index
scan; they hold for any day from when they were computed); for a past day they cannot
(a later event may have stopped or met a clock that was running then), so the candidates
are the cases matching the other filters, checked at most `SCAN_LIMIT` (about) a request:
such a page may hold fewer than `limit` cases, even none, and still have a `next_cursor`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, or_, select
from sqlmodel import Session, col

from review_engine.auth.models import Principal
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.deadlines import timeline_of
from review_engine.cases.models import Case, CaseTheme
from review_engine.clocks import ClockContext, Deadline
from review_engine.pagination import decode_cursor, encode_cursor, time_and_id
from review_engine.partnerships.models import Partnership
from review_engine.timeline import CaseTimeline


@dataclass(frozen=True)
class CaseFilters:
    partnership: str | None = None
    reference: str | None = None
    state: str | None = None
    theme: str | None = None
    overdue: bool | None = None
    due_before: date | None = None

    @property
    def on_deadlines(self) -> bool:
        return self.overdue is not None or self.due_before is not None

    def match(self, deadlines: list[Deadline]) -> bool:
        """Whether a case with these deadlines (as of the listing's day) passes the filters."""
        if self.overdue is not None and stored_deadlines.has_overdue(deadlines) != self.overdue:
            return False
        return self.due_before is None or stored_deadlines.has_running_due_before(
            deadlines, self.due_before
        )


Row = tuple[Case, Partnership, CaseTimeline, list[Deadline]]
_BATCH = 200
SCAN_LIMIT = 1000
"""At most about this many candidates are checked in Python for one page (a deadline filter
on a past day cannot be narrowed by the stored rows); the page may then be short, with a
`next_cursor` to go on from."""


def _cursor_at(created_at: datetime, case_id: uuid.UUID) -> str:
    return encode_cursor([created_at.isoformat(), str(case_id)])


def list_cases(
    *,
    session: Session,
    principal: Principal,
    filters: CaseFilters,
    as_of: date,
    context: ClockContext,
    cursor: str | None,
    limit: int,
) -> tuple[list[Row], str | None]:
    """A page of the cases the caller may see, oldest first, each with its timeline and its
    deadlines as of `as_of`, and the next page's cursor."""
    query = select(Case, Partnership).join(
        Partnership, col(Partnership.id) == col(Case.partnership_id)
    )
    if principal.partnership_codes is not None:
        query = query.where(col(Partnership.code).in_(sorted(principal.partnership_codes)))
    if filters.partnership is not None:
        query = query.where(col(Partnership.code) == filters.partnership)
    if filters.reference is not None:
        query = query.where(col(Case.reference) == filters.reference)
    if filters.state is not None:
        query = query.where(col(Case.state) == filters.state)
    if filters.theme is not None:
        query = query.where(
            select(col(CaseTheme.case_id))
            .where(col(CaseTheme.case_id) == col(Case.id), col(CaseTheme.theme) == filters.theme)
            .exists()
        )
    narrowed = as_of >= context.today  # the stored rows still hold then: narrow with them
    if narrowed:
        if filters.overdue is True:
            query = query.where(stored_deadlines.overdue_condition(as_of))
        elif filters.overdue is False:
            query = query.where(~stored_deadlines.overdue_condition(as_of))
        if filters.due_before is not None:
            query = query.where(stored_deadlines.due_before_condition(filters.due_before))
    query = query.order_by(col(Case.created_at), col(Case.id))
    position = decode_cursor(cursor, time_and_id) if cursor is not None else None
    # Candidates not narrowed by the stored rows are mostly rejected: read them in batches.
    batch = max(limit + 1, _BATCH) if filters.on_deadlines and not narrowed else limit + 1
    page: list[Row] = []
    checked = 0
    while len(page) <= limit:
        scanned = session.execute(_after(query, position).limit(batch)).all()
        for case, partnership in scanned:
            timeline = timeline_of(case)
            deadlines = stored_deadlines.evaluate(timeline, context=context, as_of=as_of)
            if filters.match(deadlines):
                page.append((case, partnership, timeline, deadlines))
                if len(page) > limit:
                    break  # one more than a page: enough to know there is a next one
        if len(scanned) < batch:
            break
        position = (scanned[-1][0].created_at, scanned[-1][0].id)
        checked += len(scanned)
        if checked >= SCAN_LIMIT and len(page) <= limit:
            # Bounded work per request: a short page, and a cursor after the last case
            # checked, from which the next request goes on.
            return page, _cursor_at(*position)
    last = page[limit - 1][0] if len(page) > limit else None
    next_cursor = _cursor_at(last.created_at, last.id) if last is not None else None
    return page[:limit], next_cursor


def _after(
    query: Select[Case, Partnership], position: tuple[datetime, uuid.UUID] | None
) -> Select[Case, Partnership]:
    if position is None:
        return query
    created_at, case_id = position
    return query.where(
        or_(
            col(Case.created_at) > created_at,
            and_(col(Case.created_at) == created_at, col(Case.id) > case_id),
        )
    )
