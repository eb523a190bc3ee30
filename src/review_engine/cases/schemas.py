"""API shapes for cases: what clients send and what they get back.

Sensitive fields (`summary`, `children`, `incident_on`, `looked_after`) appear only in
`CaseRead`, the single-case read; lists use `CaseSummary`, and the history never carries
their values.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from review_engine.clocks import ClockName, ClockStatus, Unit
from review_engine.dates import CalendarDate, IsoDate
from review_engine.optional import NotNull, no_default
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.text import NoNul
from review_engine.timeline import IncidentType, RapidReviewClockStart

THEME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
Theme = Annotated[
    str,
    StringConstraints(pattern=THEME_PATTERN),
    Field(description="A lowercase theme tag, e.g. neglect, sudi, criminal_exploitation."),
]
Reference = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._-]*$"
    ),
    Field(description="The partnership's own case reference (unique within the partnership)."),
]
PartnershipCode = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
]
SummaryText = Annotated[str, StringConstraints(max_length=20000), NoNul]

SENSITIVE_CASE_FIELDS = frozenset(
    {"summary", "children", "incident_on", "looked_after", "care_leaver"}
)

# The Panel's notification covers up to 4 children; further children go in free text.
MAX_CHILDREN = 4


class ChildDetails(BaseModel):
    """One child the notification is about. Every field is personal or special-category data."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = None
    other_names: ShortText | None = None
    date_of_birth: IsoDate | None = None
    age_years: int | None = Field(default=None, ge=0, le=25)
    sex: ShortText | None = None
    ethnicity: ShortText | None = None
    disability: ShortText | None = None
    address: Annotated[str, StringConstraints(max_length=500), NoNul] | None = None
    looked_after: bool | None = None
    placement_type: ShortText | None = None
    plan: Literal["child_in_need", "child_protection"] | None = Field(
        default=None, description="A child-in-need or child-protection plan at the time."
    )
    known_to: list[ShortText] = Field(
        default_factory=list, max_length=20, description="Agencies the child was known to."
    )


Themes = Annotated[list[Theme], Field(max_length=12)]
Children = Annotated[list[ChildDetails], Field(max_length=MAX_CHILDREN)]


class CaseCreate(BaseModel):
    """A new referral of a serious child safeguarding incident."""

    model_config = ConfigDict(extra="forbid")

    partnership: PartnershipCode = Field(description="The code of the partnership that leads.")
    reference: Reference
    incident_type: IncidentType
    aware_on: CalendarDate = Field(description="When the local authority became aware (day 0).")
    incident_on: IsoDate | None = Field(default=None, description="When the incident happened.")
    looked_after: bool | None = Field(default=None, description="Was a child looked after?")
    care_leaver: bool | None = Field(
        default=None, description="Was the young person a care leaver (up to 25)?"
    )
    themes: Themes = Field(default_factory=list)
    summary: SummaryText | None = Field(default=None, description="Case outline (sensitive).")
    children: Children = Field(default_factory=list)

    @field_validator("incident_on")
    @classmethod
    def _incident_before_awareness(
        cls, incident_on: date | None, info: ValidationInfo
    ) -> date | None:
        # A field validator (not a model one) so that the error names incident_on.
        aware_on = info.data.get("aware_on")
        if incident_on is not None and aware_on is not None and incident_on > aware_on:
            raise ValueError("cannot be after aware_on")
        return incident_on


class CasePatch(BaseModel):
    """Descriptive fields a member may correct; a field left out keeps its value. Everything
    else is set by events. `themes` and `children` cannot be null (send `[]` to empty
    them); the other fields may be null to clear them."""

    model_config = ConfigDict(extra="forbid")

    themes: Annotated[Themes | SkipJsonSchema[None], NotNull] = Field(
        default=None, json_schema_extra=no_default
    )
    summary: SummaryText | None = None
    children: Annotated[Children | SkipJsonSchema[None], NotNull] = Field(
        default=None, json_schema_extra=no_default
    )
    incident_on: IsoDate | None = None
    looked_after: bool | None = None
    care_leaver: bool | None = None


class DeadlineBasisRead(BaseModel):
    rule: str = Field(description="The rule and its source reference.")
    start_event: str
    start_on: date
    length: int
    unit: Unit
    calendar_version: str
    paused_working_days: int
    waiver_reason: str | None
    waived_on: date | None
    late_notice_reason: str | None
    rapid_review_clock_start: RapidReviewClockStart | None = Field(
        description="rapid_review only: the partnership setting in force for this case."
    )


class DeadlineRead(BaseModel):
    name: ClockName
    kind: Literal["deadline", "constraint"]
    due_on: date
    statutory_due_on: date = Field(description="The due date before any pause extension.")
    status: ClockStatus
    met_on: date | None
    stopped_on: date | None = Field(
        description="When the clock stopped running without being met (status stopped)."
    )
    delay_notified_on: date | None = Field(
        description=(
            "review_publication only: the latest date the Panel and the Secretary of State "
            "were told the reasons for a delay to publication."
        )
    )
    basis: DeadlineBasisRead


class CaseSummary(BaseModel):
    """A case in a list: no sensitive fields."""

    id: uuid.UUID
    partnership: str
    reference: str
    incident_type: IncidentType
    aware_on: date
    state: str
    version: int
    themes: list[str]
    deadlines: list[DeadlineRead]
    created_at: datetime
    updated_at: datetime


class OverdueContribution(BaseModel):
    """An agency's contribution past its due date, neither received nor known not to be
    coming (see `GET /cases/{case_id}/contributions`)."""

    id: uuid.UUID
    agency: str
    due_on: date


class CaseRead(CaseSummary):
    """The whole case, as the single-case read returns it."""

    incident_on: date | None
    looked_after: bool | None
    care_leaver: bool | None
    summary: str | None
    children: list[ChildDetails]
    timeline: dict[str, Any] = Field(description="Every date and decision recorded by events.")
    allowed_events: list[str] = Field(description="Events that may be fired now.")
    outstanding_actions: list[uuid.UUID] = Field(
        description=(
            "The case's actions not yet assured or cancelled, now: while there are any, "
            "`close` is not allowed."
        )
    )
    overdue_contributions: list[OverdueContribution] = Field(
        description="Agency contributions overdue as of `as_of`, soonest due first."
    )
    as_of: date = Field(description="The day deadline statuses are evaluated for.")
    dry_run: bool = Field(
        description="True when this is what an event would do (`?dry_run=true`): nothing "
        "was written."
    )


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(
        description=(
            "Pass as `cursor` for the next page; null on the last. A deadline filter on a "
            "past `as_of` checks a bounded number of cases a request, so its page may be "
            "short, even empty, with more to come."
        )
    )


class HistoryEntryRead(BaseModel):
    version: int
    at: datetime
    actor: str
    action: Literal[
        "create",
        "event",
        "patch",
        "waiver",
        "waiver_withdrawn",
        "setting_changed",
        "publication_archived",
    ]
    event: str | None
    from_state: str | None
    to_state: str
    details: dict[str, Any]


class HistoryPage(BaseModel):
    items: list[HistoryEntryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
