"""The case review workflow: which events a case can take next, and what each one records.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). `ReviewWorkflow` is a
python-statemachine `StateMachine` (not `StateChart`, whose defaults swallow errors) over a
`CaseRecord`: the case's stored state value and its `CaseTimeline`.

The path of a case (domain.md §2):

- `referred` → `notify_panel` → `rapid_review`; a death the Panel does not consider (a
  looked-after child with no abuse or neglect suspected, or a care leaver) needs no rapid
  review and goes straight to `closed`. A case that does not meet the notification criteria
  goes to `not_notified`, and may still get a local `learning_review`.
- `rapid_review` → `submit_rapid_review` → `awaiting_panel`; the Panel's response reopens the
  rapid review (challenged), takes a `national_review`, or agrees with the partners'
  recommendation: `lcspr`, `learning_review`, or straight to `action_tracking` when no
  further review is needed.
- `lcspr` ⇄ `lcspr_paused` (parallel criminal or coroner proceedings) → final report approved
  → `pre_publication` (advance copies, rescheduling) → published or withheld →
  `action_tracking` → `closed`. A notification can be `withdrawn` while the rapid review
  is open or with the Panel.

Two kinds of condition sit on transitions. Guards read the timeline and decide whether an
event is allowed at all (`inform_partners` once only; `publish` only after advance copies).
Routing conditions read the event's payload and pick the target (`notify_panel`,
`record_panel_response`); when allowed events are listed there is no payload, and a routing
condition then rules nothing out.

The functional API (`allowed_events`, `fire`, `describe`, …) builds a fresh machine for every
call, restored from the stored state value, so no machine is ever shared. `fire` returns the
new state and a new timeline; it never changes the one it was given.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from review_engine.calendar import Calendar
from review_engine.timeline import CaseTimeline, Pause, ReviewRoute
from review_engine.workflow_events import (
    PAYLOAD_SCHEMAS,
    ApproveFinalReportPayload,
    ClosePayload,
    CompleteLearningReviewPayload,
    CompleteNationalReviewPayload,
    DecideNotToNotifyPayload,
    EventPayload,
    FieldError,
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
    "FieldError",
    "IllegalEvent",
    "InvalidEventData",
    "ReviewWorkflow",
    "Transition",
    "UnknownState",
    "WorkflowError",
    "allowed_events",
    "describe",
    "fire",
    "mermaid",
    "payload_schema",
    "render_docs",
]


@dataclass
class CaseRecord:
    """What the machine runs over: a case's stored state value and its timeline."""

    state: str
    timeline: CaseTimeline


class ReviewWorkflow(StateMachine):
    """The review workflow of one case (see the module docstring for the path)."""

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

    notify_panel = referred.to(rapid_review, cond="rapid_review_required") | referred.to(
        closed, unless="rapid_review_required"
    )
    inform_partners = referred.to(referred, unless="partners_informed") | rapid_review.to(
        rapid_review, unless="partners_informed"
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
    approve_final_report = lcspr.to(pre_publication)
    send_advance_copies = pre_publication.to(pre_publication)
    reschedule_publication = pre_publication.to(pre_publication)
    publish = pre_publication.to(action_tracking, cond="advance_copies_sent")
    withhold_publication = pre_publication.to(action_tracking)
    start_learning_review = not_notified.to(learning_review)
    complete_learning_review = learning_review.to(action_tracking)
    complete_national_review = national_review.to(action_tracking)
    withdraw = rapid_review.to(withdrawn) | awaiting_panel.to(withdrawn)
    close = action_tracking.to(closed) | not_notified.to(closed)

    # -- Guards: read the timeline only, so they decide the allowed events ----------------

    def partners_informed(self) -> bool:
        return self.model.timeline.partners_informed_on is not None

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

    # -- Actions: what each event records on the timeline ---------------------------------

    def _record(self, **changes: Any) -> None:
        self.model.timeline = self.model.timeline.model_copy(update=changes)

    def on_notify_panel(self, payload: NotifyPanelPayload) -> None:
        self._record(
            notified_on=payload.notified_on,
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

    def on_approve_final_report(self, payload: ApproveFinalReportPayload) -> None:
        self._record(
            approved_on=payload.approved_on,
            planned_publication_on=payload.planned_publication_on,
        )

    def on_send_advance_copies(self, payload: SendAdvanceCopiesPayload) -> None:
        self._record(advance_copies_sent_on=payload.sent_on)

    def on_reschedule_publication(self, payload: ReschedulePublicationPayload) -> None:
        self._record(planned_publication_on=payload.planned_publication_on)

    def on_publish(self, payload: PublishPayload) -> None:
        self._record(
            published_on=payload.published_on,
            publication_mode=payload.mode,
            publication_url=payload.url,
            publication_title=payload.title,
            late_notice_reason=payload.late_notice_reason,
        )

    def on_withhold_publication(self, payload: WithholdPublicationPayload) -> None:
        self._record(withheld_on=payload.withheld_on, withheld_reason=payload.reason)

    def on_start_learning_review(self, payload: StartLearningReviewPayload) -> None:
        self._record(learning_review_started_on=payload.started_on)

    def on_complete_learning_review(self, payload: CompleteLearningReviewPayload) -> None:
        changes: dict[str, Any] = {"learning_review_completed_on": payload.completed_on}
        if payload.published_on is not None:
            changes.update(
                published_on=payload.published_on,
                publication_mode=payload.mode,
                publication_url=payload.url,
                publication_title=payload.title,
            )
        self._record(**changes)

    def on_complete_national_review(self, payload: CompleteNationalReviewPayload) -> None:
        self._record(national_review_completed_on=payload.completed_on)

    def on_withdraw(self, payload: WithdrawPayload) -> None:
        self._record(withdrawn_on=payload.withdrawn_on, withdrawn_reason=payload.reason)

    def on_close(self, payload: ClosePayload) -> None:
        self._record(closed_on=payload.closed_on)


STATES: tuple[str, ...] = tuple(state.value for state in ReviewWorkflow.states)
FINAL_STATES: frozenset[str] = frozenset(s.value for s in ReviewWorkflow.states if s.final)
# The order of PAYLOAD_SCHEMAS, which follows the declarations above; API clients see
# allowed events in this order.
EVENTS: tuple[str, ...] = tuple(PAYLOAD_SCHEMAS)

# Why a guarded event is refused, for the IllegalEvent message.
_GUARD_EXPLANATIONS = {
    "inform_partners": "the partners have already been informed",
    "publish": "advance copies have not been sent",
}


class WorkflowError(Exception):
    """Base of every error the workflow raises."""


class UnknownState(WorkflowError):
    """A stored state value that is not a state of the workflow (corrupt or foreign data)."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(
            f"stored state {state!r} is not a review workflow state; "
            f"expected one of: {', '.join(STATES)}"
        )


class IllegalEvent(WorkflowError):
    """The event is unknown, or not allowed in the case's state with its timeline."""

    def __init__(self, *, event: str, state: str, allowed_events: list[str]) -> None:
        self.event = event
        self.state = state
        self.allowed_events = allowed_events
        if event not in EVENTS:
            problem = f"{event!r} is not a review workflow event"
        elif event in _GUARD_EXPLANATIONS and event in _events_from(state):
            problem = f"{event!r} is not allowed now: {_GUARD_EXPLANATIONS[event]}"
        else:
            problem = f"{event!r} is not allowed in state {state!r}"
        if allowed_events:
            allowed = f"allowed now: {', '.join(allowed_events)}"
        elif state in FINAL_STATES:
            allowed = f"no event is allowed: {state!r} is final"
        else:
            allowed = "no event is allowed now"
        super().__init__(f"{problem}; {allowed}")


class InvalidEventData(WorkflowError):
    """The event's payload is invalid; `errors` names each field to correct."""

    def __init__(self, *, event: str, errors: list[FieldError]) -> None:
        self.event = event
        self.errors = errors
        details = "; ".join(f"{error.field or '(payload)'}: {error.message}" for error in errors)
        super().__init__(f"invalid data for {event!r}: {details}")


@dataclass(frozen=True)
class Transition:
    """The result of firing an event: where the case went and its new timeline.

    `recorded` is the validated payload as JSON-able data (dates as ISO strings), with
    defaults filled in, for the case's event log.
    """

    event: str
    source: str
    target: str
    timeline: CaseTimeline
    recorded: dict[str, Any]


def _events_from(state: str) -> set[str]:
    """Events with a transition out of `state`, guards ignored (none for an unknown state)."""
    source = ReviewWorkflow.states_map.get(state)
    if source is None:
        return set()
    return {event.id for event in source.transitions.unique_events}


def _restore(state: str, timeline: CaseTimeline) -> tuple[ReviewWorkflow, CaseRecord]:
    # The library would raise a bare KeyError for an unknown value, and only later.
    if state not in STATES:
        raise UnknownState(state)
    # The state field is already set, so the machine restores it without re-entering the
    # initial state.
    case = CaseRecord(state=state, timeline=timeline)
    return ReviewWorkflow(model=case), case


def allowed_events(*, state: str, timeline: CaseTimeline) -> list[str]:
    """The events the case can take now, guards evaluated, in the order of `EVENTS`."""
    machine, _ = _restore(state, timeline)
    enabled = {event.id for event in machine.enabled_events()}
    return [event for event in EVENTS if event in enabled]


def _validate(
    event: str, payload: Mapping[str, Any], timeline: CaseTimeline, calendar: Calendar | None
) -> EventPayload:
    try:
        data = PAYLOAD_SCHEMAS[event].model_validate(dict(payload))
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(part) for part in error["loc"]), error["msg"])
            for error in exc.errors(include_url=False)
        ]
        raise InvalidEventData(event=event, errors=errors) from None
    problems = data.problems(timeline, calendar)
    if problems:
        raise InvalidEventData(event=event, errors=problems)
    return data


def fire(
    *,
    state: str,
    timeline: CaseTimeline,
    event: str,
    payload: Mapping[str, Any],
    calendar: Calendar | None = None,
) -> Transition:
    """Fire `event` with `payload` on a case in `state`; return the transition taken.

    `calendar` counts working days for the payload rules (the 7-working-day publication
    notice); the default is England and Wales with no extra closure days.

    Raises `UnknownState` for a stored state the workflow does not know, `IllegalEvent`
    when the event is unknown or not allowed now, and `InvalidEventData` when the payload
    is invalid on its own or against the timeline. Nothing is changed on error.
    """
    allowed = allowed_events(state=state, timeline=timeline)
    if event not in allowed:
        raise IllegalEvent(event=event, state=state, allowed_events=allowed)
    data = _validate(event, payload, timeline, calendar)
    machine, case = _restore(state, timeline)
    try:
        machine.send(event, payload=data)
    except TransitionNotAllowed as exc:  # no route matched: a bug, since data was checked
        raise WorkflowError(f"{event!r} found no transition from {state!r}: {exc}") from exc
    return Transition(
        event=event,
        source=state,
        target=case.state,
        timeline=case.timeline,
        recorded=data.model_dump(mode="json"),
    )


def payload_schema(event: str) -> type[BaseModel]:
    """The pydantic model of `event`'s payload."""
    try:
        return PAYLOAD_SCHEMAS[event]
    except KeyError:
        raise WorkflowError(f"{event!r} is not a review workflow event") from None


def describe() -> dict[str, Any]:
    """States, events, transitions and payload JSON schemas, for `GET /workflow`."""
    return {
        "states": [
            {"name": state.value, "initial": state.initial, "final": state.final}
            for state in ReviewWorkflow.states
        ],
        "events": [
            {
                "name": event,
                "transitions": [
                    {"source": transition.source.value, "target": target.value}
                    for state in ReviewWorkflow.states
                    for transition in state.transitions
                    if transition.match(event)
                    for target in transition.targets
                ],
                "payload_schema": PAYLOAD_SCHEMAS[event].model_json_schema(),
            }
            for event in EVENTS
        ],
    }


def mermaid() -> str:
    """The workflow as a Mermaid state diagram."""
    return f"{ReviewWorkflow:mermaid}"


def render_docs() -> str:
    """The exact content of docs/workflow.md."""
    return (
        "# Review workflow\n"
        "\n"
        "Generated from `review_engine.workflow`; do not edit. Regenerate with "
        "`python -m review_engine.workflow > docs/workflow.md`.\n"
        "\n"
        "```mermaid\n"
        f"{mermaid().strip()}\n"
        "```\n"
        "\n"
        "## Transitions\n"
        "\n"
        f"{format(ReviewWorkflow, 'md').strip()}\n"
    )


if __name__ == "__main__":
    sys.stdout.write(render_docs())
