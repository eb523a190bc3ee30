"""The review workflow's state machine: states, transitions, and what each event records.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). Holds `ReviewWorkflow`, a
python-statemachine `StateMachine` over a `CaseRecord`, with its guards, routing conditions
and actions, and the `STATES`, `FINAL_STATES` and `EVENTS` read from it. The path of a case
and the two kinds of condition are described in `review_engine.workflow`, which re-exports
everything here and drives the machine through its functional API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema
from statemachine import State, StateMachine

from review_engine.timeline import (
    AdvanceCopies,
    CaseTimeline,
    Pause,
    Reschedule,
    ReviewRoute,
)
from review_engine.workflow.events import (
    PAYLOAD_SCHEMAS,
    ApproveFinalReportPayload,
    ClosePayload,
    CompleteLearningReviewPayload,
    CompleteNationalReviewPayload,
    DecideNotToNotifyPayload,
    EscalateToNationalReviewPayload,
    InformPartnersPayload,
    NotifyPanelPayload,
    PauseLcsprPayload,
    PublishPayload,
    RecordPanelResponsePayload,
    ReschedulePublicationPayload,
    ResumeLcsprPayload,
    SendAdvanceCopiesPayload,
    StartLearningReviewPayload,
    SubmitRapidReviewPayload,
    WithdrawPayload,
    WithholdPublicationPayload,
)

__all__ = [
    "EVENTS",
    "FINAL_STATES",
    "STATES",
    "CaseRecord",
    "ReviewWorkflow",
    "WorkflowGuards",
    "WorkflowState",
]


@dataclass
class CaseRecord:
    """What the machine runs over: a case's stored state value and its timeline, and the
    case's actions not yet assured or cancelled (their ids), which keep it open."""

    state: str
    timeline: CaseTimeline
    outstanding_actions: tuple[str, ...] = ()


class WorkflowGuards:
    """The machine's guards and routing conditions, over `model`. Kept apart from the
    machine so they can also be read without one (`review_engine.workflow.allowed`): a
    python-statemachine machine costs far more to build than the guards cost to read."""

    model: CaseRecord

    # -- Guards: read the timeline only, so they decide the allowed events ----------------

    def partners_informed(self) -> bool:
        return self.model.timeline.partners_informed_on is not None

    def actions_outstanding(self) -> bool:
        return bool(self.model.outstanding_actions)

    def advance_copies_sent(self) -> bool:
        return self.model.timeline.advance_copies_sent_on is not None

    # -- Routing conditions: read the payload; without one, every route stays possible ---

    def rapid_review_required(self, payload: NotifyPanelPayload | None = None) -> bool:
        return payload is None or payload.rapid_review_required

    def _routes_to(
        self, route: ReviewRoute | None, payload: RecordPanelResponsePayload | None
    ) -> bool:
        return payload is None or payload.review_route(self.model.timeline) == route

    def panel_challenged(self, payload: RecordPanelResponsePayload | None = None) -> bool:
        return self._routes_to(None, payload)

    def panel_takes_national_review(
        self, payload: RecordPanelResponsePayload | None = None
    ) -> bool:
        return self._routes_to("national_review", payload)

    def lcspr_agreed(self, payload: RecordPanelResponsePayload | None = None) -> bool:
        return self._routes_to("lcspr", payload)

    def learning_review_agreed(self, payload: RecordPanelResponsePayload | None = None) -> bool:
        return self._routes_to("learning_review", payload)

    def no_further_review_agreed(self, payload: RecordPanelResponsePayload | None = None) -> bool:
        return self._routes_to("no_further_review", payload)


class ReviewWorkflow(WorkflowGuards, StateMachine):
    """The review workflow of one case (see `review_engine.workflow`'s docstring for the path)."""

    model: CaseRecord

    # Values are what is stored and what API clients see: never change one.
    referred = State("Referred", initial=True, value="referred")
    rapid_review = State("Rapid review", value="rapid_review")
    awaiting_panel = State("Awaiting Panel response", value="awaiting_panel")
    national_review = State("National review", value="national_review")
    lcspr = State("LCSPR", value="lcspr")
    lcspr_paused = State("LCSPR paused", value="lcspr_paused")
    pre_publication = State("Pre-publication", value="pre_publication")
    learning_review = State("Local learning review", value="learning_review")
    action_tracking = State("Action tracking", value="action_tracking")
    not_notified = State("Not notified", value="not_notified")
    closed = State("Closed", final=True, value="closed")
    withdrawn = State("Withdrawn", final=True, value="withdrawn")

    notify_panel = (
        referred.to(rapid_review, cond="rapid_review_required")
        | referred.to(closed, unless="rapid_review_required")
        # New information after a decision not to notify.
        | not_notified.to(rapid_review, cond="rapid_review_required")
        | not_notified.to(closed, unless="rapid_review_required")
    )
    # Partners told late are recorded late: allowed in every state that is not final.
    inform_partners = (
        referred.to(referred, unless="partners_informed")
        | rapid_review.to(rapid_review, unless="partners_informed")
        | awaiting_panel.to(awaiting_panel, unless="partners_informed")
        | national_review.to(national_review, unless="partners_informed")
        | lcspr.to(lcspr, unless="partners_informed")
        | lcspr_paused.to(lcspr_paused, unless="partners_informed")
        | pre_publication.to(pre_publication, unless="partners_informed")
        | learning_review.to(learning_review, unless="partners_informed")
        | action_tracking.to(action_tracking, unless="partners_informed")
        | not_notified.to(not_notified, unless="partners_informed")
    )
    decide_not_to_notify = referred.to(not_notified)
    submit_rapid_review = rapid_review.to(awaiting_panel)
    record_panel_response = (
        awaiting_panel.to(rapid_review, cond="panel_challenged")
        | awaiting_panel.to(national_review, cond="panel_takes_national_review")
        | awaiting_panel.to(lcspr, cond="lcspr_agreed")
        | awaiting_panel.to(learning_review, cond="learning_review_agreed")
        | awaiting_panel.to(action_tracking, cond="no_further_review_agreed")
    )
    pause = lcspr.to(lcspr_paused)
    resume = lcspr_paused.to(lcspr)
    escalate_to_national_review = lcspr.to(national_review) | lcspr_paused.to(national_review)
    approve_final_report = lcspr.to(pre_publication)
    send_advance_copies = pre_publication.to(pre_publication)
    reschedule_publication = pre_publication.to(pre_publication)
    publish = pre_publication.to(action_tracking, cond="advance_copies_sent")
    withhold_publication = pre_publication.to(action_tracking)
    start_learning_review = not_notified.to(learning_review)
    complete_learning_review = learning_review.to(action_tracking)
    complete_national_review = national_review.to(action_tracking)
    withdraw = rapid_review.to(withdrawn) | awaiting_panel.to(withdrawn)
    close = action_tracking.to(closed, unless="actions_outstanding") | not_notified.to(
        closed, unless="actions_outstanding"
    )

    # -- Actions: what each event records on the timeline ---------------------------------

    def _record(self, **changes: Any) -> None:
        self.model.timeline = self.model.timeline.model_copy(update=changes)

    def on_notify_panel(self, payload: NotifyPanelPayload) -> None:
        self._record(
            notified_on=payload.notified_on,
            new_information_on=payload.new_information_on,
            rapid_review_required=payload.rapid_review_required,
            # With no rapid review to follow, the notification is the end of the case.
            closed_on=None if payload.rapid_review_required else payload.notified_on,
        )

    def on_inform_partners(self, payload: InformPartnersPayload) -> None:
        self._record(partners_informed_on=payload.partners_informed_on)

    def on_decide_not_to_notify(self, payload: DecideNotToNotifyPayload) -> None:
        self._record(not_notified_on=payload.decided_on, not_notified_reason=payload.reason)

    def on_submit_rapid_review(self, payload: SubmitRapidReviewPayload) -> None:
        # The 15-working-day clock runs to the first submission, so a resubmission after a
        # Panel challenge must not move it.
        first = self.model.timeline.submitted_on is None
        self._record(
            **{"submitted_on" if first else "resubmitted_on": payload.submitted_on},
            recommendation=payload.recommendation,
        )

    def on_record_panel_response(self, payload: RecordPanelResponsePayload) -> None:
        route = payload.review_route(self.model.timeline)
        changes: dict[str, Any] = {
            "panel_response_on": payload.received_on,
            "panel_outcome": payload.outcome,
            "review_route": route,
        }
        if route is not None:
            changes["decided_on"] = payload.decided_on
        if payload.recommendation is not None:
            changes["recommendation"] = payload.recommendation
        self._record(**changes)

    def on_pause(self, payload: PauseLcsprPayload) -> None:
        pause = Pause(
            started_on=payload.started_on,
            reason=payload.reason,
            panel_informed_on=payload.panel_informed_on,
        )
        self._record(pauses=(*self.model.timeline.pauses, pause))

    def on_resume(self, payload: ResumeLcsprPayload) -> None:
        *earlier, last = self.model.timeline.pauses
        resumed = last.model_copy(update={"resumed_on": payload.resumed_on})
        self._record(pauses=(*earlier, resumed))

    def on_escalate_to_national_review(self, payload: EscalateToNationalReviewPayload) -> None:
        self._record(escalated_on=payload.decided_on)

    def on_approve_final_report(self, payload: ApproveFinalReportPayload) -> None:
        self._record(
            approved_on=payload.approved_on,
            planned_publication_on=payload.planned_publication_on,
        )

    def on_send_advance_copies(self, payload: SendAdvanceCopiesPayload) -> None:
        send = AdvanceCopies(sent_on=payload.sent_on, recipients=tuple(payload.recipients))
        self._record(advance_copies=(*self.model.timeline.advance_copies, send))

    def on_reschedule_publication(self, payload: ReschedulePublicationPayload) -> None:
        timeline = self.model.timeline
        move = Reschedule(
            rescheduled_on=payload.rescheduled_on,
            planned_publication_on=payload.planned_publication_on,
            # Checked by the payload: an approved report always has a planned date.
            previous_planned_on=timeline.planned_publication_on or payload.planned_publication_on,
            reason=payload.reason,
            panel_informed_on=payload.panel_informed_on,
        )
        self._record(
            planned_publication_on=payload.planned_publication_on,
            reschedules=(*timeline.reschedules, move),
        )

    def on_publish(self, payload: PublishPayload) -> None:
        self._record(
            published_on=payload.published_on,
            publication_mode=payload.mode,
            publication_url=payload.url,
            publication_title=payload.title,
            learning_summary_url=payload.learning_summary_url,
            late_notice_reason=payload.late_notice_reason,
        )

    def on_withhold_publication(self, payload: WithholdPublicationPayload) -> None:
        self._record(withheld_on=payload.withheld_on, withheld_reason=payload.reason)

    def on_start_learning_review(self, payload: StartLearningReviewPayload) -> None:
        self._record(learning_review_started_on=payload.started_on)

    def on_complete_learning_review(self, payload: CompleteLearningReviewPayload) -> None:
        self._record(learning_review_completed_on=payload.completed_on, **payload.publication())

    def on_complete_national_review(self, payload: CompleteNationalReviewPayload) -> None:
        self._record(national_review_completed_on=payload.completed_on, **payload.publication())

    def on_withdraw(self, payload: WithdrawPayload) -> None:
        self._record(withdrawn_on=payload.withdrawn_on, withdrawn_reason=payload.reason)

    def on_close(self, payload: ClosePayload) -> None:
        self._record(closed_on=payload.closed_on)


STATES: tuple[str, ...] = tuple(state.value for state in ReviewWorkflow.states)
FINAL_STATES: frozenset[str] = frozenset(s.value for s in ReviewWorkflow.states if s.final)
# The order of PAYLOAD_SCHEMAS, which follows the declarations above; API clients see
# allowed events in this order.
EVENTS: tuple[str, ...] = tuple(PAYLOAD_SCHEMAS)


def _known_state(value: str) -> str:
    if value not in STATES:
        raise ValueError(f"must be one of: {', '.join(STATES)}")
    return value


WorkflowState = Annotated[
    str, AfterValidator(_known_state), WithJsonSchema({"type": "string", "enum": list(STATES)})
]
"""A state of the review workflow, as the API reads and writes it."""
