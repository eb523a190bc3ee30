"""The pure rules of an action (`review_engine.actions.rules`): which status moves are
allowed, what each status and rating needs, what stays editable once an action is final,
and when an action is overdue. Examples first, then properties over any facts.

The table of moves is restated here from the module's diagram, not imported, so a change
to the rules has to change this test too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review_engine.actions.rules import (
    EDITABLE_WHEN_FINISHED,
    FINISHED_STATUSES,
    OUTSTANDING_STATUSES,
    RATINGS,
    STATUSES,
    ActionFacts,
    StatusConflict,
    check_change,
    check_finished,
    overdue_on,
)

#   open ⇄ in_progress → completed → assured;  open, in_progress, completed → cancelled;
#   completed → in_progress (assurance refused: back to work).
ALLOWED_MOVES = {
    ("open", "in_progress"),
    ("in_progress", "open"),
    ("open", "completed"),
    ("in_progress", "completed"),
    ("completed", "in_progress"),
    ("completed", "assured"),
    ("open", "cancelled"),
    ("in_progress", "cancelled"),
    ("completed", "cancelled"),
}
EVIDENCED = ("completed", "assured")
FIELDS = {
    "body.evidence_of_completion",
    "body.assured_on",
    "body.assured_by",
    "body.cancellation_reason",
    "body.rating",
    "body.evidence_of_impact",
    "body.due_on_change_reason",
}
DUE = date(2026, 10, 15)
OPEN = ActionFacts(
    status="open",
    rating=None,
    due_on=DUE,
    evidence_of_completion=None,
    completed_on=None,
    assured_on=None,
    assured_by=None,
    cancellation_reason=None,
    evidence_of_impact=None,
)
COMPLETED = replace(
    OPEN, status="completed", evidence_of_completion="audit done", completed_on=date(2026, 11, 20)
)
ASSURED = replace(COMPLETED, status="assured", assured_on=date(2026, 11, 27), assured_by="L&I")


def fields(before: ActionFacts | None, after: ActionFacts, reason: str | None = None) -> list[str]:
    return [
        error.field
        for error in check_change(before=before, after=after, due_on_change_reason=reason)
    ]


# -- examples ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, OPEN),
        (OPEN, replace(OPEN, status="in_progress", rating="amber")),
        (OPEN, COMPLETED),
        (COMPLETED, ASSURED),
        (COMPLETED, replace(COMPLETED, rating="blue", evidence_of_impact="held")),
        (ASSURED, replace(ASSURED, rating="blue", evidence_of_impact="held")),
        (OPEN, replace(OPEN, status="cancelled", cancellation_reason="superseded")),
        (COMPLETED, replace(COMPLETED, status="in_progress", completed_on=None)),
    ],
    ids=["new", "start", "complete", "assure", "blue-impact", "assured-impact", "cancel", "reopen"],
)
def test_a_change_the_rules_allow_needs_no_correction(
    before: ActionFacts | None, after: ActionFacts
) -> None:
    assert fields(before, after) == []


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [
        (OPEN, replace(OPEN, status="completed"), ["body.evidence_of_completion"]),
        (OPEN, replace(COMPLETED, evidence_of_completion=""), ["body.evidence_of_completion"]),
        (COMPLETED, replace(COMPLETED, status="assured"), ["body.assured_on", "body.assured_by"]),
        # Completed Fri 20 Nov; assured Thu 19 Nov is before it.
        (COMPLETED, replace(ASSURED, assured_on=date(2026, 11, 19)), ["body.assured_on"]),
        (COMPLETED, replace(COMPLETED, assured_by="L&I"), ["body.assured_by"]),
        (OPEN, replace(OPEN, status="cancelled"), ["body.cancellation_reason"]),
        (OPEN, replace(OPEN, cancellation_reason="why"), ["body.cancellation_reason"]),
        (OPEN, replace(OPEN, rating="blue"), ["body.rating"]),
        (
            OPEN,
            replace(OPEN, status="in_progress", evidence_of_impact="x"),
            ["body.evidence_of_impact"],
        ),
        (OPEN, replace(OPEN, due_on=DUE + timedelta(days=14)), ["body.due_on_change_reason"]),
    ],
)
def test_each_requirement_names_the_field_to_correct(
    before: ActionFacts, after: ActionFacts, named: list[str]
) -> None:
    assert fields(before, after) == named


def test_a_due_date_moves_only_with_a_reason_and_a_reason_only_with_a_move() -> None:
    later = replace(OPEN, due_on=DUE + timedelta(days=29))
    assert fields(OPEN, later, "inspection") == []
    assert fields(OPEN, later, "") == ["body.due_on_change_reason"]  # blank is no reason
    assert fields(OPEN, OPEN, "inspection") == ["body.due_on_change_reason"]
    assert fields(None, OPEN, None) == []  # a new action's first date is not a move


@pytest.mark.parametrize(
    ("before", "status", "says"),
    [
        (OPEN, "assured", "Only a completed action can be assured"),
        (replace(OPEN, status="in_progress"), "assured", "Only a completed action can be assured"),
        (COMPLETED, "open", "cannot move from completed to open"),
        (ASSURED, "completed", "assured, which is final"),
        (
            replace(OPEN, status="cancelled", cancellation_reason="x"),
            "open",
            "cancelled, which is final",
        ),
    ],
)
def test_a_move_not_allowed_is_a_status_conflict_that_says_why(
    before: ActionFacts, status: str, says: str
) -> None:
    with pytest.raises(StatusConflict, match=says):
        check_change(before=before, after=replace(before, status=status), due_on_change_reason=None)


def test_a_final_action_keeps_only_impact_and_rating_editable() -> None:
    assert {"evidence_of_impact", "rating"} == EDITABLE_WHEN_FINISHED
    check_finished("assured", {"evidence_of_impact", "rating"})
    check_finished("completed", {"status", "due_on", "description"})
    with pytest.raises(
        StatusConflict, match=r"cancelled, which is final.*\(not description, owner\)"
    ):
        check_finished("cancelled", {"owner", "description", "rating"})


def test_impact_is_added_once_completed_and_kept_when_the_action_goes_back_to_work() -> None:
    impact = "Audit of 20 records: household members recorded in 19"
    assert fields(OPEN, replace(OPEN, evidence_of_impact=impact)) == ["body.evidence_of_impact"]
    with_impact = replace(COMPLETED, evidence_of_impact=impact)
    assert fields(COMPLETED, with_impact) == []
    # Assurance refused: back to work, or cancelled, keeping what was recorded.
    assert fields(with_impact, replace(with_impact, status="in_progress", completed_on=None)) == []
    cancelled = replace(with_impact, status="cancelled", cancellation_reason="superseded")
    assert fields(with_impact, cancelled) == []
    # But new impact evidence is not added to an action that is not complete.
    reopened = replace(with_impact, status="in_progress", completed_on=None)
    assert fields(reopened, replace(reopened, evidence_of_impact="more")) == [
        "body.evidence_of_impact"
    ]


def test_the_slipped_action_is_overdue_by_the_due_date_then_in_force() -> None:
    # The API test's action: recorded Thu 1 Oct, due 15 Oct, then 30 Oct (moved Tue 20 Oct),
    # completed Fri 20 Nov. On Sat 31 Oct the date in force was 30 Oct: late.
    recorded, completed = date(2026, 10, 1), date(2026, 11, 20)

    def overdue(day: date, due_on: date) -> bool:
        return overdue_on(
            day, due_on=due_on, recorded_on=recorded, completed_on=completed, cancelled_on=None
        )

    assert overdue(date(2026, 10, 16), date(2026, 10, 15))
    assert not overdue(date(2026, 10, 20), date(2026, 10, 30))
    assert overdue(date(2026, 10, 31), date(2026, 10, 30))
    assert not overdue(date(2026, 11, 20), date(2026, 11, 13))  # completed that day


def test_only_assured_and_cancelled_let_a_case_close() -> None:
    assert set(OUTSTANDING_STATUSES) | set(FINISHED_STATUSES) == set(STATUSES)
    assert set(FINISHED_STATUSES) == {"assured", "cancelled"}


# -- properties ----------------------------------------------------------------------------

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
texts = st.none() | st.sampled_from(["", "evidence", "L&I subgroup"])
statuses = st.sampled_from(STATUSES)
facts = st.builds(
    ActionFacts,
    status=statuses,
    rating=st.none() | st.sampled_from(RATINGS),
    due_on=days,
    evidence_of_completion=texts,
    completed_on=st.none() | days,
    assured_on=st.none() | days,
    assured_by=texts,
    cancellation_reason=texts,
    evidence_of_impact=texts,
)
reasons = st.none() | st.sampled_from(["", "inspection"])


@given(before=facts, after=facts, reason=reasons)
def test_any_move_outside_the_table_is_a_conflict_and_any_inside_is_not(
    before: ActionFacts, after: ActionFacts, reason: str | None
) -> None:
    moving = after.status != before.status
    if moving and (before.status, after.status) not in ALLOWED_MOVES:
        with pytest.raises(StatusConflict):
            check_change(before=before, after=after, due_on_change_reason=reason)
    else:
        errors = check_change(before=before, after=after, due_on_change_reason=reason)
        assert {error.field for error in errors} <= FIELDS


@given(after=facts, reason=reasons)
def test_blue_is_never_accepted_without_completion_evidence(
    after: ActionFacts, reason: str | None
) -> None:
    named = fields(None, after, reason)
    evidenced = after.status in EVIDENCED and bool(after.evidence_of_completion)
    if after.rating == "blue":
        assert ("body.rating" in named) is not evidenced
    else:
        assert "body.rating" not in named
    if after.status in EVIDENCED and not after.evidence_of_completion:
        assert "body.evidence_of_completion" in named
    if after.evidence_of_impact is not None and after.status not in EVIDENCED:
        assert "body.evidence_of_impact" in named


@given(after=facts)
def test_assurance_and_cancellation_details_come_only_with_their_status(after: ActionFacts) -> None:
    named = fields(None, after)
    if after.status == "assured":
        assert ("body.assured_by" in named) is (not after.assured_by)
    elif after.assured_on is not None:
        assert "body.assured_on" in named
    elif after.assured_by is not None:
        assert "body.assured_by" in named
    cancelled = after.status == "cancelled"
    missing = cancelled and not after.cancellation_reason  # None or blank
    misplaced = not cancelled and after.cancellation_reason is not None
    assert ("body.cancellation_reason" in named) is (missing or misplaced)


@given(due_on=days, moved_to=days, reason=st.none() | st.just("inspection"))
def test_a_reason_is_needed_exactly_when_the_due_date_moves(
    due_on: date, moved_to: date, reason: str | None
) -> None:
    before = replace(OPEN, due_on=due_on)
    named = fields(before, replace(before, due_on=moved_to), reason)
    assert (named == []) is ((moved_to != due_on) == (reason is not None))


@given(
    status=statuses,
    changed=st.sets(
        st.sampled_from(
            sorted(EDITABLE_WHEN_FINISHED | {"status", "owner", "due_on", "description"})
        )
    ),
)
def test_a_final_action_refuses_anything_but_impact_and_rating(
    status: str, changed: set[str]
) -> None:
    if status in FINISHED_STATUSES and not changed <= EDITABLE_WHEN_FINISHED:
        with pytest.raises(StatusConflict):
            check_finished(status, changed)
    else:
        check_finished(status, changed)


@given(
    day=days,
    due_on=days,
    recorded_on=days,
    completed_on=st.none() | days,
    cancelled_on=st.none() | days,
)
def test_overdue_only_after_the_due_date_while_recorded_and_unfinished(
    day: date, due_on: date, recorded_on: date, completed_on: date | None, cancelled_on: date | None
) -> None:
    def overdue(on: date) -> bool:
        return overdue_on(
            on,
            due_on=due_on,
            recorded_on=recorded_on,
            completed_on=completed_on,
            cancelled_on=cancelled_on,
        )

    if day <= due_on or day < recorded_on:
        assert not overdue(day)  # never on or before the due day, nor before it was recorded
    if any(on is not None and on <= day for on in (completed_on, cancelled_on)):
        assert not overdue(day)  # done (or cancelled) by then
    running = completed_on is None and cancelled_on is None
    if running and recorded_on <= day and due_on < day:
        assert overdue(day)  # open or in progress and past its due date
        assert overdue(day + timedelta(days=1))  # and stays late until it is finished
