"""The workflow's contract and its transitions: the states and events, every transition
of the machine (what it moves and records), the Panel's response to a rapid review and
its resubmission, and pauses.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from review_engine.timeline import CaseTimeline
from review_engine.workflow import (
    EVENTS,
    FINAL_STATES,
    STATES,
    ReviewWorkflow,
    Transition,
    describe,
    fire,
)
from tests.workflow_helpers import (
    AWARE_ON,
    INCIDENT,
    NOTIFY,
    PAUSE,
    RESUME_APRIL,
    TO_LCSPR,
    Step,
    case_in,
    refused,
    refused_fields,
    respond,
    submit,
    walk,
)
from tests.workflow_table import TRANSITIONS

# -- The contract's shape -----------------------------------------------------------------


def test_states_events_and_final_states_are_the_api_contract() -> None:
    assert STATES == (
        "referred",
        "rapid_review",
        "awaiting_panel",
        "national_review",
        "lcspr",
        "lcspr_paused",
        "pre_publication",
        "learning_review",
        "action_tracking",
        "not_notified",
        "closed",
        "withdrawn",
    )
    assert ReviewWorkflow.initial_state is not None
    assert ReviewWorkflow.initial_state.value == "referred"
    assert {"closed", "withdrawn"} == FINAL_STATES
    assert EVENTS == (
        "notify_panel",
        "inform_partners",
        "decide_not_to_notify",
        "submit_rapid_review",
        "record_panel_response",
        "pause",
        "resume",
        "escalate_to_national_review",
        "approve_final_report",
        "send_advance_copies",
        "reschedule_publication",
        "publish",
        "withhold_publication",
        "start_learning_review",
        "complete_learning_review",
        "complete_national_review",
        "withdraw",
        "close",
    )
    machine_events = {
        event.id for state in ReviewWorkflow.states for event in state.transitions.unique_events
    }
    assert machine_events == set(EVENTS)


def test_the_workflow_is_a_state_machine_not_a_statechart() -> None:
    # StateChart would silently ignore refused events and swallow callback errors.
    assert ReviewWorkflow.allow_event_without_transition is False
    assert ReviewWorkflow.catch_errors_as_events is False


# -- Every transition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "history", "step", "target", "changes"),
    TRANSITIONS,
    ids=[f"{row[0]}-{row[2][0]}->{row[3]}" for row in TRANSITIONS],
)
def test_each_transition_moves_the_case_and_records_exactly_its_data(
    source: str, history: list[Step], step: Step, target: str, changes: dict[str, Any]
) -> None:
    state, before = walk(history)
    assert state == source
    event, payload = step

    transition = fire(incident=INCIDENT, state=state, timeline=before, event=event, payload=payload)

    assert transition.event == event
    assert (transition.source, transition.target) == (source, target)
    # Exactly these fields change; the timeline given is left as it was.
    assert transition.timeline == before.model_copy(update=changes)
    assert transition.timeline != before
    assert isinstance(transition.recorded, dict)


def test_the_transition_table_covers_every_transition_of_the_machine() -> None:
    machine = {
        (t["source"], event["name"], t["target"])
        for event in describe()["events"]
        for t in event["transitions"]
    }
    tested = {(row[0], row[2][0], row[3]) for row in TRANSITIONS}
    assert tested == machine


def test_recorded_is_the_validated_payload_as_json_with_defaults_filled_in() -> None:
    state, timeline = walk([NOTIFY, submit("lcspr")])
    transition = fire(
        incident=INCIDENT,
        state=state,
        timeline=timeline,
        event="record_panel_response",
        payload={"received_on": date(2026, 2, 5), "outcome": "agreed"},
    )
    assert transition.recorded == {
        "received_on": "2026-02-05",
        "outcome": "agreed",
        "decided_on": "2026-02-05",
        "recommendation": None,
    }


def test_reasons_and_titles_are_stripped() -> None:
    transition = fire(
        incident=INCIDENT,
        state="referred",
        timeline=CaseTimeline(aware_on=AWARE_ON),
        event="decide_not_to_notify",
        payload={"decided_on": "2026-01-09", "reason": "  Criteria not met \n"},
    )
    assert transition.timeline.not_notified_reason == "Criteria not met"
    assert transition.recorded["reason"] == "Criteria not met"


def test_fire_returns_a_frozen_transition_and_never_mutates_its_input() -> None:
    timeline = CaseTimeline(aware_on=AWARE_ON)
    payload = {"notified_on": "2026-01-07"}
    transition = fire(
        incident=INCIDENT,
        state="referred",
        timeline=timeline,
        event="notify_panel",
        payload=payload,
    )
    assert isinstance(transition, Transition)
    assert timeline == CaseTimeline(aware_on=AWARE_ON)
    assert payload == {"notified_on": "2026-01-07"}
    with pytest.raises(AttributeError):
        transition.target = "closed"  # type: ignore[misc]


# -- Rapid review resubmission and the Panel's response ------------------------------------


def test_resubmission_after_a_challenge_keeps_the_first_submission_date() -> None:
    state, timeline = walk([NOTIFY, submit("lcspr"), respond("challenged")])
    assert state == "rapid_review"
    assert timeline.panel_outcome == "challenged"
    assert timeline.review_route is None
    assert timeline.decided_on is None

    state, timeline = walk(
        [submit("learning_review", on="2026-02-20")], state=state, timeline=timeline
    )

    assert state == "awaiting_panel"
    assert timeline.submitted_on == date(2026, 1, 26)
    assert timeline.resubmitted_on == date(2026, 2, 20)
    assert timeline.recommendation == "learning_review"


def test_a_resubmission_cannot_predate_the_challenge() -> None:
    state, timeline = walk([NOTIFY, submit("lcspr"), respond("challenged")])
    errors = refused(state, timeline, submit("lcspr", on="2026-02-01"))
    assert [e.field for e in errors] == ["submitted_on"]
    assert "2026-02-05" in errors[0].message


def test_the_panel_response_to_a_resubmission_cannot_predate_it() -> None:
    state, timeline = walk(
        [NOTIFY, submit("lcspr"), respond("challenged"), submit("lcspr", on="2026-02-20")]
    )
    errors = refused(state, timeline, respond("agreed", on="2026-02-10"))
    assert [e.field for e in errors] == ["received_on"]
    assert "2026-02-20" in errors[0].message

    state, _ = walk([respond("agreed", on="2026-02-20")], state=state, timeline=timeline)
    assert state == "lcspr"


def test_a_national_review_recommendation_the_panel_does_not_take_needs_a_new_one() -> None:
    state, timeline = walk([NOTIFY, submit("national_review")])

    errors = refused(state, timeline, respond("agreed"))
    assert [e.field for e in errors] == ["recommendation"]
    assert "new recommendation" in errors[0].message
    assert refused_fields(state, timeline, respond("agreed", recommendation="national_review")) == [
        "recommendation"
    ]

    transition = fire(
        incident=INCIDENT,
        state=state,
        timeline=timeline,
        event="record_panel_response",
        payload={"received_on": "2026-02-05", "outcome": "agreed", "recommendation": "lcspr"},
    )
    assert transition.target == "lcspr"
    assert transition.timeline.recommendation == "lcspr"
    assert transition.timeline.review_route == "lcspr"
    assert transition.timeline.decided_on == date(2026, 2, 5)


def test_the_panel_taking_the_recommended_national_review_needs_nothing_new() -> None:
    state, timeline = walk([NOTIFY, submit("national_review"), respond("national_review")])
    assert state == "national_review"
    assert timeline.recommendation == "national_review"
    assert timeline.review_route == "national_review"


def test_an_agreed_response_may_carry_a_new_recommendation_that_sets_the_route() -> None:
    state, timeline = walk(
        [NOTIFY, submit("lcspr"), respond("agreed", recommendation="no_further_review")]
    )
    assert state == "action_tracking"
    assert timeline.review_route == "no_further_review"
    assert timeline.recommendation == "no_further_review"


@pytest.mark.parametrize(
    ("outcome", "extra", "field"),
    [
        ("challenged", {"decided_on": "2026-02-06"}, "decided_on"),
        ("challenged", {"recommendation": "lcspr"}, "recommendation"),
        ("national_review", {"recommendation": "lcspr"}, "recommendation"),
    ],
)
def test_a_new_recommendation_and_a_decision_need_an_outcome_that_decides(
    outcome: str, extra: dict[str, Any], field: str
) -> None:
    state, timeline = walk([NOTIFY, submit("lcspr")])
    assert refused_fields(state, timeline, respond(outcome, **extra)) == [field]


# -- Pauses -------------------------------------------------------------------------------

PAUSE_MAY: Step = (
    "pause",
    {"started_on": "2026-05-01", "reason": "Inquest", "panel_informed_on": "2026-05-01"},
)


def test_pauses_accumulate_and_resume_closes_only_the_latest() -> None:
    state, timeline = walk([*TO_LCSPR, PAUSE, RESUME_APRIL, PAUSE_MAY])
    assert state == "lcspr_paused"
    assert timeline.is_paused
    assert [p.resumed_on for p in timeline.pauses] == [date(2026, 4, 1), None]
    assert timeline.pauses[1].reason == "Inquest"

    state, timeline = walk(
        [("resume", {"resumed_on": "2026-05-20"})], state=state, timeline=timeline
    )
    assert state == "lcspr"
    assert not timeline.is_paused
    assert [p.resumed_on for p in timeline.pauses] == [date(2026, 4, 1), date(2026, 5, 20)]


def test_resuming_a_stored_case_with_no_open_pause_is_refused_not_crashed() -> None:
    # State and timeline disagree (e.g. edited by hand): a clear error, not an IndexError.
    timeline = case_in("lcspr")
    assert refused_fields("lcspr_paused", timeline, RESUME_APRIL) == ["resumed_on"]
