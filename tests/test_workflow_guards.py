"""Which events a case may take: allowed and illegal events, final states, the guards
(partners informed once, publish only after advance copies), and restoring stored
cases (state and timeline as stored, never replayed).
"""

from __future__ import annotations

from datetime import date

import pytest

from review_engine.timeline import CaseTimeline
from review_engine.workflow import (
    EVENTS,
    FINAL_STATES,
    STATES,
    CaseRecord,
    IllegalEvent,
    ReviewWorkflow,
    UnknownState,
    WorkflowError,
    allowed_events,
    fire,
)
from tests.workflow_helpers import (
    ALLOWED,
    APPROVE,
    AWARE_ON,
    INCIDENT,
    INFORM,
    NOTIFY,
    SEND_COPIES,
    TO_LCSPR,
    case_in,
    pre_publication_case,
    publication,
    walk,
)
from tests.workflow_table import TRANSITIONS

# -- Illegal events -----------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_allowed_events_of_each_canonical_case(state: str) -> None:
    assert allowed_events(state=state, timeline=case_in(state)) == ALLOWED[state]


@pytest.mark.parametrize("state", STATES)
def test_every_event_not_allowed_is_refused_listing_the_allowed_ones(state: str) -> None:
    timeline = case_in(state)
    allowed = allowed_events(state=state, timeline=timeline)
    refused_events = [event for event in EVENTS if event not in allowed]
    assert refused_events
    for event in [*refused_events, "explode"]:
        # The payload is garbage on purpose: legality is checked before the data.
        with pytest.raises(IllegalEvent) as exc:
            fire(
                incident=INCIDENT,
                state=state,
                timeline=timeline,
                event=event,
                payload={"nonsense": 1},
            )
        assert (exc.value.event, exc.value.state) == (event, state)
        assert exc.value.allowed_events == allowed
        assert isinstance(exc.value, WorkflowError)
        for name in allowed:
            assert name in str(exc.value)


@pytest.mark.parametrize("state", sorted(FINAL_STATES))
def test_final_states_allow_nothing(state: str) -> None:
    timeline = case_in(state)
    assert allowed_events(state=state, timeline=timeline) == []
    with pytest.raises(IllegalEvent, match="is final") as exc:
        fire(
            incident=INCIDENT,
            state=state,
            timeline=timeline,
            event="close",
            payload={"closed_on": "2026-12-01"},
        )
    assert exc.value.allowed_events == []


def test_an_unknown_event_is_illegal_and_says_so() -> None:
    with pytest.raises(IllegalEvent, match="'explode' is not a review workflow event") as exc:
        fire(
            incident=INCIDENT,
            state="referred",
            timeline=case_in("referred"),
            event="explode",
            payload={},
        )
    assert exc.value.allowed_events == ALLOWED["referred"]


# -- Guards -------------------------------------------------------------------------------


def test_partners_can_be_informed_once_only_in_any_state_that_is_not_final() -> None:
    state, timeline = walk([INFORM])
    assert state == "referred"
    assert "inform_partners" not in allowed_events(state=state, timeline=timeline)
    with pytest.raises(IllegalEvent, match="already been informed"):
        walk([INFORM], state=state, timeline=timeline)

    state, timeline = walk([INFORM, NOTIFY])
    assert allowed_events(state=state, timeline=timeline) == ["submit_rapid_review", "withdraw"]

    state, timeline = walk([NOTIFY, INFORM])
    assert state == "rapid_review"
    assert allowed_events(state=state, timeline=timeline) == ["submit_rapid_review", "withdraw"]


def test_publish_is_allowed_only_once_advance_copies_have_been_sent() -> None:
    state, timeline = walk([*TO_LCSPR, APPROVE])
    assert "publish" not in allowed_events(state=state, timeline=timeline)
    with pytest.raises(IllegalEvent, match="advance copies have not yet been sent") as exc:
        walk([publication("2026-07-01")], state=state, timeline=timeline)
    assert "send_advance_copies" in str(exc.value)

    state, timeline = walk([SEND_COPIES], state=state, timeline=timeline)
    assert allowed_events(state=state, timeline=timeline) == [
        "inform_partners",
        "send_advance_copies",
        "reschedule_publication",
        "publish",
        "withhold_publication",
    ]


# -- Restoring stored cases ---------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_a_machine_restores_the_stored_state_without_entering_the_initial_one(state: str) -> None:
    timeline = case_in(state)
    case = CaseRecord(state=state, timeline=timeline)
    machine = ReviewWorkflow(model=case)
    assert list(machine.configuration_values) == [state]
    assert (case.state, case.timeline) == (state, timeline)


@pytest.mark.parametrize("state", [s for s in STATES if s not in FINAL_STATES])
def test_every_stored_non_final_state_can_move_on(state: str) -> None:
    source, history, step = next(row[:3] for row in TRANSITIONS if row[0] == state)
    _, timeline = walk(history)
    transition = fire(
        incident=INCIDENT, state=state, timeline=timeline, event=step[0], payload=step[1]
    )
    assert transition.source == state
    assert transition.target in STATES


def test_a_stored_case_built_by_hand_restores_anywhere() -> None:
    # Stored rows are not replayed: the state value and the timeline are all there is.
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 1))
    assert "publish" in allowed_events(state="pre_publication", timeline=timeline)
    transition = fire(
        incident=INCIDENT,
        state="pre_publication",
        timeline=timeline,
        event=publication()[0],
        payload=publication()[1],
    )
    assert transition.target == "action_tracking"


def test_an_unknown_stored_state_is_a_clear_workflow_error() -> None:
    timeline = CaseTimeline(aware_on=AWARE_ON)
    with pytest.raises(UnknownState, match="'triage' is not a review workflow state") as exc:
        allowed_events(state="triage", timeline=timeline)
    assert exc.value.state == "triage"
    with pytest.raises(WorkflowError, match="triage"):
        fire(incident=INCIDENT, state="triage", timeline=timeline, event="notify_panel", payload={})
