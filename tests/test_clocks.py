"""The statutory clocks: due dates, statuses and their basis, as of any day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review_engine.calendar import Calendar, add_working_days, default_calendar
from review_engine.clocks import CLOCKS, Deadline, compute_deadlines
from review_engine.timeline import AdvanceCopies, CaseTimeline, Pause, Waiver

D = date.fromisoformat


def timeline(**recorded: Any) -> CaseTimeline:
    recorded.setdefault("aware_on", D("2026-11-02"))
    return CaseTimeline(**recorded)


def clock(deadlines: list[Deadline], name: str) -> Deadline:
    matches = [deadline for deadline in deadlines if deadline.name == name]
    assert len(matches) == 1, f"{name} not in {[d.name for d in deadlines]}"
    return matches[0]


def names(deadlines: list[Deadline]) -> list[str]:
    return [deadline.name for deadline in deadlines]


def sent_to_all(sent_on: str) -> tuple[AdvanceCopies, ...]:
    """Advance copies sent to every recipient on one day."""
    return (
        AdvanceCopies(sent_on=D(sent_on), recipients=("panel", "secretary_of_state", "ofsted")),
    )


def lcspr(**recorded: Any) -> CaseTimeline:
    """A case whose Panel agreed an LCSPR decided on 31 Aug 2026."""
    base: dict[str, Any] = {
        "aware_on": D("2026-07-01"),
        "notified_on": D("2026-07-03"),
        "rapid_review_required": True,
        "partners_informed_on": D("2026-07-03"),
        "submitted_on": D("2026-07-20"),
        "recommendation": "lcspr",
        "panel_response_on": D("2026-08-14"),
        "panel_outcome": "agreed",
        "review_route": "lcspr",
        "decided_on": D("2026-08-31"),
    }
    return CaseTimeline(**(base | recorded))


def test_the_table_names_every_clock_once_with_a_source() -> None:
    assert [rule.name for rule in CLOCKS] == [
        "notification",
        "partners_informed",
        "rapid_review",
        "review_publication",
        "advance_copies",
        "keep_published_until",
    ]
    for rule in CLOCKS:
        assert rule.source.startswith("docs/statutory-basis.md#")
        assert rule.summary


def test_each_clock_cites_a_section_of_the_projects_statutory_basis() -> None:
    basis = (Path(__file__).resolve().parents[1] / "docs" / "statutory-basis.md").read_text(
        encoding="utf-8"
    )
    # GitHub's anchors: the heading lowercased, spaces to hyphens.
    anchors = {
        line.lstrip("#").strip().lower().replace(" ", "-")
        for line in basis.splitlines()
        if line.startswith("#")
    }
    for rule in CLOCKS:
        anchor = rule.source.removeprefix("docs/statutory-basis.md#").split(" ", 1)[0]
        assert anchor in anchors, f"{rule.name}: no section #{anchor}"
        assert "shared/" not in rule.source
        assert "domain.md" not in rule.source


def test_a_new_referral_runs_the_notification_clocks() -> None:
    deadlines = compute_deadlines(timeline(), as_of=D("2026-11-03"))
    assert names(deadlines) == ["notification", "partners_informed"]
    notification = clock(deadlines, "notification")
    assert notification.due_on == D("2026-11-09")  # Monday 2 Nov + 5 working days
    assert notification.statutory_due_on == notification.due_on
    assert notification.status == "pending"
    assert notification.met_on is None
    assert notification.basis.start_event == "aware_on"
    assert notification.basis.start_on == D("2026-11-02")
    assert notification.basis.calendar_version == default_calendar().version
    assert "docs/statutory-basis.md#notification" in notification.basis.rule


def test_rapid_review_clock_waits_for_the_notification_by_default() -> None:
    assert "rapid_review" not in names(compute_deadlines(timeline(), as_of=D("2026-11-03")))


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2026-11-04", "pending"),
        ("2026-11-05", "due_soon"),
        ("2026-11-06", "due_soon"),
        ("2026-11-09", "due_soon"),
        ("2026-11-10", "overdue"),
    ],
)
def test_notification_status_as_of(as_of: str, status: str) -> None:
    # Thu 5 Nov is 2 working days before Mon 9 Nov (Fri 6, Mon 9): within the default 2.
    deadline = clock(compute_deadlines(timeline(), as_of=D(as_of)), "notification")
    assert deadline.status == status


def test_due_soon_window_is_configurable() -> None:
    deadlines = compute_deadlines(timeline(), as_of=D("2026-11-04"), due_soon_working_days=3)
    assert clock(deadlines, "notification").status == "due_soon"
    deadlines = compute_deadlines(timeline(), as_of=D("2026-11-06"), due_soon_working_days=0)
    assert clock(deadlines, "notification").status == "pending"


def test_met_and_met_late() -> None:
    on_time = timeline(notified_on=D("2026-11-09"), partners_informed_on=D("2026-11-10"))
    deadlines = compute_deadlines(on_time, as_of=D("2026-11-20"))
    assert clock(deadlines, "notification").status == "met"
    assert clock(deadlines, "notification").met_on == D("2026-11-09")
    assert clock(deadlines, "partners_informed").status == "met_late"


def test_as_of_ignores_events_recorded_later() -> None:
    notified = timeline(notified_on=D("2026-11-12"))
    before = clock(compute_deadlines(notified, as_of=D("2026-11-10")), "notification")
    assert (before.status, before.met_on) == ("overdue", None)
    after = clock(compute_deadlines(notified, as_of=D("2026-11-12")), "notification")
    assert after.status == "met_late"


def test_a_decision_not_to_notify_stops_the_notification_clocks_on_its_date() -> None:
    # Aware Mon 2 Nov 2026: both clocks due Mon 9 Nov. Decided (late) on Fri 13 Nov.
    decided = timeline(not_notified_on=D("2026-11-13"), not_notified_reason="criteria not met")
    for name in ("notification", "partners_informed"):
        after = clock(compute_deadlines(decided, as_of=D("2026-12-01")), name)
        assert (after.status, after.stopped_on, after.met_on) == ("stopped", D("2026-11-13"), None)
        # Before the decision the clock was running, and already late on 10 Nov.
        before = clock(compute_deadlines(decided, as_of=D("2026-11-10")), name)
        assert (before.status, before.stopped_on) == ("overdue", None)


def test_rapid_review_counts_15_working_days_from_the_notification() -> None:
    notified = timeline(notified_on=D("2026-12-18"), rapid_review_required=True)
    rapid_review = clock(compute_deadlines(notified, as_of=D("2026-12-18")), "rapid_review")
    # Christmas 2026: 25, 28 Dec and 1 Jan are bank holidays.
    assert rapid_review.due_on == D("2027-01-13")
    assert rapid_review.basis.start_event == "notified_on"
    assert rapid_review.status == "pending"


def test_rapid_review_can_count_from_awareness_by_partnership_setting() -> None:
    notified = timeline(notified_on=D("2026-11-06"), rapid_review_clock_start="aware")
    rapid_review = clock(compute_deadlines(notified, as_of=D("2026-11-06")), "rapid_review")
    assert rapid_review.basis.start_event == "aware_on"
    assert rapid_review.basis.rapid_review_clock_start == "aware"
    assert rapid_review.due_on == add_working_days(D("2026-11-02"), 15) == D("2026-11-23")
    unnotified = compute_deadlines(
        timeline(rapid_review_clock_start="aware"), as_of=D("2026-11-03")
    )
    assert "rapid_review" in names(unnotified)
    by_default = clock(
        compute_deadlines(
            notified.model_copy(update={"rapid_review_clock_start": "notified"}),
            as_of=D("2026-11-06"),
        ),
        "rapid_review",
    )
    assert by_default.basis.rapid_review_clock_start == "notified"
    assert by_default.due_on == D("2026-11-27")  # Fri 6 Nov + 15 working days


def test_rapid_review_is_met_by_the_first_submission() -> None:
    resubmitted = timeline(
        notified_on=D("2026-11-04"),
        submitted_on=D("2026-11-20"),
        resubmitted_on=D("2026-12-20"),
    )
    rapid_review = clock(compute_deadlines(resubmitted, as_of=D("2027-01-10")), "rapid_review")
    assert rapid_review.met_on == D("2026-11-20")
    assert rapid_review.status == "met"


def test_no_rapid_review_clock_when_none_is_needed() -> None:
    recorded = timeline(
        notified_on=D("2026-11-04"), rapid_review_required=False, closed_on=D("2026-11-04")
    )
    assert "rapid_review" not in names(compute_deadlines(recorded, as_of=D("2027-01-01")))


def test_a_withdrawal_stops_the_rapid_review_clock_and_as_of_before_it_shows_it_late() -> None:
    # Notified Wed 4 Nov 2026: rapid review due Wed 25 Nov; never sent; withdrawn Fri 4 Dec.
    withdrawn = timeline(
        notified_on=D("2026-11-04"),
        rapid_review_required=True,
        withdrawn_on=D("2026-12-04"),
        withdrawn_reason="criteria not met",
    )
    after = clock(compute_deadlines(withdrawn, as_of=D("2027-01-01")), "rapid_review")
    assert (after.status, after.stopped_on, after.due_on) == (
        "stopped",
        D("2026-12-04"),
        D("2026-11-25"),
    )
    before = clock(compute_deadlines(withdrawn, as_of=D("2026-12-01")), "rapid_review")
    assert (before.status, before.stopped_on) == ("overdue", None)


@pytest.mark.parametrize(
    ("decided_on", "due_on"),
    [
        ("2026-08-31", "2027-02-28"),  # month end clamps
        ("2027-08-31", "2028-02-29"),  # ... to 29 Feb in a leap year
        ("2026-03-15", "2026-09-15"),
        ("2026-12-31", "2027-06-30"),
    ],
)
def test_review_publication_is_six_calendar_months(decided_on: str, due_on: str) -> None:
    case = lcspr(decided_on=D(decided_on))
    publication = clock(compute_deadlines(case, as_of=D(decided_on)), "review_publication")
    assert publication.due_on == D(due_on)
    assert publication.statutory_due_on == D(due_on)
    assert publication.basis.unit == "calendar_months"


def test_review_publication_applies_only_to_an_lcspr() -> None:
    learning = lcspr(review_route="learning_review", recommendation="learning_review")
    assert "review_publication" not in names(compute_deadlines(learning, as_of=D("2027-06-01")))


def test_review_publication_met_by_publication_or_a_decision_to_withhold() -> None:
    published = lcspr(published_on=D("2027-02-26"))
    assert (
        clock(compute_deadlines(published, as_of=D("2027-03-01")), "review_publication").status
        == "met"
    )
    withheld = lcspr(withheld_on=D("2027-03-05"), withheld_reason="trial pending")
    status = clock(compute_deadlines(withheld, as_of=D("2027-03-10")), "review_publication")
    assert (status.status, status.met_on) == ("met_late", D("2027-03-05"))


def test_a_pause_extends_due_on_by_the_working_days_spent_paused() -> None:
    pause = Pause(
        started_on=D("2026-10-05"),  # Monday
        reason="criminal trial",
        panel_informed_on=D("2026-10-06"),
        resumed_on=D("2026-10-19"),  # two weeks later: 10 working days
    )
    case = lcspr(pauses=(pause,))
    publication = clock(compute_deadlines(case, as_of=D("2026-11-01")), "review_publication")
    assert publication.statutory_due_on == D("2027-02-28")
    assert publication.basis.paused_working_days == 10
    assert publication.due_on == add_working_days(D("2027-02-28"), 10) == D("2027-03-12")
    assert publication.status == "pending"


def test_an_ongoing_pause_is_paused_and_keeps_extending() -> None:
    pause = Pause(started_on=D("2026-10-05"), reason="inquest", panel_informed_on=D("2026-10-05"))
    case = lcspr(pauses=(pause,))
    early = clock(compute_deadlines(case, as_of=D("2026-10-12")), "review_publication")
    later = clock(compute_deadlines(case, as_of=D("2027-04-01")), "review_publication")
    assert early.status == later.status == "paused"
    assert early.basis.paused_working_days == 5
    assert later.due_on > early.due_on
    assert later.statutory_due_on == early.statutory_due_on == D("2027-02-28")
    # As of a day before the pause began, the clock was simply running.
    before = clock(compute_deadlines(case, as_of=D("2026-10-01")), "review_publication")
    assert (before.status, before.basis.paused_working_days) == ("pending", 0)


def test_a_pause_resumed_after_as_of_is_still_ongoing_then() -> None:
    pause = Pause(
        started_on=D("2026-10-05"),
        reason="trial",
        panel_informed_on=D("2026-10-05"),
        resumed_on=D("2026-12-01"),
    )
    publication = clock(
        compute_deadlines(lcspr(pauses=(pause,)), as_of=D("2026-11-02")), "review_publication"
    )
    assert publication.status == "paused"
    assert publication.basis.paused_working_days == 20


def test_waivers_take_precedence_and_keep_their_reason() -> None:
    waiver = Waiver(reason="COVID-19 relaxation 2020", waived_on=D("2027-03-10"))
    waived = lcspr(waivers={"review_publication": waiver})
    publication = clock(compute_deadlines(waived, as_of=D("2027-06-01")), "review_publication")
    assert publication.status == "waived"
    assert publication.basis.waiver_reason == "COVID-19 relaxation 2020"
    assert publication.basis.waived_on == D("2027-03-10")
    # As of a day before the waiver was recorded, the clock was simply late (due 28 Feb).
    before = clock(compute_deadlines(waived, as_of=D("2027-03-09")), "review_publication")
    assert (before.status, before.basis.waiver_reason) == ("overdue", None)


def test_advance_copies_count_back_from_the_planned_date_and_follow_it() -> None:
    planned = lcspr(approved_on=D("2026-12-01"), planned_publication_on=D("2027-01-06"))
    copies = clock(compute_deadlines(planned, as_of=D("2026-12-01")), "advance_copies")
    assert copies.due_on == D("2026-12-23")
    assert copies.basis.start_event == "planned_publication_on"
    moved = planned.model_copy(update={"planned_publication_on": D("2027-01-20")})
    assert clock(compute_deadlines(moved, as_of=D("2026-12-01")), "advance_copies").due_on == D(
        "2027-01-11"
    )


def test_advance_copies_met_on_time_become_late_when_publication_is_brought_forward() -> None:
    sent = lcspr(
        approved_on=D("2026-12-01"),
        planned_publication_on=D("2027-01-20"),
        advance_copies=sent_to_all("2027-01-08"),
    )
    assert clock(compute_deadlines(sent, as_of=D("2027-01-08")), "advance_copies").status == "met"
    earlier = sent.model_copy(update={"planned_publication_on": D("2027-01-13")})
    assert clock(compute_deadlines(earlier, as_of=D("2027-01-08")), "advance_copies").status == (
        "met_late"
    )


def test_advance_copies_measured_against_the_actual_publication_date() -> None:
    published = lcspr(
        approved_on=D("2026-12-01"),
        planned_publication_on=D("2027-01-20"),
        advance_copies=sent_to_all("2027-01-08"),
        published_on=D("2027-01-12"),
        late_notice_reason="published early at the family's request",
    )
    copies = clock(compute_deadlines(published, as_of=D("2027-02-01")), "advance_copies")
    assert copies.basis.start_event == "published_on"
    assert copies.due_on == D("2026-12-31")
    assert copies.status == "met_late"
    assert copies.basis.late_notice_reason == "published early at the family's request"


def test_advance_copies_overdue_when_not_sent() -> None:
    planned = lcspr(approved_on=D("2026-12-01"), planned_publication_on=D("2027-01-06"))
    assert clock(compute_deadlines(planned, as_of=D("2026-12-24")), "advance_copies").status == (
        "overdue"
    )


@pytest.mark.parametrize(
    ("published_on", "kept_until"),
    [("2027-01-12", "2028-01-12"), ("2028-02-29", "2029-03-01")],
)
def test_keep_published_until_is_a_year_and_never_overdue(
    published_on: str, kept_until: str
) -> None:
    published = lcspr(advance_copies=sent_to_all("2026-12-01"), published_on=D(published_on))
    keep = clock(compute_deadlines(published, as_of=D(published_on)), "keep_published_until")
    assert keep.kind == "constraint"
    assert keep.due_on == D(kept_until)
    assert keep.status == "pending"
    later = compute_deadlines(published, as_of=D("2031-01-01"))
    assert clock(later, "keep_published_until").status == "met"


def test_extra_closure_days_move_due_dates_and_the_recorded_version() -> None:
    calendar = Calendar(extra_closure_days=[D("2026-11-05")])
    deadline = clock(
        compute_deadlines(timeline(), as_of=D("2026-11-03"), calendar=calendar), "notification"
    )
    assert deadline.due_on == D("2026-11-10")
    assert deadline.basis.calendar_version == calendar.version


@given(
    aware_on=st.dates(min_value=date(2019, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.integers(min_value=-20, max_value=60),
)
def test_status_is_consistent_with_dates(aware_on: date, offset: int) -> None:
    as_of = aware_on + timedelta(days=offset)
    notification = clock(
        compute_deadlines(timeline(aware_on=aware_on), as_of=as_of), "notification"
    )
    assert notification.due_on == add_working_days(aware_on, 5)
    if as_of > notification.due_on:
        assert notification.status == "overdue"
    else:
        assert notification.status in ("pending", "due_soon")
