"""The audit trail of everything that is not a case: agencies, recommendations, actions
and agency contributions. (A case keeps its own, `case_history`, keyed by its version.)

One append-only table: who changed what, when, and what the change was, with free-text
values left out (field names and statuses only), so the trail never repeats a narrative.
An entry is added in the transaction of the change it records.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field as ColumnField
from sqlmodel import Session, SQLModel, col, select

from review_engine.auth.models import Principal
from review_engine.db import one_of, utcnow
from review_engine.pagination import decode_cursor, encode_cursor, sequence_number

__all__ = ["AuditEntry", "AuditPage", "Subject", "audit_page", "record"]

Subject = Literal["agency", "recommendation", "action", "contribution"]


class AuditEntry(SQLModel, table=True):
    """One change to one subject, append-only."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        CheckConstraint(one_of("subject_type", get_args(Subject)), name="subject_type"),
        Index("ix_audit_entry_subject", "subject_type", "subject_id", "id"),
    )

    id: int | None = ColumnField(default=None, primary_key=True)
    subject_type: str = ColumnField(max_length=20)
    subject_id: uuid.UUID
    partnership_id: uuid.UUID = ColumnField(foreign_key="partnership.id", index=True)
    version: int  # the subject's version after the change
    at: datetime = ColumnField(default_factory=utcnow)
    actor: str = ColumnField(max_length=100)  # the API key's name
    change: str = ColumnField(max_length=30)  # create | patch | progress_note
    details: dict[str, Any] = ColumnField(default_factory=dict, sa_type=JSON)


def record(
    *,
    session: Session,
    principal: Principal,
    subject: Subject,
    subject_id: uuid.UUID,
    partnership_id: uuid.UUID,
    version: int,
    change: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Adds an entry to the open transaction (the caller commits it with the change)."""
    session.add(
        AuditEntry(
            subject_type=subject,
            subject_id=subject_id,
            partnership_id=partnership_id,
            version=version,
            actor=principal.key_name,
            change=change,
            details=details or {},
        )
    )


class AuditEntryRead(BaseModel):
    """One change: who, when, and what (field names and statuses, not free text)."""

    model_config = ConfigDict(from_attributes=True)

    version: int = Field(description="The version the change produced.")
    at: datetime
    actor: str = Field(description="The name of the API key that made the change.")
    change: str = Field(examples=["patch"])
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def audit_page(
    *, session: Session, subject: Subject, subject_id: uuid.UUID, cursor: str | None, limit: int
) -> AuditPage:
    """A page of the subject's trail, oldest first."""
    query = select(AuditEntry).where(
        col(AuditEntry.subject_type) == subject, col(AuditEntry.subject_id) == subject_id
    )
    if cursor is not None:
        after = decode_cursor(cursor, sequence_number)
        query = query.where(col(AuditEntry.id) > after)
    entries = list(session.exec(query.order_by(col(AuditEntry.id)).limit(limit + 1)))
    next_cursor = encode_cursor([entries[limit - 1].id]) if len(entries) > limit else None
    return AuditPage(
        items=[AuditEntryRead.model_validate(entry) for entry in entries[:limit]],
        next_cursor=next_cursor,
    )
