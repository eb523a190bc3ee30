"""Statutory fidelity of the clocks: they end with the case, the six months run from the
partners' decision, a missed deadline stays missed, and "as of" is a replay.

Every date here is worked by hand in the comment beside it (England and Wales calendar).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from review_engine.clocks import Deadline, compute_deadlines
from review_engine.timeline import AdvanceCopies, CaseTimeline, Pause, Reschedule, Waiver

D = date.fromisoformat
ALL = ("panel", "secretary_of_state", "ofsted")


def clock(timeline: CaseTimeline, name: str, as_of: str) -> Deadline:
    matches = [d for d in compute_deadlines(timeline, as_of=D(as_of)) if d.name == name]
    assert len(matches) == 1, f"{name} not among the deadlines as of {as_of}"
    return matches[0]


def names(timeline: CaseTimeline, as_of: str) -> list[str]:
    return [d.name for d in compute_deadlines(timeline, as_of=D(as_of))]


def lcspr(**recorded: Any) -> CaseTimeline:
    """Aware Mon 2 Mar 2026, notified Wed 4 Mar, rapid review sent Wed 18 Mar recommending
    an LCSPR, which the partners decided on Tue 24 Mar; the Panel agreed on Tue 21 Apr."""
    base: dict[str, Any] = {
        "aware_on": D("2026-03-02"),
        "notified_on": D("2026-03-04"),
        "rapid_review_required": True,
        "partners_informed_on": D("2026-03-04"),
        "submitted_on": D("2026-03-18"),
        "recommendation": "lcspr",
        "panel_response_on": D("2026-04-21"),
        "panel_outcome": "agreed",
        "review_route": "lcspr",
        "decided_on": D("2026-03-24"),
    }
    return CaseTimeline(**(base | recorded))


# -- 1. Clocks end with the case ------------------------------------------------------------


def test_closing_a_case_stops_every_clock_still_running() -> None:
    # Aware Mon 2 Mar 2026; notified Wed 4 Mar without a rapid review (a looked-after
    # child's death), which closes the case that day; the partners were never told: their
    # clock (due Mon 9 Mar) stops on 4 Mar instead of staying overdue for ever.
    closed = CaseTimeline(
        aware_on=D("2026-03-02"),
        notified_on=D("2026-03-04"),
        rapid_review_required=False,
        closed_on=D("2026-03-04"),
    )
    partners = clock(closed, "partners_informed", "2026-11-28")
    assert (partners.status, partners.stopped_on, partners.due_on) == (
        "stopped",
        D("2026-03-04"),
        D("2026-03-09"),
    )
    notification = clock(closed, "notification", "2026-11-28")
    assert (notification.status, notification.stopped_on) == ("met", None)  # verdict kept


def test_met_late_and_waived_verdicts_survive_the_end_of_the_case() -> None:
    # Told the partners Tue 10 Mar, a day after the 9 Mar due date; rapid review waived.
    waiver = Waiver(reason="national relaxation", waived_on=D("2026-03-05"))
    withdrawn = lcspr(
        partners_informed_on=D("2026-03-10"),
        submitted_on=None,
        recommendation=None,
        panel_response_on=None,
        panel_outcome=None,
        review_route=None,
        decided_on=None,
        waivers={"rapid_review": waiver},
        withdrawn_on=D("2026-03-20"),
        withdrawn_reason="criteria not met",
    )
    assert clock(withdrawn, "partners_informed", "2026-06-01").status == "met_late"
    assert clock(withdrawn, "rapid_review", "2026-06-01").status == "waived"


def test_withholding_publication_stops_the_advance_copies_clock() -> None:
    # Approved Mon 1 Jun 2026 for publication Wed 1 Jul: copies due Mon 22 Jun (7 working
    # days back: 30, 29, 26, 25, 24, 23, 22 Jun). Withheld Wed 17 Jun, copies never sent.
    withheld = lcspr(
        approved_on=D("2026-06-01"),
        planned_publication_on=D("2026-07-01"),
        withheld_on=D("2026-06-17"),
        withheld_reason="criminal trial",
    )
    copies = clock(withheld, "advance_copies", "2026-08-01")
    assert (copies.due_on, copies.status, copies.stopped_on) == (
        D("2026-06-22"),
        "stopped",
        D("2026-06-17"),
    )
    publication = clock(withheld, "review_publication", "2026-08-01")
    assert (publication.status, publication.met_on) == ("met", D("2026-06-17"))


def test_the_panel_taking_a_national_review_stops_the_six_month_clock() -> None:
    # LCSPR decided Tue 24 Mar 2026 (due Thu 24 Sep); the Panel takes it on Mon 12 Oct,
    # after the due date: the clock was overdue until then, and is stopped after.
    escalated = lcspr(escalated_on=D("2026-10-12"))
    after = clock(escalated, "review_publication", "2026-11-01")
    assert (after.status, after.stopped_on) == ("stopped", D("2026-10-12"))
    assert clock(escalated, "review_publication", "2026-10-01").status == "overdue"


# -- 2. The six months run from the partners' decision -----------------------------------------


def test_the_six_months_start_at_the_partners_decision_not_the_panels_reply() -> None:
    # Decided Tue 24 Mar 2026, the Panel replied Tue 21 Apr: due Thu 24 Sep 2026 (six
    # calendar months from the decision), not Wed 21 Oct.
    publication = clock(lcspr(), "review_publication", "2026-05-01")
    assert (publication.due_on, publication.basis.start_on) == (D("2026-09-24"), D("2026-03-24"))
    replied = lcspr(decided_on=D("2026-04-21"))
    assert clock(replied, "review_publication", "2026-05-01").due_on == D("2026-10-21")


# -- 3. A missed deadline stays missed ---------------------------------------------------------


def test_a_pause_started_after_the_due_date_moves_nothing() -> None:
    # Due Thu 24 Sep 2026. A trial pause from Mon 5 Oct to Mon 19 Oct (10 working days)
    # started after the deadline was missed: it is recorded, but the clock stays overdue
    # at its due date, then is met late by publication on Fri 30 Oct.
    pause = Pause(
        started_on=D("2026-10-05"),
        reason="criminal trial",
        panel_informed_on=D("2026-10-05"),
        resumed_on=D("2026-10-19"),
    )
    late = lcspr(pauses=(pause,))
    during = clock(late, "review_publication", "2026-10-12")
    assert (during.status, during.due_on, during.basis.paused_working_days) == (
        "overdue",
        D("2026-09-24"),
        0,
    )
    published = lcspr(pauses=(pause,), published_on=D("2026-10-30"))
    assert clock(published, "review_publication", "2026-11-02").status == "met_late"


def test_a_pause_that_starts_on_the_due_date_extends_it() -> None:
    # Due Thu 24 Sep 2026; paused that day until Thu 8 Oct: 10 working days (25, 28, 29,
    # 30 Sep, 1, 2, 5, 6, 7, 8 Oct), so the due date moves to Thu 8 Oct.
    pause = Pause(
        started_on=D("2026-09-24"),
        reason="inquest",
        panel_informed_on=D("2026-09-24"),
        resumed_on=D("2026-10-08"),
    )
    publication = clock(lcspr(pauses=(pause,)), "review_publication", "2026-10-08")
    assert (publication.due_on, publication.status, publication.basis.paused_working_days) == (
        D("2026-10-08"),
        "due_soon",
        10,
    )


def test_a_second_pause_counts_against_the_due_date_extended_by_the_first() -> None:
    # First pause Mon 7 Sep to Mon 21 Sep: 10 working days, due Thu 24 Sep -> Thu 8 Oct.
    # A second pause from Mon 5 Oct (before the extended date) to Mon 12 Oct adds 5 more:
    # due Thu 15 Oct. A third from Fri 16 Oct (after it) adds nothing.
    pauses = (
        Pause(
            started_on=D("2026-09-07"),
            reason="trial",
            panel_informed_on=D("2026-09-07"),
            resumed_on=D("2026-09-21"),
        ),
        Pause(
            started_on=D("2026-10-05"),
            reason="trial",
            panel_informed_on=D("2026-10-05"),
            resumed_on=D("2026-10-12"),
        ),
        Pause(started_on=D("2026-10-16"), reason="inquest", panel_informed_on=D("2026-10-16")),
    )
    publication = clock(lcspr(pauses=pauses), "review_publication", "2026-10-20")
    assert (publication.due_on, publication.basis.paused_working_days, publication.status) == (
        D("2026-10-15"),
        15,
        "overdue",
    )


# -- 4. "As of" is a replay --------------------------------------------------------------------


def test_as_of_before_a_withdrawal_the_unsent_rapid_review_is_overdue() -> None:
    # Notified Wed 4 Mar 2026: rapid review due Wed 25 Mar, never sent; withdrawn Mon 20
    # Apr. As of Wed 1 Apr it was overdue; as of today it is stopped.
    withdrawn = CaseTimeline(
        aware_on=D("2026-03-02"),
        notified_on=D("2026-03-04"),
        rapid_review_required=True,
        partners_informed_on=D("2026-03-04"),
        withdrawn_on=D("2026-04-20"),
        withdrawn_reason="criteria not met",
    )
    then = clock(withdrawn, "rapid_review", "2026-04-01")
    assert (then.due_on, then.status) == (D("2026-03-25"), "overdue")
    assert clock(withdrawn, "rapid_review", "2026-11-28").status == "stopped"


def test_as_of_before_a_decision_not_to_notify_the_notification_clock_runs() -> None:
    # Aware Mon 2 Mar 2026: notification due Mon 9 Mar. The decision not to notify came on
    # Mon 20 Apr; as of Fri 20 Mar the clock was running and overdue.
    decided = CaseTimeline(
        aware_on=D("2026-03-02"), not_notified_on=D("2026-04-20"), not_notified_reason="no"
    )
    assert clock(decided, "notification", "2026-03-20").status == "overdue"
    assert clock(decided, "notification", "2026-04-20").status == "stopped"


def test_as_of_before_the_decision_there_is_no_six_month_clock() -> None:
    # The Panel's reply and the decision both dated Tue 21 Apr 2026: as of Tue 10 Mar no
    # LCSPR had been decided.
    decided_late = lcspr(decided_on=D("2026-04-21"))
    assert "review_publication" not in names(decided_late, "2026-03-10")
    assert "review_publication" in names(decided_late, "2026-04-21")


def test_as_of_a_decision_that_predates_the_panels_reply_the_clock_runs() -> None:
    # Decided Tue 24 Mar, the Panel replied Tue 21 Apr: as of Wed 1 Apr the partners had
    # decided, so the six months were running.
    assert clock(lcspr(), "review_publication", "2026-04-01").status == "pending"


def test_as_of_replays_the_publication_plan_in_force_that_day() -> None:
    # Approved Mon 1 Jun 2026 for Wed 1 Jul: copies due Mon 22 Jun. On Thu 25 Jun, with
    # the copies already late, publication moved to Tue 1 Sep (copies due Thu 20 Aug).
    # As of Wed 24 Jun the copies were overdue; from 25 Jun they are pending.
    moved = lcspr(
        approved_on=D("2026-06-01"),
        planned_publication_on=D("2026-09-01"),
        reschedules=(
            Reschedule(
                rescheduled_on=D("2026-06-25"),
                planned_publication_on=D("2026-09-01"),
                previous_planned_on=D("2026-07-01"),
                reason="trial listed",
                panel_informed_on=D("2026-06-26"),
            ),
        ),
    )
    then = clock(moved, "advance_copies", "2026-06-24")
    assert (then.due_on, then.status) == (D("2026-06-22"), "overdue")
    now = clock(moved, "advance_copies", "2026-06-25")
    assert (now.due_on, now.status) == (D("2026-08-20"), "pending")
    # The Panel was told of the delay on Fri 26 Jun: not yet as of 25 Jun.
    assert clock(moved, "review_publication", "2026-06-25").delay_notified_on is None
    assert clock(moved, "review_publication", "2026-06-26").delay_notified_on == D("2026-06-26")


# -- 6. Advance copies to all three recipients; new information ----------------------------


def test_advance_copies_are_met_when_the_last_recipient_has_a_copy() -> None:
    # Publication Wed 1 Jul 2026: copies due Mon 22 Jun. Panel and Secretary of State on
    # Mon 15 Jun, Ofsted only on Tue 23 Jun: met late, on 23 Jun.
    partial = lcspr(
        approved_on=D("2026-06-01"),
        planned_publication_on=D("2026-07-01"),
        advance_copies=(
            AdvanceCopies(sent_on=D("2026-06-15"), recipients=("panel", "secretary_of_state")),
        ),
    )
    assert clock(partial, "advance_copies", "2026-06-22").status == "due_soon"
    complete = partial.model_copy(
        update={
            "advance_copies": (
                *partial.advance_copies,
                AdvanceCopies(sent_on=D("2026-06-23"), recipients=("ofsted",)),
            )
        }
    )
    copies = clock(complete, "advance_copies", "2026-06-24")
    assert (copies.status, copies.met_on) == ("met_late", D("2026-06-23"))
    assert complete.advance_copies_sent_on == D("2026-06-23")
    on_time = partial.model_copy(
        update={"advance_copies": (AdvanceCopies(sent_on=D("2026-06-15"), recipients=ALL),)}
    )
    assert clock(on_time, "advance_copies", "2026-06-24").status == "met"


def test_new_information_restarts_the_notification_clock() -> None:
    # Aware Mon 2 Mar 2026; not notified on Wed 4 Mar; new information on Fri 1 May: the
    # notification is due 5 working days later, Mon 11 May (Mon 4 May is a bank holiday).
    renewed = CaseTimeline(
        aware_on=D("2026-03-02"),
        not_notified_on=D("2026-03-04"),
        not_notified_reason="criteria not met",
        new_information_on=D("2026-05-01"),
    )
    notification = clock(renewed, "notification", "2026-05-05")
    assert (notification.due_on, notification.status, notification.basis.start_event) == (
        D("2026-05-11"),
        "pending",
        "new_information_on",
    )
    # Between the decision and the new information, the clock was stopped.
    assert clock(renewed, "notification", "2026-04-01").status == "stopped"
    notified = renewed.model_copy(update={"notified_on": D("2026-05-12")})
    assert clock(notified, "notification", "2026-05-12").status == "met_late"


def test_new_information_on_the_day_of_the_decision_still_restarts_every_clock() -> None:
    # Not notified Thu 12 Nov 2026 and new information the same day; partners' clock and
    # an awareness-counted rapid review run again from 12 Nov: due Thu 19 Nov and Thu 3 Dec.
    renewed = CaseTimeline(
        aware_on=D("2026-11-02"),
        rapid_review_clock_start="aware",
        not_notified_on=D("2026-11-12"),
        not_notified_reason="criteria not met",
        new_information_on=D("2026-11-12"),
        notified_on=D("2026-11-13"),
        rapid_review_required=True,
    )
    partners = clock(renewed, "partners_informed", "2026-11-13")
    assert (partners.status, partners.due_on) == ("pending", D("2026-11-19"))
    rapid_review = clock(renewed, "rapid_review", "2026-11-13")
    assert (rapid_review.status, rapid_review.due_on) == ("pending", D("2026-12-03"))
