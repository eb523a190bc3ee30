"""What a case has recorded so far: the dates and decisions the statutory clocks run on.

Part of the pure core (no HTTP, no SQL, no I/O). The workflow fills a `CaseTimeline` in as
events are fired; the clocks read it to compute deadlines. It is immutable: every event
produces a new timeline (`timeline.model_copy(update=...)`), so a refused event can never
leave a half-changed one behind.

`CaseTimeline.as_of(day)` is the timeline as it stood at the end of `day`: everything dated
after it (an event, a pause, a reschedule, a copy sent, a waiver, a decision) is left out.
The clocks evaluate that cut, so deadlines "as of" a past day are a faithful replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IncidentType = Literal["death", "serious_harm", "other"]
ReviewRoute = Literal["lcspr", "learning_review", "no_further_review", "national_review"]
"""The review that follows a rapid review."""
RecommendedRoute = ReviewRoute
"""The review the partners recommend to the Panel with their rapid review."""
PanelOutcome = Literal["agreed", "national_review", "challenged"]
PublicationMode = Literal["full", "redacted", "improvements_only"]
PublishedReviewType = Literal["lcspr", "local_learning_review", "national_review"]
"""Which review a publication reports (the public feed's `review_type`)."""
RapidReviewClockStart = Literal["notified", "aware"]
"""When the 15-working-day rapid review clock starts: on the notification to the Panel (the
Panel's guidance), or when the local authority became aware (a partnership's choice)."""
AdvanceCopyRecipient = Literal["panel", "secretary_of_state", "ofsted"]
ADVANCE_COPY_RECIPIENTS: tuple[AdvanceCopyRecipient, ...] = (
    "panel",
    "secretary_of_state",
    "ofsted",
)
"""Who gets the final report before publication; the notice is complete when all have."""


class IncidentFacts(BaseModel):
    """What the case records about the incident that some workflow rules depend on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident_type: IncidentType
    looked_after: bool | None = None
    care_leaver: bool | None = None

    @property
    def needs_no_rapid_review(self) -> bool:
        """The death of a looked-after child or a care leaver: notified to the Secretary of
        State and Ofsted, but the Panel considers it (and a rapid review follows) only when
        abuse or neglect is known or suspected."""
        return self.incident_type == "death" and bool(self.looked_after or self.care_leaver)


class Pause(BaseModel):
    """An LCSPR pause for parallel criminal or coroner proceedings (the Panel must be told)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    started_on: date
    reason: str
    panel_informed_on: date
    resumed_on: date | None = None


class Reschedule(BaseModel):
    """A move of the planned publication date, and when the Panel was told why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rescheduled_on: date
    planned_publication_on: date
    previous_planned_on: date
    reason: str
    panel_informed_on: date | None = None


class AdvanceCopies(BaseModel):
    """One sending of the final report ahead of publication, and to whom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sent_on: date
    recipients: tuple[AdvanceCopyRecipient, ...]


class Waiver(BaseModel):
    """A timescale that does not apply to this case (e.g. the 2020 relaxation), and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    waived_on: date


class CaseTimeline(BaseModel):
    """Every date and decision recorded for one case, as the workflow's events set them.

    Field names are the API's field names. `None` means "not recorded yet".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Referral and notification (docs/statutory-basis.md: notification, partners informed)
    aware_on: date
    # The partnership's rapid review clock setting in force for this case (kept on the case
    # so a later change of the setting never rewrites a verdict already reached).
    rapid_review_clock_start: RapidReviewClockStart = "notified"
    notified_on: date | None = None
    rapid_review_required: bool | None = None
    partners_informed_on: date | None = None
    not_notified_on: date | None = None
    not_notified_reason: str | None = None
    # New information after a decision not to notify: the notification clock runs again.
    new_information_on: date | None = None

    # Rapid review. `submitted_on` is the first submission, which the 15-working-day clock
    # measures; a rapid review reopened after a Panel challenge and sent again is recorded
    # in `resubmitted_on`.
    submitted_on: date | None = None
    resubmitted_on: date | None = None
    recommendation: RecommendedRoute | None = None

    # Panel response, and the partners' decision on the review route (which starts the
    # LCSPR's six months: it may predate the Panel's reply).
    panel_response_on: date | None = None
    panel_outcome: PanelOutcome | None = None
    review_route: ReviewRoute | None = None
    decided_on: date | None = None
    # The Panel took a national review of a case already in an LCSPR.
    escalated_on: date | None = None

    # LCSPR
    pauses: tuple[Pause, ...] = ()
    approved_on: date | None = None
    planned_publication_on: date | None = None  # the plan in force (after any reschedule)
    reschedules: tuple[Reschedule, ...] = ()
    advance_copies: tuple[AdvanceCopies, ...] = ()
    published_on: date | None = None
    publication_mode: PublicationMode | None = None
    publication_url: str | None = None
    publication_title: str | None = None
    # A page summarising the learning, beside the report (optional, public).
    learning_summary_url: str | None = None
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
    # The published report taken off the public feed (no earlier than keep_published_until).
    archived_on: date | None = None

    # Timescale waivers: clock name -> the waiver (reason and date)
    waivers: dict[str, Waiver] = Field(default_factory=dict)

    @property
    def advance_copies_sent_on(self) -> date | None:
        """The day every recipient had been sent a copy of the report (None until then)."""
        return all_copies_sent_on(self.advance_copies)

    @property
    def published_review_type(self) -> PublishedReviewType:
        """Which review a publication reports: the route that produced it."""
        if self.national_review_completed_on is not None:
            return "national_review"
        if self.learning_review_completed_on is not None:
            return "local_learning_review"
        return "lcspr"

    @property
    def is_paused(self) -> bool:
        """True while the latest pause has not been resumed."""
        return bool(self.pauses) and self.pauses[-1].resumed_on is None

    def as_of(self, day: date) -> CaseTimeline:
        """The timeline as it stood at the end of `day`: nothing dated after it."""
        changes: dict[str, Any] = {}
        for field, companions in DATED_FIELDS.items():
            recorded = getattr(self, field)
            if recorded is not None and recorded > day:
                changes.update({name: _unrecorded(name) for name in (field, *companions)})
        if "approved_on" not in changes:
            changes.update(self._plans_as_of(day))
        changes["pauses"] = tuple(
            pause.model_copy(update={"resumed_on": None})
            if pause.resumed_on is not None and pause.resumed_on > day
            else pause
            for pause in self.pauses
            if pause.started_on <= day
        )
        changes["advance_copies"] = tuple(s for s in self.advance_copies if s.sent_on <= day)
        changes["waivers"] = {
            clock: waiver for clock, waiver in self.waivers.items() if waiver.waived_on <= day
        }
        return self.model_copy(update=changes)

    def _plans_as_of(self, day: date) -> dict[str, Any]:
        kept = [r for r in self.reschedules if r.rescheduled_on <= day]
        later = [r for r in self.reschedules if r.rescheduled_on > day]
        changes: dict[str, Any] = {
            "reschedules": tuple(
                r.model_copy(update={"panel_informed_on": None})
                if r.panel_informed_on is not None and r.panel_informed_on > day
                else r
                for r in kept
            )
        }
        if later:  # the plan in force then is the one the first later move replaced
            changes["planned_publication_on"] = later[0].previous_planned_on
        return changes


# Each dated field of `CaseTimeline`, with the fields recorded together with it: cut
# together by `as_of`. The other fields are itemised (pauses, reschedules, advance copies,
# waivers: cut item by item) or not dated (`TIMELESS_FIELDS`).
DATED_FIELDS: dict[str, tuple[str, ...]] = {
    "notified_on": ("rapid_review_required",),
    "partners_informed_on": (),
    "not_notified_on": ("not_notified_reason",),
    "new_information_on": (),
    "submitted_on": ("recommendation",),
    "resubmitted_on": (),
    "panel_response_on": ("panel_outcome",),
    "decided_on": ("review_route",),
    "escalated_on": (),
    "approved_on": ("planned_publication_on", "reschedules"),
    "published_on": (
        "publication_mode",
        "publication_url",
        "publication_title",
        "learning_summary_url",
        "late_notice_reason",
    ),
    "withheld_on": ("withheld_reason",),
    "learning_review_started_on": (),
    "learning_review_completed_on": (),
    "national_review_completed_on": (),
    "withdrawn_on": ("withdrawn_reason",),
    "closed_on": (),
    "archived_on": (),
}
TIMELESS_FIELDS = frozenset({"aware_on", "rapid_review_clock_start"})
ITEMISED_FIELDS = frozenset({"pauses", "reschedules", "advance_copies", "waivers"})


def _unrecorded(field: str) -> Any:
    """The value of `field` before anything was recorded in it."""
    return CaseTimeline.model_fields[field].get_default(call_default_factory=True)


def all_copies_sent_on(sends: Iterable[AdvanceCopies]) -> date | None:
    """The day every recipient had been sent a copy of the report, or None until then."""
    covered: set[str] = set()
    for send in sends:
        covered.update(send.recipients)
        if covered.issuperset(ADVANCE_COPY_RECIPIENTS):
            return send.sent_on
    return None
