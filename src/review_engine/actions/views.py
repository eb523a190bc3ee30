"""How an action and a recommendation are read: each action with its partnership's code,
its lead agency's name and the moves of its due date, loaded for a page at a time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from review_engine.actions.models import Action, ActionDueChange, Recommendation
from review_engine.actions.rules import overdue_on
from review_engine.actions.schemas import ActionRead, RecommendationRead
from review_engine.agencies.models import Agency
from review_engine.auth.models import Principal
from review_engine.errors import NotFound
from review_engine.partnerships.models import Partnership


@dataclass(frozen=True)
class ActionView:
    action: Action
    partnership: str  # its code
    lead_agency: str
    due_changes: tuple[ActionDueChange, ...]  # oldest first

    def due_on_as_of(self, day: date) -> date:
        """The due date in force on `day`: moves made after it are not yet made."""
        due_on = self.action.original_due_on
        for move in self.due_changes:
            if move.changed_on <= day:
                due_on = move.to_due_on
        return due_on


def action_views(*, session: Session, actions: Sequence[Action]) -> list[ActionView]:
    """Views of `actions`, in their order: three queries, whatever their number."""
    if not actions:
        return []
    agencies = dict(
        session.exec(
            select(Agency.id, Agency.name).where(
                col(Agency.id).in_({a.lead_agency_id for a in actions})
            )
        ).all()
    )
    codes = dict(
        session.exec(
            select(Partnership.id, Partnership.code).where(
                col(Partnership.id).in_({a.partnership_id for a in actions})
            )
        ).all()
    )
    moves: dict[uuid.UUID, list[ActionDueChange]] = {}
    for move in session.exec(
        select(ActionDueChange)
        .where(col(ActionDueChange.action_id).in_([a.id for a in actions]))
        .order_by(col(ActionDueChange.changed_on), col(ActionDueChange.id))
    ):
        moves.setdefault(move.action_id, []).append(move)
    return [
        ActionView(
            action=action,
            partnership=codes[action.partnership_id],
            lead_agency=agencies[action.lead_agency_id],
            due_changes=tuple(moves.get(action.id, ())),
        )
        for action in actions
    ]


def get_action(
    *, session: Session, principal: Principal, action_id: uuid.UUID, for_update: bool = False
) -> ActionView:
    """The action, if it exists and the caller may see its partnership (404 otherwise)."""
    query = select(Action).where(col(Action.id) == action_id)
    if for_update:
        query = query.with_for_update()
    action = session.exec(query).first()
    view = action_views(session=session, actions=[action])[0] if action is not None else None
    if view is None or not principal.can_access(view.partnership):
        raise NotFound(f"No action with id {action_id}.")
    return view


def action_read(view: ActionView, as_of: date) -> ActionRead:
    action = view.action
    return ActionRead(
        id=action.id,
        recommendation_id=action.recommendation_id,
        case_id=action.case_id,
        partnership=view.partnership,
        version=action.version,
        description=action.description,
        lead_agency=view.lead_agency,
        owner=action.owner,
        due_on=action.due_on,
        original_due_on=action.original_due_on,
        due_on_changes=len(view.due_changes),
        slipped_days=(action.due_on - action.original_due_on).days,
        due_on_change_reason=view.due_changes[-1].reason if view.due_changes else None,
        status=action.status,
        rating=action.rating,
        evidence_of_completion=action.evidence_of_completion,
        completed_on=action.completed_on,
        assured_on=action.assured_on,
        assured_by=action.assured_by,
        cancellation_reason=action.cancellation_reason,
        cancelled_on=action.cancelled_on,
        evidence_of_impact=action.evidence_of_impact,
        overdue=overdue_on(
            as_of,
            due_on=view.due_on_as_of(as_of),
            recorded_on=action.recorded_on,
            completed_on=action.completed_on,
            cancelled_on=action.cancelled_on,
        ),
        as_of=as_of,
        recorded_on=action.recorded_on,
        created_at=action.created_at,
        updated_at=action.updated_at,
    )


def recommendation_reads(
    *,
    session: Session,
    recommendations: Sequence[Recommendation],
    partnership: str,
    as_of: date,
) -> list[RecommendationRead]:
    """The recommendations (all of one partnership), each with its actions, soonest due
    first."""
    actions = session.exec(
        select(Action)
        .where(col(Action.recommendation_id).in_([r.id for r in recommendations]))
        .order_by(col(Action.due_on), col(Action.id))
    ).all()
    by_recommendation: dict[uuid.UUID, list[ActionRead]] = {}
    for view in action_views(session=session, actions=actions):
        read = action_read(view, as_of)
        by_recommendation.setdefault(read.recommendation_id, []).append(read)
    return [
        RecommendationRead(
            id=recommendation.id,
            partnership=partnership,
            case_id=recommendation.case_id,
            number=recommendation.number,
            text=recommendation.text,
            source=recommendation.source,
            created_at=recommendation.created_at,
            actions=by_recommendation.get(recommendation.id, []),
        )
        for recommendation in recommendations
    ]
