"""Tables for recommendations and their actions, the dated moves of an action's due date,
and its progress notes.

`Action.version` is SQLAlchemy's `version_id_col`, as for a case: two writers holding the
same ETag cannot both commit.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ColumnElement, Index, Integer
from sqlmodel import Field, SQLModel, col

from review_engine.actions.rules import RATINGS, RUNNING_STATUSES, SOURCES, STATUSES
from review_engine.db import one_of, utcnow

_action_version = Column("version", Integer, nullable=False)


class Recommendation(SQLModel, table=True):
    """A recommendation of a review: of a case's review, or (with no case) of a national
    review or Panel report the partnership chose to act on."""

    __tablename__ = "recommendation"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source"),
        Index("ix_recommendation_listing", "partnership_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id")
    case_id: uuid.UUID | None = Field(default=None, foreign_key="review_case.id", index=True)
    number: str | None = Field(default=None, max_length=20)
    text: str = Field(max_length=5000)
    source: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class Action(SQLModel, table=True):
    """One action answering a recommendation."""

    __tablename__ = "action"
    __table_args__ = (
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(f"rating IS NULL OR {one_of('rating', RATINGS)}", name="rating"),
        Index("ix_action_due", "due_on", "id"),
        Index("ix_action_case_status", "case_id", "status"),
    )
    __mapper_args__ = {"version_id_col": _action_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recommendation_id: uuid.UUID = Field(foreign_key="recommendation.id", index=True)
    # Copied from the recommendation, so listing and the closure gate need no join.
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id", index=True)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="review_case.id")
    version: int = Field(default=1, sa_column=_action_version)
    description: str = Field(max_length=5000)
    lead_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    owner: str | None = Field(default=None, max_length=200)  # internal: never public
    due_on: date
    original_due_on: date  # the first due date, kept so slippage is never hidden
    status: str = Field(default="open", max_length=20)
    rating: str | None = Field(default=None, max_length=10)
    evidence_of_completion: str | None = Field(default=None, max_length=10000)
    completed_on: date | None = None
    assured_on: date | None = None
    assured_by: str | None = Field(default=None, max_length=200)
    cancellation_reason: str | None = Field(default=None, max_length=4000)
    cancelled_on: date | None = None
    evidence_of_impact: str | None = Field(default=None, max_length=10000)
    recorded_on: date  # the day it was recorded (London), for "as of" replays
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def running_action() -> ColumnElement[bool]:
    """An action still being worked on: what alert detection reads, through the partial
    index below."""
    return col(Action.status).in_(RUNNING_STATUSES)


Index(
    "ix_action_running",
    Action.due_on,  # type: ignore[arg-type]
    sqlite_where=running_action(),
    postgresql_where=running_action(),
)


class ActionDueChange(SQLModel, table=True):
    """One move of an action's due date: when, from what, to what, and why."""

    __tablename__ = "action_due_change"
    __table_args__ = (Index("ix_action_due_change_action", "action_id", "changed_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: uuid.UUID = Field(foreign_key="action.id", ondelete="CASCADE")
    changed_on: date
    from_due_on: date
    to_due_on: date
    reason: str = Field(max_length=4000)
    actor: str = Field(max_length=100)


class ActionUpdate(SQLModel, table=True):
    """A dated progress note on an action."""

    __tablename__ = "action_update"
    __table_args__ = (Index("ix_action_update_action", "action_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: uuid.UUID = Field(foreign_key="action.id", ondelete="CASCADE")
    noted_on: date
    note: str = Field(max_length=10000)
    actor: str = Field(max_length=100)
    recorded_at: datetime = Field(default_factory=utcnow)
