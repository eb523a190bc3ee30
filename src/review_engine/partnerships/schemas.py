"""Request and response bodies for `/partnerships`."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from review_engine.alerts.targets import EMAIL_PATTERN
from review_engine.contributions.rules import DEFAULT_WORKING_DAYS
from review_engine.optional import NotNull
from review_engine.partnerships.models import CODE_PATTERN, RapidReviewClockStart
from review_engine.text import NoNul

ContributionDays = Annotated[
    int,
    Field(
        ge=1,
        le=60,
        description=(
            "Working days an agency has to return its contribution to a review, counted "
            "from the request on the clocks' calendar (a request may set its own due date)."
        ),
    ),
]
FallbackEmail = Annotated[
    str,
    # Not stripped: the pattern (what the OpenAPI document says) is checked as sent.
    StringConstraints(max_length=254, pattern=f"({EMAIL_PATTERN})|^$"),
    Field(
        description=(
            "Where to say so when an alert about this partnership cannot be delivered (its "
            "retries ran out, or its target answered 410 Gone): an email address, or an empty "
            "string for nowhere. Needs the deployment's mail server."
        ),
        examples=["safeguarding.business@north-shire.example"],
    ),
]
ORIGIN_PATTERN = r"^https?://[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$"
"""A web origin in lower case: scheme, host and optional port; no path, no trailing slash."""
WebsiteOrigins = Annotated[
    list[Annotated[str, StringConstraints(pattern=ORIGIN_PATTERN, max_length=200)]],
    Field(
        max_length=10,
        description=(
            "The partnership's website origins, e.g. https://www.wessexvalescp.org.uk: the "
            "only sites whose pages may read the public JSON feed from a browser (CORS), "
            "frame the embeddable list, and style it. [] for none."
        ),
        examples=[["https://www.north-shire-scp.example"]],
    ),
]
PartnershipName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul
]


class PartnershipCreate(BaseModel):
    """Register a partnership."""

    # Unknown fields are rejected, not ignored: a typo must not silently drop a setting.
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, examples=["north-shire"])
    name: PartnershipName = Field(examples=["North Shire Safeguarding Children Partnership"])
    rapid_review_clock_start: RapidReviewClockStart = "notified"
    contribution_due_working_days: ContributionDays = DEFAULT_WORKING_DAYS


class PartnershipUpdate(BaseModel):
    """Change a partnership's settings; omitted fields keep their value (null is refused).
    The code is fixed."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[PartnershipName | SkipJsonSchema[None], NotNull] = None
    rapid_review_clock_start: Annotated[RapidReviewClockStart | SkipJsonSchema[None], NotNull] = (
        None
    )
    contribution_due_working_days: Annotated[ContributionDays | SkipJsonSchema[None], NotNull] = (
        None
    )
    alert_fallback_email: Annotated[FallbackEmail | SkipJsonSchema[None], NotNull] = None
    website_origins: Annotated[WebsiteOrigins | SkipJsonSchema[None], NotNull] = None


class PartnershipRead(BaseModel):
    """A partnership as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    rapid_review_clock_start: RapidReviewClockStart
    contribution_due_working_days: int
    alert_fallback_email: str | None = Field(
        description="Told by email when an alert about this partnership cannot be delivered."
    )
    website_origins: list[str] = Field(
        description="The sites allowed to read, frame and style the public feed."
    )
    created_at: datetime


class PartnershipPage(BaseModel):
    """One page of partnerships, ordered by code."""

    items: list[PartnershipRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
