"""What other domains ask about actions (the closure gate of a case)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from review_engine.actions.models import Action
from review_engine.actions.rules import OUTSTANDING_STATUSES


def outstanding_action_ids(*, session: Session, case_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
    """The case's actions not yet assured or cancelled, oldest first (an index lookup)."""
    return tuple(
        session.exec(
            select(Action.id)
            .where(col(Action.case_id) == case_id)
            .where(col(Action.status).in_(OUTSTANDING_STATUSES))
            .order_by(col(Action.created_at), col(Action.id))
        )
    )
