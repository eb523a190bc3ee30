"""The `partnership` table."""

import uuid
from datetime import datetime
from typing import get_args

from sqlalchemy import JSON, CheckConstraint
from sqlmodel import Field, SQLModel

from review_engine.contributions.rules import DEFAULT_WORKING_DAYS
from review_engine.db import one_of, utcnow
from review_engine.timeline import RapidReviewClockStart

__all__ = ["CODE_PATTERN", "Partnership", "RapidReviewClockStart"]

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
"""A partnership code: a lowercase slug, 2 to 40 characters, e.g. `north-yorkshire`."""


class Partnership(SQLModel, table=True):
    """One Safeguarding Children Partnership (a set of local safeguarding partners)."""

    __tablename__ = "partnership"
    __table_args__ = (
        CheckConstraint(
            one_of("rapid_review_clock_start", get_args(RapidReviewClockStart)),
            name="rapid_review_clock_start",
        ),
        CheckConstraint(
            "contribution_due_working_days BETWEEN 1 AND 60", name="contribution_due_working_days"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    rapid_review_clock_start: str = Field(default="notified", max_length=16)
    # Working days an agency has to return its contribution, unless a request says otherwise.
    contribution_due_working_days: int = Field(default=DEFAULT_WORKING_DAYS)
    # Told by email when an alert to any of the partnership's subscriptions fails for good.
    alert_fallback_email: str | None = Field(default=None, max_length=320)
    # The partnership's website origins (e.g. https://www.wessexvalescp.org.uk): the only
    # ones the public feed's CORS, the embed's frame-ancestors and stylesheets allow.
    website_origins: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    # Any change of its settings: the public feed (which shows its name) changes with it.
    updated_at: datetime = Field(default_factory=utcnow)
