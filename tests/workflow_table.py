"""The workflow's transition table, one row per transition of the machine (the test that
it covers them all is in test_workflow_transitions.py); it also gives the payload
tests a valid step for every event and the restore tests a way out of every state.
"""

from __future__ import annotations

from typing import Any

from review_engine.timeline import ADVANCE_COPY_RECIPIENTS, AdvanceCopies, Pause, Reschedule
from tests.workflow_helpers import (
    APPROVE,
    ESCALATE,
    INFORM,
    NEW_INFORMATION,
    NOT_NOTIFIED,
    NOTIFY,
    NOTIFY_NO_RAPID_REVIEW,
    PATHS,
    PAUSE,
    RESCHEDULE,
    SEND_COPIES,
    TO_LCSPR,
    WITHDRAW,
    Step,
    d,
    respond,
    submit,
)

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
