"""The `agency` table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from review_engine.db import utcnow


def name_key(name: str) -> str:
    """What makes two agency names the same: case and spacing do not count."""
    return " ".join(name.split()).casefold()


class Agency(SQLModel, table=True):
    """One agency on a partnership's list."""

    __tablename__ = "agency"
    __table_args__ = (UniqueConstraint("partnership_id", "name_key", name="uq_agency_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id", index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)  # `name_key(name)`: the uniqueness and lookup key
    created_at: datetime = Field(default_factory=utcnow)
