"""`GET /actions`: filters and keyset pagination, soonest due first (due_on, id).

`overdue` replays the day asked for: an action counts if it had been recorded by then,
had been neither completed nor cancelled by then, and was due before then by the due date
then in force (its moves are dated). For today or later that is "open or in progress and
due before the day", an index range on (due_on, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, not_, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from review_engine.actions.models import Action, ActionDueChange
from review_engine.actions.rules import RUNNING_STATUSES
from review_engine.actions.views import ActionView, action_views
from review_engine.agencies.models import Agency, name_key
from review_engine.auth.models import Principal
from review_engine.pagination import day_and_id, decode_cursor, encode_cursor
from review_engine.partnerships.models import Partnership


@dataclass(frozen=True)
class ActionFilters:
    partnership: str | None = None
    lead_agency: str | None = None
    status: str | None = None
    rating: str | None = None
    overdue: bool | None = None
    due_before: date | None = None


def _overdue_on(day: date, today: date) -> ColumnElement[bool]:
    if day >= today:
        return and_(col(Action.status).in_(RUNNING_STATUSES), col(Action.due_on) < day)
    due_then = func.coalesce(
        sql_select(col(ActionDueChange.to_due_on))
        .where(col(ActionDueChange.action_id) == col(Action.id))
        .where(col(ActionDueChange.changed_on) <= day)
        .order_by(col(ActionDueChange.changed_on).desc(), col(ActionDueChange.id).desc())
        .limit(1)
        .scalar_subquery(),
        col(Action.original_due_on),
    )
    finished = or_(
        and_(col(Action.completed_on).is_not(None), col(Action.completed_on) <= day),
        and_(col(Action.cancelled_on).is_not(None), col(Action.cancelled_on) <= day),
    )
    return and_(col(Action.recorded_on) <= day, not_(finished), due_then < day)


def list_actions(
    *,
    session: Session,
    principal: Principal,
    filters: ActionFilters,
    as_of: date,
    today: date,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[ActionView], str | None]:
    """A page of the actions the caller may see (all of them when `limit` is None), and
    the next page's cursor."""
    query = select(Action).join(Partnership, col(Partnership.id) == col(Action.partnership_id))
    if principal.partnership_codes is not None:
        query = query.where(col(Partnership.code).in_(sorted(principal.partnership_codes)))
    if filters.partnership is not None:
        query = query.where(col(Partnership.code) == filters.partnership)
    if filters.lead_agency is not None:
        query = query.join(Agency, col(Agency.id) == col(Action.lead_agency_id)).where(
            col(Agency.name_key) == name_key(filters.lead_agency)
        )
    if filters.status is not None:
        query = query.where(col(Action.status) == filters.status)
    if filters.rating is not None:
        query = query.where(col(Action.rating) == filters.rating)
    if filters.overdue is not None:
        overdue = _overdue_on(as_of, today)
        query = query.where(overdue if filters.overdue else not_(overdue))
    if filters.due_before is not None:
        query = query.where(col(Action.due_on) < filters.due_before)
    if cursor is not None:
        due_on, after_id = decode_cursor(cursor, day_and_id)
        query = query.where(
            or_(
                col(Action.due_on) > due_on,
                and_(col(Action.due_on) == due_on, col(Action.id) > after_id),
            )
        )
    query = query.order_by(col(Action.due_on), col(Action.id))
    if limit is not None:
        query = query.limit(limit + 1)
    rows = list(session.exec(query))
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].due_on.isoformat(), str(rows[-1].id)])
    return action_views(session=session, actions=rows), next_cursor
