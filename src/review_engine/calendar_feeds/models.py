"""The `calendar_feed` table: who may read which partnerships' deadlines by URL. Only a
hash of the URL's token is kept; the token itself is shown once, when the feed is made."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from review_engine.db import utcnow

__all__ = ["CalendarFeed"]


class CalendarFeed(SQLModel, table=True):
    __tablename__ = "calendar_feed"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 of the token, hex
    partnerships: list[str] = Field(default_factory=list, sa_type=JSON)  # their codes
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
