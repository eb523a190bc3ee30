"""What the publication-stage events of an LCSPR must carry, and their checks against the case.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). The payloads from the final
report's approval to its publication or withholding (`approve_final_report`,
`send_advance_copies`, `reschedule_publication`, `publish`, `withhold_publication`) and the
advance-copies notice they are checked against. `review_engine.workflow.events` registers
them in `PAYLOAD_SCHEMAS` and re-exports them, with the two steps of checking described there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from review_engine.calendar import Calendar, CalendarRangeError
from review_engine.dates import CalendarDate
from review_engine.timeline import (
    ADVANCE_COPY_RECIPIENTS,
    AdvanceCopyRecipient,
    CaseTimeline,
    PublicationMode,
)
from review_engine.workflow.payloads import (
    EventPayload,
    FieldError,
    PublicTitle,
    PublicUrl,
    Reason,
    _on_or_after,
)

__all__ = [
    "ADVANCE_COPIES_WORKING_DAYS",
    "PUBLICATION_EVENTS",
    "PUBLICATION_PAYLOADS",
    "ApproveFinalReportPayload",
    "PublishPayload",
    "ReschedulePublicationPayload",
    "SendAdvanceCopiesPayload",
    "WithholdPublicationPayload",
]

# The report goes to the Panel and the Secretary of State (and Ofsted) at least 7 working
# days before publication (docs/statutory-basis.md#advance-copies).
ADVANCE_COPIES_WORKING_DAYS = 7


def _each_once(recipients: list[AdvanceCopyRecipient]) -> list[AdvanceCopyRecipient]:
    if len(set(recipients)) != len(recipients):
        raise ValueError("name each recipient once")
    return recipients


class ApproveFinalReportPayload(EventPayload):
    """The partners signed off the LCSPR's final report."""

    approved_on: CalendarDate = Field(description="Date the final report was approved.")
    planned_publication_on: CalendarDate = Field(
        description="Date the report is planned to be published."
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "approved_on", self.approved_on, timeline.decided_on, "the decision to hold the LCSPR"
        )
        if timeline.pauses:
            yield _on_or_after(
                "approved_on",
                self.approved_on,
                timeline.pauses[-1].resumed_on,
                "the end of the last pause",
            )
        yield _on_or_after(
            "planned_publication_on", self.planned_publication_on, self.approved_on, "approved_on"
        )


class SendAdvanceCopiesPayload(EventPayload):
    """The report went to the Panel, the Secretary of State and Ofsted ahead of publication."""

    sent_on: CalendarDate = Field(
        description=(
            "Date the advance copies were sent; at least 7 working days before publication. "
            "The notice is given on the day the last of the three recipients had a copy."
        )
    )
    recipients: Annotated[
        list[AdvanceCopyRecipient],
        Field(min_length=1, json_schema_extra={"uniqueItems": True}),
        AfterValidator(_each_once),
    ] = Field(
        default_factory=lambda: list(ADVANCE_COPY_RECIPIENTS),
        description="Who was sent a copy this time; all three when left out.",
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        yield _on_or_after(
            "sent_on", self.sent_on, timeline.approved_on, "the final report's approval"
        )
        if timeline.advance_copies:
            yield _on_or_after(
                "sent_on",
                self.sent_on,
                timeline.advance_copies[-1].sent_on,
                "the copies sent before",
            )


class ReschedulePublicationPayload(EventPayload):
    """The planned publication date moved (e.g. to wait for a trial or an inquest)."""

    rescheduled_on: CalendarDate = Field(
        description="Date the decision to move publication was made."
    )
    planned_publication_on: CalendarDate = Field(description="The new planned publication date.")
    reason: Reason = Field(description="Why publication moved.")
    panel_informed_on: CalendarDate | None = Field(
        None,
        description=(
            "Date the Panel and the Secretary of State were told the reasons for the delay; "
            "shown as delay_notified_on on the review_publication deadline."
        ),
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        approved = "the final report's approval"
        if timeline.planned_publication_on is None:
            # Only a stored case whose state and timeline disagree gets here.
            yield FieldError("planned_publication_on", "the case has no planned date to move")
        yield _on_or_after("rescheduled_on", self.rescheduled_on, timeline.approved_on, approved)
        if timeline.reschedules:
            yield _on_or_after(
                "rescheduled_on",
                self.rescheduled_on,
                timeline.reschedules[-1].rescheduled_on,
                "the previous rescheduling",
            )
        yield _on_or_after(
            "planned_publication_on",
            self.planned_publication_on,
            self.rescheduled_on,
            "rescheduled_on",
        )
        yield _on_or_after(
            "panel_informed_on", self.panel_informed_on, timeline.approved_on, approved
        )


class PublishPayload(EventPayload):
    """The report (or the information on improvements) was published."""

    published_on: CalendarDate = Field(description="Date of publication.")
    mode: PublicationMode = Field(
        description=(
            "full: the whole report; redacted: anonymised or partly withheld; "
            "improvements_only: only the information on improvements."
        )
    )
    url: PublicUrl = Field(description="Public address of the published report.")
    title: PublicTitle = Field(
        description="Public title of the report (a pseudonym such as 'Child T', never a name)."
    )
    learning_summary_url: PublicUrl | None = Field(
        None, description="A public page summarising the learning, if there is one."
    )
    late_notice_reason: Reason | None = Field(
        None,
        description=(
            "Why publication went ahead although the advance copies went later than 7 "
            "working days before published_on. Required then, and only then."
        ),
    )

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        sent_on = timeline.advance_copies_sent_on
        if sent_on is None:  # the event's guard refuses publishing before copies went
            return
        too_early = _on_or_after(
            "published_on", self.published_on, sent_on, "the date advance copies were sent"
        )
        if too_early is not None:
            yield too_early
            return
        try:
            latest = calendar.add_working_days(self.published_on, -ADVANCE_COPIES_WORKING_DAYS)
        except CalendarRangeError as exc:
            yield FieldError("published_on", str(exc))
            return
        if sent_on > latest and self.late_notice_reason is None:
            yield FieldError(
                "late_notice_reason",
                f"advance copies went on {sent_on.isoformat()}, but for publication on "
                f"{self.published_on.isoformat()} they should have gone by "
                f"{latest.isoformat()} ({ADVANCE_COPIES_WORKING_DAYS} working days before); "
                "give late_notice_reason to publish anyway, or publish later",
            )
        elif sent_on <= latest and self.late_notice_reason is not None:
            # The clocks read a recorded reason as "late but excused", so an on-time
            # notice must not carry one.
            yield FieldError(
                "late_notice_reason",
                f"advance copies went on {sent_on.isoformat()}, in time for publication on "
                f"{self.published_on.isoformat()} (by {latest.isoformat()}); leave it out",
            )


class WithholdPublicationPayload(EventPayload):
    """Publishing was judged inappropriate; the Panel and Secretary of State were given reasons."""

    reason: Reason = Field(description="Why the report is not published.")
    panel_informed_on: CalendarDate = Field(
        description="Date the Panel and Secretary of State were given the reasons."
    )
    withheld_on: CalendarDate | None = Field(
        None, description="Date of the decision to withhold. Defaults to panel_informed_on."
    )

    @model_validator(mode="after")
    def _withheld_when_informed(self) -> WithholdPublicationPayload:
        if self.withheld_on is None:
            self.withheld_on = self.panel_informed_on
        return self

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        approved = "the final report's approval"
        yield _on_or_after("withheld_on", self.withheld_on, timeline.approved_on, approved)
        yield _on_or_after(
            "panel_informed_on", self.panel_informed_on, timeline.approved_on, approved
        )


PUBLICATION_PAYLOADS: dict[str, type[EventPayload]] = {
    "approve_final_report": ApproveFinalReportPayload,
    "send_advance_copies": SendAdvanceCopiesPayload,
    "reschedule_publication": ReschedulePublicationPayload,
    "publish": PublishPayload,
    "withhold_publication": WithholdPublicationPayload,
}
"""The publication stage's events: a manager's decisions, not a member's."""
PUBLICATION_EVENTS = frozenset(PUBLICATION_PAYLOADS)
