"""API shapes for agencies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from review_engine.text import NoNul

AgencyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    NoNul,
    Field(
        description=(
            "An agency's name as the partnership lists it, e.g. Dorset Police. Matched "
            "without regard to case or repeated spaces."
        ),
        examples=["Dorset Police"],
    ),
]


class AgencyCreate(BaseModel):
    """Add an agency to the partnership's list."""

    model_config = ConfigDict(extra="forbid")

    name: AgencyName


class AgencyRead(BaseModel):
    id: uuid.UUID
    partnership: str = Field(description="The partnership's code.")
    name: str
    created_at: datetime


class AgencyPage(BaseModel):
    """One page of a partnership's agencies, by name."""

    items: list[AgencyRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
