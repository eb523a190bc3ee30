"""Shared helpers of the workflow tests (tests/test_workflow_*.py): one plausible case
history reaching every state, what each canonical case may do next, `walk` (fire steps
in order), `refused` (the field errors a step is refused with), and a stored case built
by hand.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from review_engine.timeline import (
    ADVANCE_COPY_RECIPIENTS,
    AdvanceCopies,
    CaseTimeline,
    IncidentFacts,
)
from review_engine.workflow import FieldError, InvalidEventData, fire

AWARE_ON = date(2026, 1, 5)
# The death of a looked-after child: the one kind of case that may need no rapid review.
INCIDENT = IncidentFacts(incident_type="death", looked_after=True)

# -- Case histories: one plausible way to reach every state ---------------------------------

Step = tuple[str, dict[str, Any]]

NOTIFY: Step = ("notify_panel", {"notified_on": "2026-01-07"})
NOTIFY_NO_RAPID_REVIEW: Step = (
    "notify_panel",
    {"notified_on": "2026-01-07", "rapid_review_required": False},
)
INFORM: Step = ("inform_partners", {"partners_informed_on": "2026-01-08"})
NOT_NOTIFIED: Step = ("decide_not_to_notify", {"decided_on": "2026-01-09", "reason": "No harm"})
WITHDRAW: Step = ("withdraw", {"reason": "Criteria not met", "withdrawn_on": "2026-01-20"})
PAUSE: Step = (
    "pause",
    {"started_on": "2026-03-02", "reason": "Criminal trial", "panel_informed_on": "2026-03-03"},
)
APPROVE: Step = (
    "approve_final_report",
    {"approved_on": "2026-06-01", "planned_publication_on": "2026-07-01"},
)
SEND_COPIES: Step = ("send_advance_copies", {"sent_on": "2026-06-15"})
RESCHEDULE: Step = (
    "reschedule_publication",
    {
        "rescheduled_on": "2026-06-10",
        "planned_publication_on": "2026-09-01",
        "reason": "Trial",
        "panel_informed_on": "2026-06-11",
    },
)
ESCALATE: Step = ("escalate_to_national_review", {"decided_on": "2026-03-10"})
NEW_INFORMATION: Step = (
    "notify_panel",
    {"notified_on": "2026-01-14", "new_information_on": "2026-01-13"},
)


def submit(recommendation: str, on: str = "2026-01-26") -> Step:
    return ("submit_rapid_review", {"submitted_on": on, "recommendation": recommendation})


def respond(outcome: str, on: str = "2026-02-05", **extra: Any) -> Step:
    return ("record_panel_response", {"received_on": on, "outcome": outcome, **extra})


TO_LCSPR: list[Step] = [NOTIFY, submit("lcspr"), respond("agreed")]

PATHS: dict[str, list[Step]] = {
    "referred": [],
    "rapid_review": [NOTIFY],
    "awaiting_panel": [NOTIFY, submit("lcspr")],
    "national_review": [NOTIFY, submit("national_review"), respond("national_review")],
    "lcspr": TO_LCSPR,
    "lcspr_paused": [*TO_LCSPR, PAUSE],
    "pre_publication": [*TO_LCSPR, APPROVE],
    "learning_review": [NOTIFY, submit("learning_review"), respond("agreed")],
    "action_tracking": [NOTIFY, submit("no_further_review"), respond("agreed")],
    "not_notified": [NOT_NOTIFIED],
    "closed": [NOTIFY_NO_RAPID_REVIEW],
    "withdrawn": [NOTIFY, WITHDRAW],
}

# What each canonical case may do next (its history decides the guards).
ALLOWED: dict[str, list[str]] = {
    "referred": ["notify_panel", "inform_partners", "decide_not_to_notify"],
    "rapid_review": ["inform_partners", "submit_rapid_review", "withdraw"],
    "awaiting_panel": ["inform_partners", "record_panel_response", "withdraw"],
    "national_review": ["inform_partners", "complete_national_review"],
    "lcspr": ["inform_partners", "pause", "escalate_to_national_review", "approve_final_report"],
    "lcspr_paused": ["inform_partners", "resume", "escalate_to_national_review"],
    "pre_publication": [
        "inform_partners",
        "send_advance_copies",
        "reschedule_publication",
        "withhold_publication",
    ],
    "learning_review": ["inform_partners", "complete_learning_review"],
    "action_tracking": ["inform_partners", "close"],
    "not_notified": ["notify_panel", "inform_partners", "start_learning_review", "close"],
    "closed": [],
    "withdrawn": [],
}


def walk(
    steps: list[Step], *, state: str = "referred", timeline: CaseTimeline | None = None
) -> tuple[str, CaseTimeline]:
    """Fire `steps` in order (from a fresh referral unless told); return where it ends."""
    timeline = timeline or CaseTimeline(aware_on=AWARE_ON)
    for event, payload in steps:
        transition = fire(
            incident=INCIDENT, state=state, timeline=timeline, event=event, payload=payload
        )
        state, timeline = transition.target, transition.timeline
    return state, timeline


def refused(state: str, timeline: CaseTimeline, step: Step) -> list[FieldError]:
    """The errors with which `step` is refused as invalid data."""
    event, payload = step
    with pytest.raises(InvalidEventData) as exc:
        fire(incident=INCIDENT, state=state, timeline=timeline, event=event, payload=payload)
    assert exc.value.event == event
    assert exc.value.errors, "InvalidEventData must name at least one field"
    return exc.value.errors


def refused_fields(state: str, timeline: CaseTimeline, step: Step) -> list[str]:
    return [error.field for error in refused(state, timeline, step)]


def case_in(state: str) -> CaseTimeline:
    reached, timeline = walk(PATHS[state])
    assert reached == state
    return timeline


def d(text: str) -> date:
    return date.fromisoformat(text)


# A resumption after PAUSE (the pause tests and the chronology table both use it).
RESUME_APRIL: Step = ("resume", {"resumed_on": "2026-04-01"})


# -- A stored case awaiting publication, and publishing it -------------------------------


def pre_publication_case(*, advance_copies_sent_on: date | None) -> CaseTimeline:
    """A stored LCSPR awaiting publication on 6 January 2026 (built by hand, not fired)."""
    return CaseTimeline(
        aware_on=date(2025, 1, 6),
        notified_on=date(2025, 1, 8),
        submitted_on=date(2025, 1, 29),
        recommendation="lcspr",
        panel_response_on=date(2025, 2, 12),
        panel_outcome="agreed",
        review_route="lcspr",
        decided_on=date(2025, 2, 12),
        approved_on=date(2025, 12, 1),
        planned_publication_on=date(2026, 1, 6),
        advance_copies=(
            (AdvanceCopies(sent_on=advance_copies_sent_on, recipients=ADVANCE_COPY_RECIPIENTS),)
            if advance_copies_sent_on
            else ()
        ),
    )


def publication(published_on: str = "2026-01-06", **extra: Any) -> Step:
    return (
        "publish",
        {
            "published_on": published_on,
            "mode": "full",
            "url": "https://example.org/reviews/child-t",
            "title": "Child T",
            **extra,
        },
    )
