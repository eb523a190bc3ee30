"""The `contribution` table: one agency asked for its contribution to one case's review."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    Index,
    Integer,
    UniqueConstraint,
    and_,
)
from sqlmodel import Field, SQLModel, col

from review_engine.contributions.rules import STAGES
from review_engine.db import one_of, utcnow

_contribution_version = Column("version", Integer, nullable=False)


class Contribution(SQLModel, table=True):
    """An agency's chronology and summary for a rapid review or review."""

    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint(one_of("stage", STAGES), name="stage"),
        CheckConstraint(
            "received_on IS NULL OR not_coming_on IS NULL", name="received_or_not_coming"
        ),
        UniqueConstraint("case_id", "agency_id", "stage", name="uq_contribution_request"),
        Index("ix_contribution_listing", "partnership_id", "due_on", "id"),
    )
    __mapper_args__ = {"version_id_col": _contribution_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="review_case.id", index=True)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id")
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    stage: str = Field(default="rapid_review", max_length=20)
    version: int = Field(default=1, sa_column=_contribution_version)
    requested_on: date
    due_on: date
    original_due_on: date
    received_on: date | None = None
    not_coming_reason: str | None = Field(default=None, max_length=4000)
    not_coming_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def outstanding_contribution() -> ColumnElement[bool]:
    """A contribution neither received nor known not to be coming: what the chasers (alert
    detection) read, through the partial index below."""
    return and_(col(Contribution.received_on).is_(None), col(Contribution.not_coming_on).is_(None))


Index(
    "ix_contribution_outstanding",
    Contribution.due_on,  # type: ignore[arg-type]
    sqlite_where=outstanding_contribution(),
    postgresql_where=outstanding_contribution(),
)
