"""What each review workflow event must carry, and the checks it must pass against the case.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). One pydantic model per
event of `review_engine.workflow`; the API publishes them as the OpenAPI request bodies, so
every field has a description. Checking an event's data happens in two steps:

1. the model itself: types, required fields, allowed values, non-empty reasons, URLs and
   unknown fields (`extra="forbid"`);
2. `EventPayload.problems(timeline)`: rules that need more than one field or the case's
   timeline, mostly chronology ("a rapid review cannot be submitted before the Panel was
   notified"). Each problem names the payload field to correct.

The payloads are split by concern: `review_engine.workflow.payloads` holds the
`EventPayload` base, `FieldError` and the shared field types;
`review_engine.workflow.publication` the publication stage's payloads (final report
to publication or withholding). This module holds the other events' payloads and the
`PAYLOAD_SCHEMAS` registry, and re-exports the rest: import any of them from here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Self

from pydantic import Field, model_validator

from review_engine.calendar import Calendar
from review_engine.dates import CalendarDate
from review_engine.timeline import (
    CaseTimeline,
    IncidentFacts,
    PanelOutcome,
    PublicationMode,
    RecommendedRoute,
    ReviewRoute,
)
from review_engine.workflow.payloads import (
    EventPayload,
    FieldError,
    PublicTitle,
    PublicUrl,
    Reason,
    _on_or_after,
)
from review_engine.workflow.publication import (
    ADVANCE_COPIES_WORKING_DAYS,
    PUBLICATION_EVENTS,
    PUBLICATION_PAYLOADS,
    ApproveFinalReportPayload,
    PublishPayload,
    ReschedulePublicationPayload,
    SendAdvanceCopiesPayload,
    WithholdPublicationPayload,
)

__all__ = [
    "ADVANCE_COPIES_WORKING_DAYS",
    "PUBLICATION_EVENTS",
    "PAYLOAD_SCHEMAS",
    "ApproveFinalReportPayload",
    "ClosePayload",
    "CompleteLearningReviewPayload",
    "CompleteNationalReviewPayload",
    "DecideNotToNotifyPayload",
    "EscalateToNationalReviewPayload",
    "EventPayload",
    "FieldError",
    "InformPartnersPayload",
    "NotifyPanelPayload",
    "PauseLcsprPayload",
    "PublicTitle",
    "PublicUrl",
    "PublishPayload",
    "Reason",
    "RecordPanelResponsePayload",
    "ReschedulePublicationPayload",
    "ResumeLcsprPayload",
    "SendAdvanceCopiesPayload",
    "StartLearningReviewPayload",
    "SubmitRapidReviewPayload",
    "WithdrawPayload",
    "WithholdPublicationPayload",
]


def _latest_recorded(timeline: CaseTimeline) -> tuple[str, date]:
    """The latest date the case has actually recorded, and the timeline field holding it.

    Planned dates are left out: they are intentions, not things that happened.
    """
    dates: list[tuple[date, str]] = []
    for name, value in timeline:
        if isinstance(value, date) and name != "planned_publication_on":
            dates.append((value, name))
    for pause in timeline.pauses:
        dates.append((pause.started_on, "pauses.started_on"))
        if pause.resumed_on is not None:
            dates.append((pause.resumed_on, "pauses.resumed_on"))
    for move in timeline.reschedules:
        dates.append((move.rescheduled_on, "reschedules.rescheduled_on"))
        if move.panel_informed_on is not None:
            dates.append((move.panel_informed_on, "reschedules.panel_informed_on"))
    dates.extend((send.sent_on, "advance_copies.sent_on") for send in timeline.advance_copies)
    latest_on, field = max(dates)
    return field, latest_on


class NotifyPanelPayload(EventPayload):
    """The local authority notified the national Panel of a serious incident (also after a
    decision not to notify, when new information arrives)."""

    notified_on: CalendarDate = Field(
        description="Date the notification (SIN) was sent to the Panel."
    )
    rapid_review_required: bool = Field(
        True,
        description=(
            "False only for the death of a child the case records as looked after or as a "
            "care leaver (set looked_after or care_leaver on the case first), with no abuse "
            "or neglect known or suspected: no rapid review follows and the case closes on "
            "the notification date."
        ),
    )
    new_information_on: CalendarDate | None = Field(
        None,
        description=(
            "Required after a decision not to notify, and only then: the date new "
            "information showed the incident does meet the criteria. The 5-working-day "
            "notification clock runs again from this date."
        ),
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        decided_on = timeline.not_notified_on
        if decided_on is None and self.new_information_on is not None:
            yield FieldError(
                "new_information_on", "only after a decision not to notify: leave it out"
            )
        elif decided_on is not None and self.new_information_on is None:
            yield FieldError(
                "new_information_on",
                f"required: the partners decided not to notify on {decided_on.isoformat()}; "
                "give the date new information arrived",
            )
        yield _on_or_after(
            "new_information_on",
            self.new_information_on,
            decided_on,
            "the decision not to notify",
        )
        yield _on_or_after(
            "notified_on", self.notified_on, self.new_information_on, "new_information_on"
        )

    def _check_incident(self, incident: IncidentFacts | None) -> Iterator[FieldError | None]:
        if not self.rapid_review_required and not (incident and incident.needs_no_rapid_review):
            yield FieldError(
                "rapid_review_required",
                "may be false only for the death of a child recorded as looked after or as a "
                "care leaver; record incident_type death with looked_after or care_leaver on "
                "the case first, or leave it out",
            )


class InformPartnersPayload(EventPayload):
    """The local authority told the local safeguarding partners about the incident."""

    partners_informed_on: CalendarDate = Field(
        description="Date the safeguarding partners were told."
    )


class DecideNotToNotifyPayload(EventPayload):
    """The partners decided the incident does not meet the criteria for notifying the Panel."""

    decided_on: CalendarDate = Field(description="Date of the decision not to notify.")
    reason: Reason = Field(description="Why the notification criteria are not met.")


class SubmitRapidReviewPayload(EventPayload):
    """The partners sent their rapid review, with their recommendation, to the Panel."""

    submitted_on: CalendarDate = Field(description="Date the rapid review was sent to the Panel.")
    recommendation: RecommendedRoute = Field(
        description="The partners' recommendation on what review should follow."
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "submitted_on", self.submitted_on, timeline.notified_on, "the Panel notification"
        )
        # A resubmission answers the Panel's challenge, so it cannot predate that response.
        if timeline.submitted_on is not None:
            yield _on_or_after(
                "submitted_on",
                self.submitted_on,
                timeline.panel_response_on,
                "the Panel's challenge",
            )


class RecordPanelResponsePayload(EventPayload):
    """The Panel replied to the rapid review: agreed, challenged, or took a national review."""

    received_on: CalendarDate = Field(description="Date the Panel's response was received.")
    outcome: PanelOutcome = Field(
        description=(
            "agreed: the partners' recommendation stands; challenged: the rapid review "
            "reopens; national_review: the Panel takes a national review."
        )
    )
    decided_on: CalendarDate | None = Field(
        None,
        description=(
            "Date the safeguarding partners decided the review route: this starts the "
            "LCSPR's 6-month clock. Their decision normally travels with the rapid review, "
            "so give it when it predates the Panel's reply (any day from the submission of "
            "the rapid review that carried the recommendation). Defaults to received_on; "
            "not allowed when the outcome is challenged."
        ),
    )
    recommendation: RecommendedRoute | None = Field(
        None,
        description=(
            "The partners' new recommendation, only with outcome agreed. Required when they "
            "recommended a national review and the Panel did not take one."
        ),
    )

    @model_validator(mode="after")
    def _decided_when_received(self) -> RecordPanelResponsePayload:
        # Defaulted here (not in `problems`) so the recorded payload shows the date used.
        if self.decided_on is None and self.outcome != "challenged":
            self.decided_on = self.received_on
        return self

    def review_route(self, timeline: CaseTimeline) -> ReviewRoute | None:
        """The route this response decides, or `None` when the rapid review reopens."""
        if self.outcome == "challenged":
            return None
        if self.outcome == "national_review":
            return "national_review"
        return self.recommendation or timeline.recommendation

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "received_on",
            self.received_on,
            timeline.resubmitted_on or timeline.submitted_on,
            "the latest rapid review submission",
        )
        if self.decided_on != self.received_on:  # else checked as received_on just above
            yield _on_or_after(
                "decided_on",
                self.decided_on,
                timeline.resubmitted_on or timeline.submitted_on,
                "the submission of the rapid review that carried the recommendation",
            )
        # Left unset by the default when challenged, so a date here was given explicitly.
        if self.outcome == "challenged" and self.decided_on is not None:
            yield FieldError("decided_on", "no review route is decided when the Panel challenges")
        if self.outcome != "agreed":
            if self.recommendation is not None:
                yield FieldError(
                    "recommendation",
                    "a new recommendation goes with outcome agreed only (after a challenge "
                    "it comes with the resubmitted rapid review)",
                )
        elif self.recommendation == "national_review":
            yield FieldError(
                "recommendation",
                "cannot be national_review when the Panel agrees: a national review is the "
                "Panel's to take (outcome national_review)",
            )
        elif self.review_route(timeline) in (None, "national_review"):
            yield FieldError(
                "recommendation",
                "the partners recommended a national review and the Panel has not taken "
                "one: give their new recommendation (lcspr, learning_review or "
                "no_further_review)",
            )


class PauseLcsprPayload(EventPayload):
    """The LCSPR pauses for parallel criminal or coroner proceedings."""

    started_on: CalendarDate = Field(description="Date the pause started.")
    reason: Reason = Field(description="Why the review is paused (e.g. a criminal trial).")
    panel_informed_on: CalendarDate = Field(description="Date the Panel was told about the pause.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "started_on", self.started_on, timeline.decided_on, "the decision to hold the LCSPR"
        )
        if timeline.pauses:
            yield _on_or_after(
                "started_on",
                self.started_on,
                timeline.pauses[-1].resumed_on,
                "the end of the previous pause",
            )


class ResumeLcsprPayload(EventPayload):
    """The paused LCSPR resumes."""

    resumed_on: CalendarDate = Field(description="Date the review resumed.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        if not timeline.is_paused:
            # Only a stored case whose state and timeline disagree gets here.
            yield FieldError("resumed_on", "the case's timeline has no open pause to resume")
            return
        yield _on_or_after(
            "resumed_on", self.resumed_on, timeline.pauses[-1].started_on, "the pause's start"
        )


class EscalateToNationalReviewPayload(EventPayload):
    """The Panel takes a national review of a case already in an LCSPR: the LCSPR's
    six-month clock stops and the partners contribute to the national review."""

    decided_on: CalendarDate = Field(
        description="Date the Panel decided to take a national review."
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        field, latest = _latest_recorded(timeline)
        yield _on_or_after("decided_on", self.decided_on, latest, f"the case's {field}")


class StartLearningReviewPayload(EventPayload):
    """A local learning review starts for a case that was not notified to the Panel."""

    started_on: CalendarDate = Field(description="Date the local learning review started.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "started_on", self.started_on, timeline.not_notified_on, "the decision not to notify"
        )


_PUBLICATION_FIELDS = ("published_on", "url", "title")


class OptionalPublication(EventPayload):
    """A review that may end published: its publication fields, all or none."""

    published_on: CalendarDate | None = Field(
        None, description="Date of publication, if published (with url and title)."
    )
    url: PublicUrl | None = Field(None, description="Public address, if published.")
    title: PublicTitle | None = Field(
        None,
        description=("Public title, if published (a pseudonym such as 'Child T', never a name)."),
    )
    mode: PublicationMode | None = Field(
        None, description="How it was published, if published. Defaults to full."
    )
    learning_summary_url: PublicUrl | None = Field(
        None, description="A public page summarising the learning, if there is one."
    )

    @model_validator(mode="after")
    def _published_in_full_unless_said(self) -> Self:
        if self.published_on is not None and self.mode is None:
            self.mode = "full"
        return self

    def publication(self) -> dict[str, Any]:
        """The timeline fields this payload records when it carries a publication."""
        if self.published_on is None:
            return {}
        return {
            "published_on": self.published_on,
            "publication_mode": self.mode,
            "publication_url": self.url,
            "publication_title": self.title,
            "learning_summary_url": self.learning_summary_url,
        }

    def _publication_problems(
        self, started_on: date | None, started: str
    ) -> Iterator[FieldError | None]:
        yield _on_or_after("published_on", self.published_on, started_on, started)
        given = [name for name in _PUBLICATION_FIELDS if getattr(self, name) is not None]
        if given and len(given) < len(_PUBLICATION_FIELDS):
            for name in _PUBLICATION_FIELDS:
                if name not in given:
                    yield FieldError(
                        name,
                        "a publication needs published_on, url and title together; "
                        f"got {', '.join(given)}",
                    )
        if not given:
            for name in ("mode", "learning_summary_url"):
                if getattr(self, name) is not None:
                    yield FieldError(name, "only with a publication (published_on, url and title)")


class CompleteLearningReviewPayload(OptionalPublication):
    """The local learning review finished; publishing it is optional."""

    completed_on: CalendarDate = Field(description="Date the learning review was completed.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        # Reached from a Panel agreement the review has no start of its own: it began with
        # the decision.
        started_on = timeline.learning_review_started_on or timeline.decided_on
        started = "the learning review's start"
        yield _on_or_after("completed_on", self.completed_on, started_on, started)
        yield from self._publication_problems(started_on, started)


class CompleteNationalReviewPayload(OptionalPublication):
    """The Panel's national review (to which the partners contributed) finished; give its
    publication fields once its report is published, for the partnership's public feed."""

    completed_on: CalendarDate = Field(description="Date the national review was completed.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        started_on = timeline.escalated_on or timeline.decided_on
        started = "the Panel's decision to take a national review"
        yield _on_or_after("completed_on", self.completed_on, started_on, started)
        yield from self._publication_problems(started_on, started)


class WithdrawPayload(EventPayload):
    """The notification is withdrawn: the incident turned out not to meet the criteria."""

    reason: Reason = Field(description="Why the notification is withdrawn.")
    withdrawn_on: CalendarDate = Field(description="Date of the withdrawal.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        field, latest = _latest_recorded(timeline)
        yield _on_or_after("withdrawn_on", self.withdrawn_on, latest, f"the case's {field}")


class ClosePayload(EventPayload):
    """The case closes: actions complete and assured, or nothing further to do."""

    closed_on: CalendarDate = Field(description="Date the case was closed.")

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        field, latest = _latest_recorded(timeline)
        yield _on_or_after("closed_on", self.closed_on, latest, f"the case's {field}")


PAYLOAD_SCHEMAS: dict[str, type[EventPayload]] = {
    "notify_panel": NotifyPanelPayload,
    "inform_partners": InformPartnersPayload,
    "decide_not_to_notify": DecideNotToNotifyPayload,
    "submit_rapid_review": SubmitRapidReviewPayload,
    "record_panel_response": RecordPanelResponsePayload,
    "pause": PauseLcsprPayload,
    "resume": ResumeLcsprPayload,
    "escalate_to_national_review": EscalateToNationalReviewPayload,
    **PUBLICATION_PAYLOADS,
    "start_learning_review": StartLearningReviewPayload,
    "complete_learning_review": CompleteLearningReviewPayload,
    "complete_national_review": CompleteNationalReviewPayload,
    "withdraw": WithdrawPayload,
    "close": ClosePayload,
}
