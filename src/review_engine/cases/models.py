"""Case tables: the case itself, its themes, its stored deadlines and its audit history.

`Case.version` is SQLAlchemy's `version_id_col`: every UPDATE carries `WHERE version = ?`, so
two writers holding the same ETag cannot both commit (the loser gets `StaleDataError`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ColumnElement,
    Index,
    Integer,
    UniqueConstraint,
    and_,
)
from sqlmodel import Field, SQLModel, col

from review_engine.db import one_of, utcnow
from review_engine.timeline import IncidentType
from review_engine.workflow import STATES

_case_version = Column("version", Integer, nullable=False)


class Case(SQLModel, table=True):
    """One serious child safeguarding incident in one partnership."""

    __tablename__ = "review_case"  # "case" is a reserved word in SQL
    __table_args__ = (
        UniqueConstraint("partnership_id", "reference", name="uq_review_case_reference"),
        CheckConstraint(one_of("state", STATES), name="state"),
        CheckConstraint(one_of("incident_type", get_args(IncidentType)), name="incident_type"),
        # Every listing is in (created_at, id) order; a filter on one of these columns
        # reads its cases already in that order (no sort of all that match).
        Index("ix_review_case_listing", "created_at", "id"),
        Index("ix_review_case_partnership_listing", "partnership_id", "created_at", "id"),
        Index("ix_review_case_state_listing", "state", "created_at", "id"),
        Index("ix_review_case_reference", "reference"),
    )
    __mapper_args__ = {"version_id_col": _case_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id")
    reference: str = Field(max_length=60)
    incident_type: str = Field(max_length=20)
    aware_on: date
    state: str = Field(default="referred", max_length=30)
    version: int = Field(default=1, sa_column=_case_version)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    # Sensitive (personal and special-category data): read only on the single-case route.
    incident_on: date | None = None
    looked_after: bool | None = None
    care_leaver: bool | None = None
    summary: str | None = Field(default=None, max_length=20000)
    children: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # The recorded dates and decisions (`CaseTimeline` as JSON); events replace it whole.
    timeline: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseTheme(SQLModel, table=True):
    """A case's themes, one row each, so `GET /cases?theme=` is an indexed lookup."""

    __tablename__ = "case_theme"

    case_id: uuid.UUID = Field(foreign_key="review_case.id", primary_key=True, ondelete="CASCADE")
    theme: str = Field(primary_key=True, max_length=40, index=True)


class CaseDeadline(SQLModel, table=True):
    """A clock's due date as last computed, so "what is overdue as of D" is an index scan.

    Rewritten in the same transaction as every change that can move a deadline.
    """

    __tablename__ = "case_deadline"
    __table_args__ = (
        UniqueConstraint("case_id", "name", name="uq_case_deadline_clock"),
        Index("ix_case_deadline_open", "due_on", "met_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="review_case.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    due_on: date
    statutory_due_on: date
    met_on: date | None = None
    stopped_on: date | None = None
    waived: bool = False
    paused: bool = False
    start_event: str = Field(max_length=40)
    start_on: date
    calendar_version: str = Field(max_length=200)
    computed_at: datetime = Field(default_factory=utcnow)


def running_deadline() -> ColumnElement[bool]:
    """A stored deadline row still running: not met, stopped, waived or paused, and a
    deadline (not a constraint). What alert detection reads, through the partial index
    below, so its cost grows with the deadlines running, not with every case recorded."""
    return and_(
        col(CaseDeadline.met_on).is_(None),
        col(CaseDeadline.stopped_on).is_(None),
        col(CaseDeadline.waived).is_(False),
        col(CaseDeadline.paused).is_(False),
        col(CaseDeadline.kind) == "deadline",
    )


Index(
    "ix_case_deadline_running",
    CaseDeadline.due_on,  # type: ignore[arg-type]
    sqlite_where=running_deadline(),
    postgresql_where=running_deadline(),
)


class CaseHistoryEntry(SQLModel, table=True):
    """One change to a case, append-only: who, when, what, and the state before and after."""

    __tablename__ = "case_history"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_case_history_version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="review_case.id", index=True, ondelete="CASCADE")
    version: int  # the case version this change produced
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=100)  # the API key's name
    action: str = Field(max_length=20)  # create | event | patch
    event: str | None = Field(default=None, max_length=40)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str = Field(max_length=30)
    # Event data or changed field names, with sensitive values left out.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
