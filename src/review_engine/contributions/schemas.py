"""API shapes for agency contributions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from review_engine.agencies.schemas import AgencyName
from review_engine.contributions.rules import ContributionStage, ContributionStatus
from review_engine.dates import CalendarDate
from review_engine.optional import NotNull, no_default
from review_engine.text import Reason


class ContributionCreate(BaseModel):
    """Ask an agency on the partnership's list for its chronology and summary."""

    model_config = ConfigDict(extra="forbid")

    agency: AgencyName
    requested_on: CalendarDate = Field(description="The day the agency was asked.")
    due_on: CalendarDate | None = Field(
        default=None,
        description=(
            "When it is due; by default the partnership's `contribution_due_working_days` "
            "working days after requested_on (bank holidays do not count)."
        ),
    )
    stage: ContributionStage = Field(
        default="rapid_review", description="What it is for: the rapid review, or a review."
    )


def _optional(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra=no_default)


class ContributionPatch(BaseModel):
    """Record that the contribution arrived, or why it will not; or give more time. A field
    left out keeps its value; null is refused."""

    model_config = ConfigDict(extra="forbid")

    received_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional(
        "The day it arrived (if it had been marked as not coming, that is undone)."
    )
    not_coming_reason: Annotated[Reason | SkipJsonSchema[None], NotNull] = _optional(
        "Why it will not come (e.g. the agency had no involvement)."
    )
    not_coming_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional(
        "With not_coming_reason: the day that was known (default today)."
    )
    due_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional(
        "A new due date (more time given); the first stays original_due_on."
    )


class ContributionRead(BaseModel):
    """A contribution; `status` and `overdue` are as of `as_of`."""

    id: uuid.UUID
    case_id: uuid.UUID
    partnership: str
    agency: str
    stage: ContributionStage
    version: int
    requested_on: date
    due_on: date
    original_due_on: date
    received_on: date | None
    not_coming_reason: str | None
    not_coming_on: date | None
    status: ContributionStatus
    overdue: bool
    as_of: date
    created_at: datetime
    updated_at: datetime


class ContributionPage(BaseModel):
    items: list[ContributionRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
