"""The `published_review` table: the public facts of each published review, one row per
case, rewritten with every change to the case (`index.py`), so the public feed reads
indexed columns and never a case's timeline or anything sensitive.

A row stays once its review was published: archiving (or a correction taking the
publication away) sets `listed` false and moves `updated_at`, so a feed's Last-Modified
moves with it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import get_args

from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from review_engine.db import one_of, utcnow
from review_engine.timeline import PublicationMode, PublishedReviewType

__all__ = ["REVIEW_TYPES", "PublishedReview", "ReviewType"]

ReviewType = PublishedReviewType
REVIEW_TYPES: tuple[str, ...] = get_args(ReviewType)


class PublishedReview(SQLModel, table=True):
    __tablename__ = "published_review"
    __table_args__ = (
        CheckConstraint(one_of("review_type", REVIEW_TYPES), name="review_type"),
        CheckConstraint(
            one_of("publication_mode", get_args(PublicationMode)), name="publication_mode"
        ),
        # The feed: a partnership's listed reviews, newest first.
        Index("ix_published_review_feed", "partnership_id", "listed", "published_on", "public_id"),
    )

    case_id: uuid.UUID = Field(foreign_key="review_case.id", primary_key=True, ondelete="CASCADE")
    # The review's public identity (feed entry ids, page cursors): random, so nothing public
    # leads back to the case.
    public_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id")
    listed: bool  # published, and not archived
    review_type: str = Field(max_length=30)
    title: str = Field(max_length=300)
    report_url: str = Field(max_length=2000)
    learning_summary_url: str | None = Field(default=None, max_length=2000)
    publication_mode: str = Field(max_length=20)
    published_on: date
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    archived_on: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)
