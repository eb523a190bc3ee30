"""Event payloads: what each event requires and refuses (missing, unknown and malformed
fields, dates before the local authority became aware), and the chronology every
event's dates must keep with what the case has recorded.
"""

from __future__ import annotations

from typing import Any

import pytest

from review_engine.timeline import CaseTimeline
from review_engine.workflow import (
    EVENTS,
    FieldError,
    InvalidEventData,
    WorkflowError,
    fire,
    payload_schema,
)
from tests.workflow_helpers import (
    APPROVE,
    AWARE_ON,
    INCIDENT,
    NEW_INFORMATION,
    NOT_NOTIFIED,
    NOTIFY,
    PATHS,
    PAUSE,
    RESCHEDULE,
    RESUME_APRIL,
    SEND_COPIES,
    TO_LCSPR,
    WITHDRAW,
    Step,
    refused,
    refused_fields,
    respond,
    submit,
    walk,
)
from tests.workflow_table import TRANSITIONS

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
