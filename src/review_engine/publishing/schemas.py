"""The public feed's shapes: allow-lists written for the public, not filtered copies of
internal models. Each field is one a published review already shows on the partnership's
website (docs/statutory-basis.md#public-feed); `extra="forbid"` makes adding anything else
a deliberate change here, never a side effect of an internal model growing a field."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from review_engine.dates import CalendarDate
from review_engine.publishing.models import ReviewType
from review_engine.timeline import PublicationMode

__all__ = [
    "MODE_LABELS",
    "REVIEW_TYPE_LABELS",
    "ArchivePublication",
    "PublicPartnership",
    "PublicReview",
    "PublicReviewPage",
]

_PUBLIC = ConfigDict(extra="forbid", frozen=True)

REVIEW_TYPE_LABELS = {
    "lcspr": "Local child safeguarding practice review",
    "local_learning_review": "Local learning review",
    "national_review": "National review",
}
MODE_LABELS = {
    "full": "Full report",
    "redacted": "Redacted report",
    "improvements_only": "Information on improvements",
}
"""How a person reads a review type and a publication mode (feeds, the embed page)."""


class PublicReview(BaseModel):
    """One published review, as the partnership's website lists it."""

    model_config = _PUBLIC

    title: str = Field(description="The public title, a pseudonym such as 'Child T'.")
    review_type: ReviewType = Field(
        description=(
            "lcspr: a local child safeguarding practice review; local_learning_review; "
            "national_review: a national review by the Panel."
        )
    )
    partnership: str = Field(description="The partnership's code.")
    published_on: date
    publication_mode: PublicationMode = Field(
        description="full, redacted, or improvements_only (only the improvements published)."
    )
    themes: list[str]
    report_url: str = Field(description="Where the report is published.")
    learning_summary_url: str | None = Field(
        description="A page summarising the learning, if there is one."
    )


class PublicPartnership(BaseModel):
    model_config = _PUBLIC

    code: str
    name: str


class PublicReviewPage(BaseModel):
    """A partnership's published reviews, newest first."""

    model_config = _PUBLIC

    partnership: PublicPartnership
    items: list[PublicReview]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class ArchivePublication(BaseModel):
    """Take a published review off the public feed (no earlier than a year after it was
    published: `keep_published_until`)."""

    model_config = ConfigDict(extra="forbid")

    archived_on: CalendarDate = Field(description="Date the report came off the website.")
