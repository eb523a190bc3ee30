"""Tests for review_engine.workflow: transitions, guards, payload checks, restore, docs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_engine.calendar import add_working_days, working_days_between
from review_engine.timeline import (
    ADVANCE_COPY_RECIPIENTS,
    AdvanceCopies,
    CaseTimeline,
    IncidentFacts,
    Pause,
    Reschedule,
)
from review_engine.workflow import (
    EVENTS,
    FINAL_STATES,
    STATES,
    CaseRecord,
    FieldError,
    IllegalEvent,
    InvalidEventData,
    ReviewWorkflow,
    Transition,
    UnknownState,
    WorkflowError,
    allowed_events,
    describe,
    fire,
    mermaid,
    payload_schema,
    render_docs,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "workflow.md"
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

TRANSITIONS: list[tuple[str, list[Step], Step, str, dict[str, Any]]] = [
    # (id, history, event, expected target, expected timeline changes)
    (
        "referred",
        [],
        NOTIFY,
        "rapid_review",
        {"notified_on": d("2026-01-07"), "rapid_review_required": True},
    ),
    (
        "referred",
        [],
        NOTIFY_NO_RAPID_REVIEW,
        "closed",
        {
            "notified_on": d("2026-01-07"),
            "rapid_review_required": False,
            "closed_on": d("2026-01-07"),
        },
    ),
    ("referred", [], INFORM, "referred", {"partners_informed_on": d("2026-01-08")}),
    (
        "referred",
        [],
        NOT_NOTIFIED,
        "not_notified",
        {"not_notified_on": d("2026-01-09"), "not_notified_reason": "No harm"},
    ),
    ("rapid_review", [NOTIFY], INFORM, "rapid_review", {"partners_informed_on": d("2026-01-08")}),
    (
        "rapid_review",
        [NOTIFY],
        submit("national_review"),
        "awaiting_panel",
        {"submitted_on": d("2026-01-26"), "recommendation": "national_review"},
    ),
    (
        "rapid_review",
        [NOTIFY],
        WITHDRAW,
        "withdrawn",
        {"withdrawn_on": d("2026-01-20"), "withdrawn_reason": "Criteria not met"},
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        respond("challenged"),
        "rapid_review",
        {"panel_response_on": d("2026-02-05"), "panel_outcome": "challenged"},
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        respond("national_review", decided_on="2026-02-09"),
        "national_review",
        {
            "panel_response_on": d("2026-02-05"),
            "panel_outcome": "national_review",
            "review_route": "national_review",
            "decided_on": d("2026-02-09"),
        },
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        respond("agreed"),
        "lcspr",
        {
            "panel_response_on": d("2026-02-05"),
            "panel_outcome": "agreed",
            "review_route": "lcspr",
            "decided_on": d("2026-02-05"),
        },
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("learning_review")],
        respond("agreed"),
        "learning_review",
        {
            "panel_response_on": d("2026-02-05"),
            "panel_outcome": "agreed",
            "review_route": "learning_review",
            "decided_on": d("2026-02-05"),
        },
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("no_further_review")],
        respond("agreed"),
        "action_tracking",
        {
            "panel_response_on": d("2026-02-05"),
            "panel_outcome": "agreed",
            "review_route": "no_further_review",
            "decided_on": d("2026-02-05"),
        },
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        ("withdraw", {"reason": "Not a SIN", "withdrawn_on": "2026-01-30"}),
        "withdrawn",
        {"withdrawn_on": d("2026-01-30"), "withdrawn_reason": "Not a SIN"},
    ),
    (
        "national_review",
        PATHS["national_review"],
        ("complete_national_review", {"completed_on": "2026-11-30"}),
        "action_tracking",
        {"national_review_completed_on": d("2026-11-30")},
    ),
    (
        "lcspr",
        TO_LCSPR,
        PAUSE,
        "lcspr_paused",
        {
            "pauses": (
                Pause(
                    started_on=d("2026-03-02"),
                    reason="Criminal trial",
                    panel_informed_on=d("2026-03-03"),
                ),
            )
        },
    ),
    (
        "lcspr",
        TO_LCSPR,
        APPROVE,
        "pre_publication",
        {"approved_on": d("2026-06-01"), "planned_publication_on": d("2026-07-01")},
    ),
    (
        "lcspr_paused",
        [*TO_LCSPR, PAUSE],
        ("resume", {"resumed_on": "2026-04-01"}),
        "lcspr",
        {
            "pauses": (
                Pause(
                    started_on=d("2026-03-02"),
                    reason="Criminal trial",
                    panel_informed_on=d("2026-03-03"),
                    resumed_on=d("2026-04-01"),
                ),
            )
        },
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        SEND_COPIES,
        "pre_publication",
        {
            "advance_copies": (
                AdvanceCopies(sent_on=d("2026-06-15"), recipients=ADVANCE_COPY_RECIPIENTS),
            )
        },
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        RESCHEDULE,
        "pre_publication",
        {
            "planned_publication_on": d("2026-09-01"),
            "reschedules": (
                Reschedule(
                    rescheduled_on=d("2026-06-10"),
                    planned_publication_on=d("2026-09-01"),
                    previous_planned_on=d("2026-07-01"),
                    reason="Trial",
                    panel_informed_on=d("2026-06-11"),
                ),
            ),
        },
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE, SEND_COPIES],
        (
            "publish",
            {
                "published_on": "2026-07-01",
                "mode": "redacted",
                "url": "https://example.org/reviews/child-t",
                "title": "Child T",
            },
        ),
        "action_tracking",
        {
            "published_on": d("2026-07-01"),
            "publication_mode": "redacted",
            "publication_url": "https://example.org/reviews/child-t",
            "publication_title": "Child T",
        },
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        ("withhold_publication", {"reason": "Sibling at risk", "panel_informed_on": "2026-06-20"}),
        "action_tracking",
        {"withheld_on": d("2026-06-20"), "withheld_reason": "Sibling at risk"},
    ),
    (
        "learning_review",
        PATHS["learning_review"],
        ("complete_learning_review", {"completed_on": "2026-05-01"}),
        "action_tracking",
        {"learning_review_completed_on": d("2026-05-01")},
    ),
    (
        "learning_review",
        PATHS["learning_review"],
        (
            "complete_learning_review",
            {
                "completed_on": "2026-05-01",
                "published_on": "2026-05-10",
                "url": "http://example.org/learning",
                "title": "Learning from Child K",
            },
        ),
        "action_tracking",
        {
            "learning_review_completed_on": d("2026-05-01"),
            "published_on": d("2026-05-10"),
            "publication_mode": "full",
            "publication_url": "http://example.org/learning",
            "publication_title": "Learning from Child K",
        },
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        NEW_INFORMATION,
        "rapid_review",
        {
            "notified_on": d("2026-01-14"),
            "new_information_on": d("2026-01-13"),
            "rapid_review_required": True,
        },
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("notify_panel", {**NEW_INFORMATION[1], "rapid_review_required": False}),
        "closed",
        {
            "notified_on": d("2026-01-14"),
            "new_information_on": d("2026-01-13"),
            "rapid_review_required": False,
            "closed_on": d("2026-01-14"),
        },
    ),
    ("lcspr", TO_LCSPR, ESCALATE, "national_review", {"escalated_on": d("2026-03-10")}),
    (
        "lcspr_paused",
        [*TO_LCSPR, PAUSE],
        ESCALATE,
        "national_review",
        {"escalated_on": d("2026-03-10")},
    ),
    *[
        (state, PATHS[state], INFORM, state, {"partners_informed_on": d("2026-01-08")})
        for state in [
            "awaiting_panel",
            "national_review",
            "lcspr",
            "lcspr_paused",
            "pre_publication",
            "learning_review",
            "action_tracking",
            "not_notified",
        ]
    ],
    (
        "action_tracking",
        PATHS["action_tracking"],
        ("close", {"closed_on": "2026-12-01"}),
        "closed",
        {"closed_on": d("2026-12-01")},
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("start_learning_review", {"started_on": "2026-01-12"}),
        "learning_review",
        {"learning_review_started_on": d("2026-01-12")},
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("close", {"closed_on": "2026-01-09"}),
        "closed",
        {"closed_on": d("2026-01-09")},
    ),
]


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

RESUME_APRIL: Step = ("resume", {"resumed_on": "2026-04-01"})
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


# -- Publication --------------------------------------------------------------------------


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


def test_seven_working_days_before_6_january_2026_is_23_december_2025() -> None:
    # By hand, counting back from Tuesday 6 January 2026: Mon 5 Jan (1), Fri 2 Jan (2),
    # [Thu 1 Jan: New Year's Day], Wed 31 Dec (3), Tue 30 Dec (4), Mon 29 Dec (5),
    # [Sun 28, Sat 27, Fri 26 Boxing Day, Thu 25 Christmas Day], Wed 24 Dec (6),
    # Tue 23 Dec (7). Ignoring the holidays would have given Fri 26 Dec.
    assert add_working_days(date(2026, 1, 6), -7) == date(2025, 12, 23)
    assert working_days_between(date(2025, 12, 24), date(2026, 1, 6)) == 6


def test_publish_with_copies_sent_exactly_seven_working_days_before_across_christmas() -> None:
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 23))
    transition = fire(
        incident=INCIDENT,
        state="pre_publication",
        timeline=timeline,
        event=publication()[0],
        payload=publication()[1],
    )
    assert transition.target == "action_tracking"
    assert transition.timeline.published_on == date(2026, 1, 6)
    assert transition.timeline.late_notice_reason is None


def test_publish_with_copies_one_working_day_late_needs_a_late_notice_reason() -> None:
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 24))

    errors = refused("pre_publication", timeline, publication())

    assert [e.field for e in errors] == ["late_notice_reason"]
    assert "2025-12-24" in errors[0].message  # when they went
    assert "2025-12-23" in errors[0].message  # the latest they should have gone

    step = publication(late_notice_reason="Inquest date moved; Panel agreed")
    transition = fire(
        incident=INCIDENT,
        state="pre_publication",
        timeline=timeline,
        event=step[0],
        payload=step[1],
    )
    assert transition.target == "action_tracking"
    assert transition.timeline.late_notice_reason == "Inquest date moved; Panel agreed"


def test_an_on_time_notice_takes_no_late_notice_reason() -> None:
    # A recorded reason reads as "late but excused" to the clocks.
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 23))
    errors = refused("pre_publication", timeline, publication(late_notice_reason="Just in case"))
    assert [e.field for e in errors] == ["late_notice_reason"]
    assert "in time" in errors[0].message


def test_publishing_later_instead_satisfies_the_notice_rule() -> None:
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 24))
    step = publication("2026-01-07")
    assert fire(
        incident=INCIDENT,
        state="pre_publication",
        timeline=timeline,
        event=step[0],
        payload=step[1],
    )


def test_publication_cannot_predate_the_advance_copies() -> None:
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 24))
    step = publication("2025-12-22", late_notice_reason="Trial date")
    assert refused_fields("pre_publication", timeline, step) == ["published_on"]


def test_publication_past_the_calendar_range_is_refused_by_field() -> None:
    timeline = pre_publication_case(advance_copies_sent_on=date(2025, 12, 24))
    assert refused_fields("pre_publication", timeline, publication("2999-01-06")) == [
        "published_on"
    ]


def test_advance_copies_are_sent_when_every_recipient_has_had_one() -> None:
    to_two: Step = (
        "send_advance_copies",
        {"sent_on": "2026-06-15", "recipients": ["panel", "secretary_of_state"]},
    )
    state, timeline = walk([*TO_LCSPR, APPROVE, to_two])
    assert timeline.advance_copies_sent_on is None
    assert "publish" not in allowed_events(state=state, timeline=timeline)
    again: Step = ("send_advance_copies", {"sent_on": "2026-06-18", "recipients": ["panel"]})
    state, timeline = walk([again], state=state, timeline=timeline)
    assert timeline.advance_copies_sent_on is None
    to_ofsted: Step = ("send_advance_copies", {"sent_on": "2026-06-19", "recipients": ["ofsted"]})
    state, timeline = walk([to_ofsted], state=state, timeline=timeline)
    assert timeline.advance_copies_sent_on == date(2026, 6, 19)
    assert [send.sent_on for send in timeline.advance_copies] == [
        date(2026, 6, 15),
        date(2026, 6, 18),
        date(2026, 6, 19),
    ]
    # A revised report sent again later leaves the day the notice was given as it was.
    state, timeline = walk([SEND_COPIES_LATER], state=state, timeline=timeline)
    assert timeline.advance_copies_sent_on == date(2026, 6, 19)


SEND_COPIES_LATER: Step = ("send_advance_copies", {"sent_on": "2026-06-22"})


@pytest.mark.parametrize(
    ("recipients", "field"),
    [([], "recipients"), (["panel", "panel"], "recipients"), (["police"], "recipients.0")],
    ids=["none", "twice", "unknown"],
)
def test_recipients_must_be_named_once_from_the_three(recipients: list[str], field: str) -> None:
    state, timeline = walk([*TO_LCSPR, APPROVE])
    step: Step = ("send_advance_copies", {"sent_on": "2026-06-15", "recipients": recipients})
    assert refused_fields(state, timeline, step) == [field]


def test_withheld_on_defaults_to_when_the_panel_was_told_but_can_be_given() -> None:
    state, timeline = walk([*TO_LCSPR, APPROVE])
    transition = fire(
        incident=INCIDENT,
        state=state,
        timeline=timeline,
        event="withhold_publication",
        payload={"reason": "Risk", "panel_informed_on": "2026-06-20", "withheld_on": "2026-06-10"},
    )
    assert transition.timeline.withheld_on == date(2026, 6, 10)
    assert transition.recorded["panel_informed_on"] == "2026-06-20"


@pytest.mark.parametrize(
    ("publication_fields", "missing"),
    [
        ({"published_on": "2026-05-10"}, ["url", "title"]),
        ({"url": "https://example.org/k"}, ["published_on", "title"]),
        ({"published_on": "2026-05-10", "title": "Child K"}, ["url"]),
        ({"mode": "redacted"}, ["mode"]),
    ],
)
def test_a_learning_review_publication_needs_date_url_and_title_together(
    publication_fields: dict[str, Any], missing: list[str]
) -> None:
    timeline = case_in("learning_review")
    step: Step = ("complete_learning_review", {"completed_on": "2026-05-01", **publication_fields})
    assert refused_fields("learning_review", timeline, step) == missing


# -- Payload validation -------------------------------------------------------------------

# A valid step for every event, from the transition table.
VALID: dict[str, tuple[str, list[Step], Step]] = {}
for _source, _history, _step, _target, _changes in TRANSITIONS:
    VALID.setdefault(_step[0], (_source, _history, _step))


def test_every_event_has_a_valid_example() -> None:
    assert set(VALID) == set(EVENTS)


MISSING_FIELD_CASES = [
    (event, field)
    for event in EVENTS
    for field in payload_schema(event).model_json_schema().get("required", [])
]


@pytest.mark.parametrize(("event", "field"), MISSING_FIELD_CASES)
def test_a_missing_required_field_is_named(event: str, field: str) -> None:
    source, history, (_, payload) = VALID[event]
    state, timeline = walk(history)
    without = {name: value for name, value in payload.items() if name != field}
    errors = refused(state, timeline, (event, without))
    assert FieldError(field, "Field required") in errors


def test_every_event_requires_something() -> None:
    assert {event for event, _ in MISSING_FIELD_CASES} == set(EVENTS)


@pytest.mark.parametrize("event", EVENTS)
def test_an_unknown_field_is_named(event: str) -> None:
    source, history, (_, payload) = VALID[event]
    state, timeline = walk(history)
    errors = refused(state, timeline, (event, {**payload, "case_notes": "x"}))
    assert [(e.field, e.message) for e in errors] == [
        ("case_notes", "Extra inputs are not permitted")
    ]


DATE_FIELD_CASES = [
    (event, field)
    for event, (_, _, (_, payload)) in VALID.items()
    for field, schema in payload_schema(event).model_json_schema()["properties"].items()
    if field in payload and "date" in str(schema)
]


@pytest.mark.parametrize(("event", "field"), DATE_FIELD_CASES)
def test_no_event_date_may_be_before_the_local_authority_became_aware(
    event: str, field: str
) -> None:
    source, history, (_, payload) = VALID[event]
    state, timeline = walk(history)
    errors = refused(state, timeline, (event, {**payload, field: "2026-01-02"}))
    messages = {e.field: e.message for e in errors}
    assert field in messages
    assert "became aware (2026-01-05)" in messages[field]


def test_date_checks_cover_every_date_field_of_every_example() -> None:
    assert ("publish", "published_on") in DATE_FIELD_CASES
    assert ("approve_final_report", "planned_publication_on") in DATE_FIELD_CASES
    assert len(DATE_FIELD_CASES) >= len(EVENTS)


@pytest.mark.parametrize(
    ("event", "field", "value"),
    [
        ("notify_panel", "notified_on", "2026-02-30"),
        ("notify_panel", "rapid_review_required", "perhaps"),
        ("decide_not_to_notify", "reason", "   "),
        ("submit_rapid_review", "recommendation", "serious_case_review"),
        ("record_panel_response", "outcome", "maybe"),
        ("pause", "reason", ""),
        ("publish", "mode", "draft"),
        ("publish", "url", "ftp://example.org/report.pdf"),
        ("publish", "url", "not a url"),
        ("publish", "title", " "),
        ("publish", "late_notice_reason", " "),
        ("withdraw", "reason", "\n"),
        ("reschedule_publication", "reason", ""),
        ("close", "closed_on", 20260101.5),
    ],
)
def test_a_malformed_value_is_named(event: str, field: str, value: Any) -> None:
    source, history, (_, payload) = VALID[event]
    state, timeline = walk(history)
    assert refused_fields(state, timeline, (event, {**payload, field: value})) == [field]


CHRONOLOGY: list[tuple[str, list[Step], Step, str, str]] = [
    # (state, history, step, field refused, text in the message)
    ("rapid_review", [NOTIFY], submit("lcspr", on="2026-01-06"), "submitted_on", "2026-01-07"),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        respond("agreed", on="2026-01-20"),
        "received_on",
        "2026-01-26",
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        respond("agreed", decided_on="2026-01-23"),
        "decided_on",
        "submission of the rapid review that carried the recommendation (2026-01-26)",
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr"), respond("challenged"), submit("lcspr", on="2026-02-20")],
        respond("agreed", on="2026-03-02", decided_on="2026-02-19"),
        "decided_on",
        "(2026-02-20)",
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("notify_panel", {"notified_on": "2026-01-14"}),
        "new_information_on",
        "decided not to notify on 2026-01-09",
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("notify_panel", {**NEW_INFORMATION[1], "new_information_on": "2026-01-08"}),
        "new_information_on",
        "decision not to notify (2026-01-09)",
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("notify_panel", {**NEW_INFORMATION[1], "notified_on": "2026-01-12"}),
        "notified_on",
        "new_information_on (2026-01-13)",
    ),
    (
        "referred",
        [],
        ("notify_panel", {**NOTIFY[1], "new_information_on": "2026-01-06"}),
        "new_information_on",
        "only after a decision not to notify",
    ),
    (
        "lcspr_paused",
        [*TO_LCSPR, PAUSE],
        ("escalate_to_national_review", {"decided_on": "2026-03-01"}),
        "decided_on",
        "pauses.started_on (2026-03-02)",
    ),
    (
        "lcspr",
        TO_LCSPR,
        ("pause", {**PAUSE[1], "started_on": "2026-02-01"}),
        "started_on",
        "2026-02-05",
    ),
    (
        "lcspr_paused",
        [*TO_LCSPR, PAUSE],
        ("resume", {"resumed_on": "2026-03-01"}),
        "resumed_on",
        "2026-03-02",
    ),
    (
        "lcspr",
        [*TO_LCSPR, PAUSE, RESUME_APRIL],
        ("pause", {**PAUSE[1], "started_on": "2026-03-15"}),
        "started_on",
        "2026-04-01",
    ),
    (
        "lcspr",
        TO_LCSPR,
        ("approve_final_report", {**APPROVE[1], "approved_on": "2026-02-01"}),
        "approved_on",
        "2026-02-05",
    ),
    (
        "lcspr",
        [*TO_LCSPR, PAUSE, RESUME_APRIL],
        ("approve_final_report", {**APPROVE[1], "approved_on": "2026-03-20"}),
        "approved_on",
        "2026-04-01",
    ),
    (
        "lcspr",
        TO_LCSPR,
        ("approve_final_report", {**APPROVE[1], "planned_publication_on": "2026-05-01"}),
        "planned_publication_on",
        "2026-06-01",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        ("send_advance_copies", {"sent_on": "2026-05-01"}),
        "sent_on",
        "2026-06-01",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE, SEND_COPIES],
        ("send_advance_copies", {"sent_on": "2026-06-10"}),
        "sent_on",
        "2026-06-15",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        ("reschedule_publication", {**RESCHEDULE[1], "planned_publication_on": "2026-06-05"}),
        "planned_publication_on",
        "rescheduled_on (2026-06-10)",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        ("reschedule_publication", {**RESCHEDULE[1], "rescheduled_on": "2026-05-20"}),
        "rescheduled_on",
        "approval (2026-06-01)",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE, RESCHEDULE],
        ("reschedule_publication", {**RESCHEDULE[1], "rescheduled_on": "2026-06-09"}),
        "rescheduled_on",
        "previous rescheduling (2026-06-10)",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        ("reschedule_publication", {**RESCHEDULE[1], "panel_informed_on": "2026-05-29"}),
        "panel_informed_on",
        "approval (2026-06-01)",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        (
            "withhold_publication",
            {"reason": "Risk", "panel_informed_on": "2026-06-20", "withheld_on": "2026-05-01"},
        ),
        "withheld_on",
        "2026-06-01",
    ),
    (
        "pre_publication",
        [*TO_LCSPR, APPROVE],
        (
            "withhold_publication",
            {"reason": "Risk", "panel_informed_on": "2026-05-01", "withheld_on": "2026-06-20"},
        ),
        "panel_informed_on",
        "2026-06-01",
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("start_learning_review", {"started_on": "2026-01-08"}),
        "started_on",
        "2026-01-09",
    ),
    (
        "learning_review",
        PATHS["learning_review"],
        ("complete_learning_review", {"completed_on": "2026-02-01"}),
        "completed_on",
        "2026-02-05",
    ),
    (
        "learning_review",
        [NOT_NOTIFIED, ("start_learning_review", {"started_on": "2026-02-10"})],
        ("complete_learning_review", {"completed_on": "2026-02-09"}),
        "completed_on",
        "2026-02-10",
    ),
    (
        "learning_review",
        PATHS["learning_review"],
        (
            "complete_learning_review",
            {
                "completed_on": "2026-05-01",
                "published_on": "2026-02-01",
                "url": "https://example.org/k",
                "title": "Child K",
            },
        ),
        "published_on",
        "2026-02-05",
    ),
    (
        "national_review",
        PATHS["national_review"],
        ("complete_national_review", {"completed_on": "2026-02-01"}),
        "completed_on",
        "2026-02-05",
    ),
    (
        "awaiting_panel",
        [NOTIFY, submit("lcspr")],
        WITHDRAW,
        "withdrawn_on",
        "submitted_on (2026-01-26)",
    ),
    (
        "action_tracking",
        PATHS["action_tracking"],
        ("close", {"closed_on": "2026-02-01"}),
        "closed_on",
        "(2026-02-05)",
    ),
    (
        "not_notified",
        [NOT_NOTIFIED],
        ("close", {"closed_on": "2026-01-08"}),
        "closed_on",
        "not_notified_on (2026-01-09)",
    ),
]


@pytest.mark.parametrize(
    ("state", "history", "step", "field", "text"),
    CHRONOLOGY,
    ids=[f"{row[2][0]}-{row[3]}-{i}" for i, row in enumerate(CHRONOLOGY)],
)
def test_event_dates_must_follow_what_the_case_has_recorded(
    state: str, history: list[Step], step: Step, field: str, text: str
) -> None:
    reached, timeline = walk(history)
    assert reached == state
    errors = refused(state, timeline, step)
    assert [e.field for e in errors] == [field]
    assert text in errors[0].message


def test_all_problems_are_reported_together() -> None:
    state, timeline = walk(TO_LCSPR)
    step: Step = (
        "approve_final_report",
        {"approved_on": "2026-02-01", "planned_publication_on": "2026-01-20"},
    )
    assert refused_fields(state, timeline, step) == ["approved_on", "planned_publication_on"]


def test_invalid_event_data_message_names_the_event_and_fields() -> None:
    with pytest.raises(InvalidEventData) as exc:
        fire(
            incident=INCIDENT,
            state="referred",
            timeline=CaseTimeline(aware_on=AWARE_ON),
            event="decide_not_to_notify",
            payload={"reason": ""},
        )
    assert isinstance(exc.value, WorkflowError)
    assert "'decide_not_to_notify'" in str(exc.value)
    assert "decided_on: Field required" in str(exc.value)
    assert "reason:" in str(exc.value)


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


# -- Describing the workflow --------------------------------------------------------------


def test_describe_lists_states_events_transitions_and_schemas() -> None:
    description = describe()
    json.dumps(description)  # it is served as JSON

    assert [s["name"] for s in description["states"]] == list(STATES)
    assert {s["name"] for s in description["states"] if s["initial"]} == {"referred"}
    assert {s["name"] for s in description["states"] if s["final"]} == FINAL_STATES

    events = {e["name"]: e for e in description["events"]}
    assert list(events) == list(EVENTS)
    assert events["record_panel_response"]["transitions"] == [
        {"source": "awaiting_panel", "target": target}
        for target in [
            "rapid_review",
            "national_review",
            "lcspr",
            "learning_review",
            "action_tracking",
        ]
    ]
    assert events["close"]["transitions"] == [
        {"source": "action_tracking", "target": "closed"},
        {"source": "not_notified", "target": "closed"},
    ]
    for name, event in events.items():
        assert event["payload_schema"] == payload_schema(name).model_json_schema()


@pytest.mark.parametrize("event", EVENTS)
def test_every_payload_schema_forbids_extras_and_describes_each_field(event: str) -> None:
    schema = payload_schema(event).model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["description"]
    for field, spec in schema["properties"].items():
        assert spec.get("description"), f"{event}.{field} has no description"


def test_payload_schema_of_an_unknown_event_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowError, match="'explode'"):
        payload_schema("explode")


def test_mermaid_diagram_shows_states_and_routed_transitions() -> None:
    diagram = mermaid()
    assert diagram.startswith("stateDiagram-v2")
    for state in STATES:
        assert f" as {state}" in diagram
    assert "referred --> closed : Notify panel [!rapid_review_required]" in diagram
    assert "pre_publication --> action_tracking : Publish [advance_copies_sent]" in diagram


def test_docs_workflow_md_is_up_to_date() -> None:
    expected = render_docs()
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert actual == expected, (
        "docs/workflow.md is out of date with review_engine.workflow; regenerate it with:\n"
        "    python -m review_engine.workflow > docs/workflow.md"
    )


def test_rendered_docs_hold_the_diagram_and_the_transition_table() -> None:
    docs = render_docs()
    assert "```mermaid\n" + mermaid().strip() + "\n```" in docs
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in docs.splitlines()]
    assert ["Pre-publication", "Publish", "advance_copies_sent", "Action tracking"] in rows


def test_running_the_module_writes_the_docs_to_stdout() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "review_engine.workflow"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == render_docs()


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


def test_publish_counts_the_notice_on_the_configured_calendar() -> None:
    from review_engine.calendar import Calendar

    timeline = CaseTimeline(
        aware_on=date(2026, 1, 5),
        notified_on=date(2026, 1, 6),
        rapid_review_required=True,
        submitted_on=date(2026, 1, 20),
        recommendation="lcspr",
        panel_response_on=date(2026, 2, 2),
        panel_outcome="agreed",
        review_route="lcspr",
        decided_on=date(2026, 2, 2),
        approved_on=date(2026, 8, 3),
        planned_publication_on=date(2026, 9, 15),
        advance_copies=(
            AdvanceCopies(sent_on=date(2026, 9, 4), recipients=ADVANCE_COPY_RECIPIENTS),
        ),
    )
    payload = {
        "published_on": "2026-09-15",
        "mode": "full",
        "url": "https://example.org/r",
        "title": "Child P",
    }
    # On the England and Wales calendar, 4 Sept is exactly 7 working days before 15 Sept.
    assert fire(
        incident=INCIDENT,
        state="pre_publication",
        timeline=timeline,
        event="publish",
        payload=payload,
    )
    closed = Calendar(extra_closure_days=[date(2026, 9, 8)])
    with pytest.raises(InvalidEventData) as refused:
        fire(
            incident=INCIDENT,
            state="pre_publication",
            timeline=timeline,
            event="publish",
            payload=payload,
            calendar=closed,
        )
    assert [error.field for error in refused.value.errors] == ["late_notice_reason"]
    assert "2026-09-03" in refused.value.errors[0].message
