"""The case review workflow: which events a case can take next, and what each one records.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). `ReviewWorkflow` is a
python-statemachine `StateMachine` (not `StateChart`, whose defaults swallow errors) over a
`CaseRecord`: the case's stored state value and its `CaseTimeline`.

The path of a case (docs/statutory-basis.md explains each rule):

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

The workflow is split by concern, and everything is importable from here:
`review_engine.workflow.machine` holds `ReviewWorkflow`, `CaseRecord`, `STATES`,
`FINAL_STATES` and `EVENTS`; `review_engine.workflow.events` each event's payload model
and its checks (re-exported here too); `review_engine.workflow.docs` `describe`, `mermaid`
and `render_docs`. This module keeps the errors and the functional API, and
`python -m review_engine.workflow` prints docs/workflow.md.

The functional API (`allowed_events`, `fire`, `describe`, …) never shares a machine: `fire`
builds a fresh one, restored from the stored state value, once the event is known to be
allowed; `allowed_events` reads the guards without one (`review_engine.workflow.allowed`).
`fire` returns the new state and a new timeline; it never changes the one it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from statemachine.exceptions import TransitionNotAllowed

from review_engine.calendar import Calendar
from review_engine.field_error import field_errors
from review_engine.timeline import CaseTimeline, IncidentFacts
from review_engine.workflow.allowed import allowed_for
from review_engine.workflow.docs import case_diagram, describe, mermaid, render_docs
from review_engine.workflow.events import (
    PAYLOAD_SCHEMAS,
    PUBLICATION_EVENTS,
    ApproveFinalReportPayload,
    ClosePayload,
    CompleteLearningReviewPayload,
    CompleteNationalReviewPayload,
    DecideNotToNotifyPayload,
    EscalateToNationalReviewPayload,
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
from review_engine.workflow.machine import (
    EVENTS,
    FINAL_STATES,
    STATES,
    CaseRecord,
    ReviewWorkflow,
    WorkflowState,
)

__all__ = [
    "EVENTS",
    "FINAL_STATES",
    "PAYLOAD_SCHEMAS",
    "PUBLICATION_EVENTS",
    "STATES",
    "ApproveFinalReportPayload",
    "CaseRecord",
    "ClosePayload",
    "CompleteLearningReviewPayload",
    "CompleteNationalReviewPayload",
    "DecideNotToNotifyPayload",
    "EscalateToNationalReviewPayload",
    "EventPayload",
    "FieldError",
    "IllegalEvent",
    "InformPartnersPayload",
    "InvalidEventData",
    "NotifyPanelPayload",
    "PauseLcsprPayload",
    "PublishPayload",
    "RecordPanelResponsePayload",
    "ReschedulePublicationPayload",
    "ResumeLcsprPayload",
    "ReviewWorkflow",
    "SendAdvanceCopiesPayload",
    "StartLearningReviewPayload",
    "SubmitRapidReviewPayload",
    "Transition",
    "UnknownState",
    "WithdrawPayload",
    "WithholdPublicationPayload",
    "WorkflowError",
    "WorkflowState",
    "allowed_events",
    "describe",
    "fire",
    "mermaid",
    "case_diagram",
    "payload_schema",
    "render_docs",
]

# Why a guarded event is refused, for the IllegalEvent message.
_GUARD_EXPLANATIONS: dict[str, Callable[[CaseRecord], str]] = {
    "inform_partners": lambda case: "the partners have already been informed",
    "publish": lambda case: (
        "advance copies have not yet been sent to all of the Panel, the "
        "Secretary of State and Ofsted"
    ),
    "close": lambda case: (
        "these actions are not yet assured or cancelled: " + ", ".join(case.outstanding_actions)
    ),
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

    def __init__(self, *, event: str, case: CaseRecord, allowed_events: list[str]) -> None:
        state = case.state
        self.event = event
        self.state = state
        self.allowed_events = allowed_events
        if event not in EVENTS:
            problem = f"{event!r} is not a review workflow event"
        elif event in _GUARD_EXPLANATIONS and event in _events_from(state):
            problem = f"{event!r} is not allowed now: {_GUARD_EXPLANATIONS[event](case)}"
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


def _record(
    state: str, timeline: CaseTimeline, outstanding_actions: Sequence[str] = ()
) -> CaseRecord:
    # The library would raise a bare KeyError for an unknown value, and only later.
    if state not in STATES:
        raise UnknownState(state)
    return CaseRecord(
        state=state, timeline=timeline, outstanding_actions=tuple(outstanding_actions)
    )


def allowed_events(
    *, state: str, timeline: CaseTimeline, outstanding_actions: Sequence[str] = ()
) -> list[str]:
    """The events the case can take now, guards evaluated, in the order of `EVENTS`.
    `outstanding_actions` are the ids of the case's actions not yet assured or cancelled:
    while there are any, the case cannot be closed. Read without building a machine."""
    return allowed_for(_record(state, timeline, outstanding_actions))


def _validate(
    event: str,
    payload: Mapping[str, Any],
    timeline: CaseTimeline,
    calendar: Calendar | None,
    incident: IncidentFacts | None,
) -> EventPayload:
    try:
        data = PAYLOAD_SCHEMAS[event].model_validate(dict(payload))
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_url=False))
        raise InvalidEventData(event=event, errors=errors) from None
    problems = data.problems(timeline, calendar, incident)
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
    incident: IncidentFacts | None = None,
    outstanding_actions: Sequence[str] = (),
) -> Transition:
    """Fire `event` with `payload` on a case in `state`; return the transition taken.

    `calendar` counts working days for the payload rules (the 7-working-day publication
    notice); the default is England and Wales with no extra closure days. `incident` is
    what the case records about the incident (whether a rapid review may be skipped
    depends on it); None means not known.

    Raises `UnknownState` for a stored state the workflow does not know, `IllegalEvent`
    when the event is unknown or not allowed now, and `InvalidEventData` when the payload
    is invalid on its own or against the timeline. Nothing is changed on error.
    `outstanding_actions` (see `allowed_events`) keep the case from being closed.
    """
    case = _record(state, timeline, outstanding_actions)
    allowed = allowed_for(case)
    if event not in allowed:
        raise IllegalEvent(event=event, case=case, allowed_events=allowed)
    data = _validate(event, payload, timeline, calendar, incident)
    # The one machine of the request, built once the event is known to be allowed. The
    # state field is already set, so it restores it without re-entering the initial state.
    machine = ReviewWorkflow(model=case)
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
