"""API shapes for recommendations, actions and progress notes.

An action's `owner` is internal (a named lead officer): it is shown to API keys, never in
anything public.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from review_engine.actions.rules import ActionStatus, Rating, RecommendationSource
from review_engine.agencies.schemas import AgencyName
from review_engine.dates import CalendarDate
from review_engine.optional import NotNull, no_default
from review_engine.text import NoNul, Reason

LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000), NoNul
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
RecommendationText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), NoNul
]
RecommendationNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20),
    NoNul,
    Field(description="The recommendation's number as the report gives it, e.g. 3 or 2b."),
]

# --- recommendations ------------------------------------------------------------------------


class RecommendationCreate(BaseModel):
    """A recommendation of this case's review."""

    model_config = ConfigDict(extra="forbid")

    text: RecommendationText
    number: RecommendationNumber | None = None
    source: RecommendationSource = Field(description="The review or report that made it.")


class PartnershipRecommendationCreate(RecommendationCreate):
    """A recommendation of a national review or a Panel report the partnership chose to act
    on (a case's own review records its recommendations on the case)."""

    source: Literal["national_review", "panel_report"] = Field(
        description="national_review or panel_report."
    )


class ActionRead(BaseModel):
    """An action as it is now; `overdue` is evaluated as of `as_of`, as the action stood
    that day (the due date then in force; completed or cancelled by then)."""

    id: uuid.UUID
    recommendation_id: uuid.UUID
    case_id: uuid.UUID | None = Field(description="Null for a partnership's recommendation.")
    partnership: str
    version: int
    description: str
    lead_agency: str
    owner: str | None = Field(description="The named lead officer (internal, never public).")
    due_on: date
    original_due_on: date = Field(description="The first due date; it never changes.")
    due_on_changes: int = Field(description="How many times the due date has moved.")
    slipped_days: int = Field(
        description="Calendar days from original_due_on to due_on (negative if brought forward)."
    )
    due_on_change_reason: str | None = Field(description="Why the due date last moved.")
    status: ActionStatus
    rating: Rating | None
    evidence_of_completion: str | None
    completed_on: date | None
    assured_on: date | None
    assured_by: str | None = Field(description="The subgroup that gave assurance.")
    cancellation_reason: str | None
    cancelled_on: date | None
    evidence_of_impact: str | None
    overdue: bool
    as_of: date
    recorded_on: date
    created_at: datetime
    updated_at: datetime


class RecommendationRead(BaseModel):
    id: uuid.UUID
    partnership: str
    case_id: uuid.UUID | None = Field(description="Null for a partnership's recommendation.")
    number: str | None
    text: str
    source: RecommendationSource
    created_at: datetime
    actions: list[ActionRead] = Field(description="Its actions, soonest due first.")


class RecommendationPage(BaseModel):
    items: list[RecommendationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


# --- actions --------------------------------------------------------------------------------


class ActionCreate(BaseModel):
    """A new action on the recommendation; it starts `open`."""

    model_config = ConfigDict(extra="forbid")

    description: LongText
    lead_agency: AgencyName
    owner: Name | None = Field(default=None, description="The named lead officer (internal).")
    due_on: CalendarDate
    rating: Rating | None = None


def _optional(description: str | None = None) -> Any:
    return Field(default=None, description=description, json_schema_extra=no_default)


class ActionPatch(BaseModel):
    """Changes to an action; a field left out keeps its value and null is refused.

    - `completed` needs `evidence_of_completion` (`completed_on` defaults to today).
    - `assured` (managers) needs a completed action plus `assured_on` and `assured_by`.
    - `cancelled` (managers) needs `cancellation_reason` (`cancelled_on` defaults to today).
    - A new `due_on` needs `due_on_change_reason`; the first date stays `original_due_on`.
    - `rating: blue` only for a completed action with evidence of completion.
    - `evidence_of_impact` once the action is completed.
    Assured and cancelled are final: only `evidence_of_impact` (and `rating`) change after.
    """

    model_config = ConfigDict(extra="forbid")

    description: Annotated[LongText | SkipJsonSchema[None], NotNull] = _optional()
    lead_agency: Annotated[AgencyName | SkipJsonSchema[None], NotNull] = _optional()
    owner: Annotated[Name | SkipJsonSchema[None], NotNull] = _optional()
    due_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional()
    due_on_change_reason: Annotated[Reason | SkipJsonSchema[None], NotNull] = _optional(
        "Why the due date moves (required with a new due_on)."
    )
    status: Annotated[ActionStatus | SkipJsonSchema[None], NotNull] = _optional()
    rating: Annotated[Rating | SkipJsonSchema[None], NotNull] = _optional()
    evidence_of_completion: Annotated[LongText | SkipJsonSchema[None], NotNull] = _optional()
    completed_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional(
        "With status completed; defaults to today."
    )
    assured_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional()
    assured_by: Annotated[Name | SkipJsonSchema[None], NotNull] = _optional(
        "The subgroup that gave assurance."
    )
    cancellation_reason: Annotated[Reason | SkipJsonSchema[None], NotNull] = _optional()
    cancelled_on: Annotated[CalendarDate | SkipJsonSchema[None], NotNull] = _optional(
        "With status cancelled; defaults to today."
    )
    evidence_of_impact: Annotated[LongText | SkipJsonSchema[None], NotNull] = _optional(
        "What changed in practice, and how it was checked."
    )


class ActionPage(BaseModel):
    items: list[ActionRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ProgressNoteCreate(BaseModel):
    """A dated progress note on an action."""

    model_config = ConfigDict(extra="forbid")

    note: LongText
    noted_on: CalendarDate | None = Field(
        default=None, description="The day the progress was made (default today)."
    )


class ProgressNoteRead(BaseModel):
    id: int
    action_id: uuid.UUID
    noted_on: date
    note: str
    recorded_by: str = Field(description="The name of the API key that recorded it.")
    recorded_at: datetime


class ProgressNotePage(BaseModel):
    items: list[ProgressNoteRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
