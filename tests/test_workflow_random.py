"""A property of the workflow: random event sequences (mostly moving a case on, sometimes
any allowed event, sometimes anything) keep it sound.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_engine.timeline import CaseTimeline
from review_engine.workflow import (
    EVENTS,
    FINAL_STATES,
    STATES,
    IllegalEvent,
    InvalidEventData,
    Transition,
    WorkflowError,
    allowed_events,
    fire,
)
from tests.workflow_helpers import AWARE_ON, INCIDENT

# -- Property: random event sequences ------------------------------------------------------

RECOMMENDATIONS = ["lcspr", "learning_review", "no_further_review", "national_review"]
# Events from the one that moves a case furthest along to the ones that end or divert it.
FORWARD = [
    "notify_panel",
    "submit_rapid_review",
    "record_panel_response",
    "resume",
    "approve_final_report",
    "publish",
    "send_advance_copies",
    "pause",
    "complete_learning_review",
    "complete_national_review",
    "start_learning_review",
    "close",
    "inform_partners",
    "reschedule_publication",
    "escalate_to_national_review",
    "withhold_publication",
    "decide_not_to_notify",
    "withdraw",
]


RECIPIENT_SETS = [["panel"], ["panel", "secretary_of_state"], ["ofsted"]]


def plausible_payload(event: str, on: date, data: st.DataObject) -> dict[str, Any]:
    """A payload for `event` dated `on`: valid in form, sometimes refused by the rules."""
    iso = on.isoformat()
    later = (on + timedelta(days=data.draw(st.integers(0, 60)))).isoformat()
    reason = data.draw(st.sampled_from(["Criminal trial", "Inquest", "  Risk to sibling  "]))
    if event == "notify_panel":
        # Mostly a rapid review, so that cases travel far (a draw of 0 is the likeliest).
        payload = {"notified_on": iso, "rapid_review_required": data.draw(st.integers(0, 4)) < 4}
        if data.draw(st.booleans()):
            payload["new_information_on"] = iso  # refused unless after a decision not to
        return payload
    if event == "inform_partners":
        return {"partners_informed_on": iso}
    if event == "decide_not_to_notify":
        return {"decided_on": iso, "reason": reason}
    if event == "submit_rapid_review":
        return {"submitted_on": iso, "recommendation": data.draw(st.sampled_from(RECOMMENDATIONS))}
    if event == "record_panel_response":
        payload: dict[str, Any] = {
            "received_on": iso,
            "outcome": data.draw(st.sampled_from(["agreed", "national_review", "challenged"])),
        }
        if data.draw(st.integers(0, 3)) == 3:
            payload["recommendation"] = data.draw(st.sampled_from(RECOMMENDATIONS))
        return payload
    if event == "pause":
        return {"started_on": iso, "reason": reason, "panel_informed_on": later}
    if event == "resume":
        return {"resumed_on": iso}
    if event == "approve_final_report":
        return {"approved_on": iso, "planned_publication_on": later}
    if event == "send_advance_copies":
        if data.draw(st.booleans()):
            return {"sent_on": iso, "recipients": data.draw(st.sampled_from(RECIPIENT_SETS))}
        return {"sent_on": iso}
    if event == "reschedule_publication":
        return {"rescheduled_on": iso, "planned_publication_on": later, "reason": reason}
    if event == "escalate_to_national_review":
        return {"decided_on": iso}
    if event in ("publish", "complete_learning_review"):
        publication_fields = {
            "published_on": iso,
            "mode": data.draw(st.sampled_from(["full", "redacted", "improvements_only"])),
            "url": "https://example.org/reviews/child-t",
            "title": "Child T",
        }
        if event == "complete_learning_review":
            published = data.draw(st.booleans())
            return {"completed_on": iso, **(publication_fields if published else {})}
        if data.draw(st.booleans()):
            publication_fields["late_notice_reason"] = reason
        return publication_fields
    if event == "withhold_publication":
        return {"reason": reason, "panel_informed_on": iso}
    if event == "start_learning_review":
        return {"started_on": iso}
    if event == "complete_national_review":
        return {"completed_on": iso}
    if event == "withdraw":
        return {"reason": reason, "withdrawn_on": iso}
    assert event == "close"
    return {"closed_on": iso}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_event_sequences_keep_the_workflow_sound(data: st.DataObject) -> None:
    state, timeline, on = "referred", CaseTimeline(aware_on=AWARE_ON), AWARE_ON
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        allowed = allowed_events(state=state, timeline=timeline)
        if state in FINAL_STATES:
            assert allowed == []
        # Mostly the event that moves the case on, so that cases travel far; otherwise any
        # allowed event, or anything at all.
        choice = data.draw(st.integers(0, 7))
        if allowed and choice < 4:
            event = min(allowed, key=FORWARD.index)
        elif allowed and choice < 7:
            event = data.draw(st.sampled_from(allowed), label="allowed event")
        else:
            event = data.draw(st.sampled_from([*EVENTS, "explode"]), label="any event")
        on += timedelta(days=data.draw(st.integers(0, 20)))
        payload = plausible_payload(event, on, data) if event in EVENTS else {}

        outcome: Transition | WorkflowError
        try:
            outcome = fire(
                incident=INCIDENT, state=state, timeline=timeline, event=event, payload=payload
            )
        except WorkflowError as exc:
            outcome = exc

        if isinstance(outcome, IllegalEvent):
            assert event not in allowed
            assert outcome.allowed_events == allowed
            assert (outcome.event, outcome.state) == (event, state)
            if state in FINAL_STATES:
                break  # nothing more can happen to this case
            continue
        if isinstance(outcome, InvalidEventData):
            assert event in allowed
            assert outcome.errors
            continue
        assert isinstance(outcome, Transition), f"unexpected {outcome!r}"
        assert event in allowed
        assert state not in FINAL_STATES
        assert outcome.source == state
        assert outcome.target in STATES
        # Whatever the events recorded, the timeline is still a valid CaseTimeline.
        assert CaseTimeline.model_validate(outcome.timeline.model_dump()) == outcome.timeline
        state, timeline = outcome.target, outcome.timeline
