"""What a case has recorded so far: the dates and decisions the statutory clocks run on.

Part of the pure core (no HTTP, no SQL, no I/O). The workflow fills a `CaseTimeline` in as
events are fired; the clocks read it to compute deadlines. It is immutable: every event
produces a new timeline (`timeline.model_copy(update=...)`), so a refused event can never
leave a half-changed one behind.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IncidentType = Literal["death", "serious_harm", "other"]
Recommendation = Literal["lcspr", "learning_review", "no_further_review", "national_review"]
PanelOutcome = Literal["agreed", "national_review", "challenged"]
PublicationMode = Literal["full", "redacted", "improvements_only"]
ReviewRoute = Literal["lcspr", "learning_review", "no_further_review", "national_review"]


class Pause(BaseModel):
    """An LCSPR pause for parallel criminal or coroner proceedings (the Panel must be told)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    started_on: date
    reason: str
    panel_informed_on: date
    resumed_on: date | None = None


class CaseTimeline(BaseModel):
    """Every date and decision recorded for one case, as the workflow's events set them.

    Field names are the API's field names. `None` means "not recorded yet".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Referral and notification (domain.md §1 steps 1-4)
    aware_on: date
    notified_on: date | None = None
    rapid_review_required: bool | None = None
    partners_informed_on: date | None = None
    not_notified_on: date | None = None
    not_notified_reason: str | None = None

    # Rapid review (steps 5-6). `submitted_on` is the first submission, which the
    # 15-working-day clock measures; a rapid review reopened after a Panel challenge and
    # sent again is recorded in `resubmitted_on`.
    submitted_on: date | None = None
    resubmitted_on: date | None = None
    recommendation: Recommendation | None = None

    # Panel response (step 7) and the partners' decision on the review route (step 8)
    panel_response_on: date | None = None
    panel_outcome: PanelOutcome | None = None
    review_route: ReviewRoute | None = None
    decided_on: date | None = None

    # LCSPR (steps 9-13)
    pauses: tuple[Pause, ...] = ()
    approved_on: date | None = None
    planned_publication_on: date | None = None
    advance_copies_sent_on: date | None = None
    published_on: date | None = None
    publication_mode: PublicationMode | None = None
    publication_url: str | None = None
    publication_title: str | None = None
    late_notice_reason: str | None = None
    withheld_on: date | None = None
    withheld_reason: str | None = None

    # Other routes
    learning_review_started_on: date | None = None
    learning_review_completed_on: date | None = None
    national_review_completed_on: date | None = None
    withdrawn_on: date | None = None
    withdrawn_reason: str | None = None
    closed_on: date | None = None

    # Timescale waivers (e.g. the 2020 national relaxation): clock name -> recorded reason
    waivers: dict[str, str] = Field(default_factory=dict)

    @property
    def is_paused(self) -> bool:
        """True while the latest pause has not been resumed."""
        return bool(self.pauses) and self.pauses[-1].resumed_on is None
