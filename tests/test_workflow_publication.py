"""Publication: the advance-copy notice counted in working days (and on the configured
calendar), late-notice reasons, advance copies and their recipients, withholding, and a
learning review's publication.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from review_engine.calendar import add_working_days, working_days_between
from review_engine.timeline import ADVANCE_COPY_RECIPIENTS, AdvanceCopies, CaseTimeline
from review_engine.workflow import InvalidEventData, allowed_events, fire
from tests.workflow_helpers import (
    APPROVE,
    INCIDENT,
    TO_LCSPR,
    Step,
    case_in,
    pre_publication_case,
    publication,
    refused,
    refused_fields,
    walk,
)

# -- Publication --------------------------------------------------------------------------


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
