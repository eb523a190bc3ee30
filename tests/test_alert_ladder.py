"""The alert ladder: worked examples on the 2026 England and Wales calendar, and properties.

2026 bank holidays (England and Wales): Thu 1 Jan, Fri 3 Apr, Mon 6 Apr, Mon 4 May,
Mon 25 May, Mon 31 Aug, Fri 25 Dec, Mon 28 Dec (Boxing Day substitute).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review_engine.alerts.ladder import (
    Ladder,
    Rung,
    furthest_rung,
    next_rung_on,
    reached,
    reminders_reached,
)
from review_engine.calendar import Calendar

CALENDAR = Calendar()
DEFAULT = Ladder()


def furthest(due_on: date, as_of: date, ladder: Ladder = DEFAULT) -> Rung | None:
    rungs = reached(due_on, as_of, ladder, CALENDAR)
    return rungs[-1] if rungs else None


def labels(due_on: date, as_of: date, ladder: Ladder = DEFAULT) -> list[tuple[str, int]]:
    return [(rung.name, rung.sequence) for rung in reached(due_on, as_of, ladder, CALENDAR)]


# --- worked examples -----------------------------------------------------------------------

# Due Wed 24 Jun 2026, no bank holidays nearby. due_soon: back 2 working days, Tue 23 (1),
# Mon 22 (2). overdue: Thu 25. Reminder 1: 5 working days after Thu 25: Fri 26 (1),
# Mon 29 (2), Tue 30 (3), Wed 1 Jul (4), Thu 2 Jul (5). Reminder 2: Fri 3, Mon 6, Tue 7,
# Wed 8, Thu 9 Jul.
JUNE_DUE = date(2026, 6, 24)
LADDER = [("due_soon", 0), ("due_today", 0), ("overdue", 0), ("overdue_reminder", 1)]
JUNE_CASES: list[tuple[date, list[tuple[str, int]]]] = [
    (date(2026, 6, 19), []),  # Fri
    (date(2026, 6, 21), []),  # Sun
    (date(2026, 6, 22), LADDER[:1]),  # Mon
    (date(2026, 6, 23), LADDER[:1]),  # Tue
    (date(2026, 6, 24), LADDER[:2]),  # Wed
    (date(2026, 6, 25), LADDER[:3]),  # Thu
    (date(2026, 7, 1), LADDER[:3]),  # Wed
    (date(2026, 7, 2), LADDER),  # Thu
    (date(2026, 7, 8), LADDER),  # Wed
    (date(2026, 7, 9), [*LADDER, ("overdue_reminder", 2)]),  # Thu
]


@pytest.mark.parametrize(("as_of", "expected"), JUNE_CASES)
def test_default_ladder_for_a_midweek_deadline(
    as_of: date, expected: list[tuple[str, int]]
) -> None:
    assert labels(JUNE_DUE, as_of) == expected


def test_rung_start_dates_for_a_midweek_deadline() -> None:
    rungs = reached(JUNE_DUE, date(2026, 7, 9), DEFAULT, CALENDAR)
    assert [rung.starts_on for rung in rungs] == [
        date(2026, 6, 22),
        date(2026, 6, 24),
        date(2026, 6, 25),
        date(2026, 7, 2),
        date(2026, 7, 9),
    ]


def test_due_soon_counts_back_over_the_spring_bank_holiday() -> None:
    # Due Tue 26 May 2026. Back: Mon 25 (Spring bank holiday), Sun 24, Sat 23 do not count;
    # Fri 22 (1), Thu 21 (2). So due_soon starts Thu 21 May; nothing on Wed 20.
    # overdue: Wed 27 May. Reminder 1: Thu 28, Fri 29, Mon 1 Jun, Tue 2, Wed 3 Jun (5).
    due = date(2026, 5, 26)
    assert furthest(due, date(2026, 5, 20)) is None
    assert furthest(due, date(2026, 5, 21)) == Rung(date(2026, 5, 21), "due_soon")
    assert furthest(due, date(2026, 5, 25)) == Rung(date(2026, 5, 21), "due_soon")
    assert furthest(due, date(2026, 5, 26)) == Rung(due, "due_today")
    assert furthest(due, date(2026, 5, 27)) == Rung(date(2026, 5, 27), "overdue")
    assert furthest(due, date(2026, 6, 2)) == Rung(date(2026, 5, 27), "overdue")
    assert furthest(due, date(2026, 6, 3)) == Rung(date(2026, 6, 3), "overdue_reminder", 1)


def test_overdue_skips_the_summer_bank_holiday() -> None:
    # Due Fri 28 Aug 2026. due_soon: Thu 27 (1), Wed 26 Aug (2). overdue: Sat 29, Sun 30,
    # Mon 31 Aug (Summer bank holiday) do not count, so Tue 1 Sep. Reminder 1: Wed 2 (1),
    # Thu 3 (2), Fri 4 (3), Mon 7 (4), Tue 8 Sep (5).
    due = date(2026, 8, 28)
    assert furthest(due, date(2026, 8, 25)) is None
    assert furthest(due, date(2026, 8, 26)) == Rung(date(2026, 8, 26), "due_soon")
    for holiday_weekend in (date(2026, 8, 29), date(2026, 8, 30), date(2026, 8, 31)):
        assert furthest(due, holiday_weekend) == Rung(due, "due_today")
    assert furthest(due, date(2026, 9, 1)) == Rung(date(2026, 9, 1), "overdue")
    assert furthest(due, date(2026, 9, 7)) == Rung(date(2026, 9, 1), "overdue")
    assert furthest(due, date(2026, 9, 8)) == Rung(date(2026, 9, 8), "overdue_reminder", 1)


def test_weekend_after_a_friday_due_date_is_still_due_today() -> None:
    # Due Fri 19 Jun 2026: Sat 20 and Sun 21 are not working days, overdue from Mon 22.
    due = date(2026, 6, 19)
    assert furthest(due, date(2026, 6, 20)) == Rung(due, "due_today")
    assert furthest(due, date(2026, 6, 21)) == Rung(due, "due_today")
    assert furthest(due, date(2026, 6, 22)) == Rung(date(2026, 6, 22), "overdue")


def test_no_due_soon_rung_when_its_working_days_are_zero() -> None:
    ladder = Ladder(due_soon_working_days=0)
    # Due Wed 24 Jun 2026: nothing on Tue 23, due_today on Wed 24, overdue Thu 25.
    assert labels(JUNE_DUE, date(2026, 6, 23), ladder) == []
    assert labels(JUNE_DUE, date(2026, 6, 24), ladder) == [("due_today", 0)]
    assert labels(JUNE_DUE, date(2026, 7, 9), ladder) == [
        ("due_today", 0),
        ("overdue", 0),
        ("overdue_reminder", 1),
        ("overdue_reminder", 2),
    ]


def test_horizon() -> None:
    # Fri 19 Jun 2026 + 2 working days: Mon 22 (1), Tue 23 (2).
    assert DEFAULT.horizon(date(2026, 6, 19), CALENDAR) == date(2026, 6, 23)
    # Sat 20 Jun: Mon 22 (1), Tue 23 (2).
    assert DEFAULT.horizon(date(2026, 6, 20), CALENDAR) == date(2026, 6, 23)
    # Fri 22 May: Mon 25 is the Spring bank holiday, so Tue 26 (1), Wed 27 (2).
    assert DEFAULT.horizon(date(2026, 5, 22), CALENDAR) == date(2026, 5, 27)
    assert furthest(date(2026, 5, 27), date(2026, 5, 22)) == Rung(date(2026, 5, 22), "due_soon")
    assert furthest(date(2026, 5, 28), date(2026, 5, 22)) is None
    # With no due_soon rung the ladder begins on the due date itself.
    assert Ladder(due_soon_working_days=0).horizon(date(2026, 6, 20), CALENDAR) == date(2026, 6, 20)


# --- properties ----------------------------------------------------------------------------

due_dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))
offsets = st.integers(min_value=-60, max_value=60)
ladders = st.builds(
    Ladder,
    due_soon_working_days=st.integers(min_value=0, max_value=10),
    reminder_every_working_days=st.integers(min_value=1, max_value=10),
)
PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(due_on=due_dates, offset=offsets, ladder=ladders)
def test_rungs_are_ordered_started_and_on_working_days(
    due_on: date, offset: int, ladder: Ladder
) -> None:
    as_of = due_on + timedelta(days=offset)
    rungs = reached(due_on, as_of, ladder, CALENDAR)
    starts = [rung.starts_on for rung in rungs]
    assert starts == sorted(set(starts))
    assert all(start <= as_of for start in starts)
    for rung in rungs:
        if rung.name == "due_today":
            assert rung.starts_on == due_on
        else:
            assert CALENDAR.is_working_day(rung.starts_on), rung
    due_soon_from = CALENDAR.add_working_days(due_on, -ladder.due_soon_working_days)
    has_due_soon = any(rung.name == "due_soon" for rung in rungs)
    assert has_due_soon == (ladder.due_soon_working_days > 0 and as_of >= due_soon_from)


@PROPERTY
@given(due_on=due_dates, offset=offsets, later=st.integers(1, 60), ladder=ladders)
def test_reached_rungs_only_grow(due_on: date, offset: int, later: int, ladder: Ladder) -> None:
    as_of = due_on + timedelta(days=offset)
    before = reached(due_on, as_of, ladder, CALENDAR)
    after = reached(due_on, as_of + timedelta(days=later), ladder, CALENDAR)
    assert after[: len(before)] == before
    if before:
        assert before[-1] in after


@PROPERTY
@given(due_on=due_dates, offset=offsets, ladder=ladders)
def test_reminders_are_consecutive_and_evenly_spaced(
    due_on: date, offset: int, ladder: Ladder
) -> None:
    as_of = due_on + timedelta(days=offset)
    rungs = reached(due_on, as_of, ladder, CALENDAR)
    reminders = [rung for rung in rungs if rung.name == "overdue_reminder"]
    assert [rung.sequence for rung in reminders] == list(range(1, len(reminders) + 1))
    assert all(rung.sequence == 0 for rung in rungs if rung.name != "overdue_reminder")
    step = ladder.reminder_every_working_days
    overdue_from = CALENDAR.add_working_days(due_on, 1)
    previous = overdue_from
    for rung in reminders:
        assert CALENDAR.working_days_between(previous, rung.starts_on) == step
        previous = rung.starts_on
    # No reminder is missing: the next one has not started yet.
    if as_of >= overdue_from:
        assert CALENDAR.add_working_days(previous, step) > as_of


@PROPERTY
@given(due_on=due_dates, offset=offsets, ladder=ladders)
def test_nothing_before_the_ladder_begins_and_horizon_agrees(
    due_on: date, offset: int, ladder: Ladder
) -> None:
    as_of = due_on + timedelta(days=offset)
    begins = CALENDAR.add_working_days(due_on, -ladder.due_soon_working_days)
    rungs = reached(due_on, as_of, ladder, CALENDAR)
    assert (rungs == []) == (as_of < begins)
    assert (rungs != []) == (due_on <= ladder.horizon(as_of, CALENDAR))


@PROPERTY
@given(
    due_on=due_dates,
    offset=st.integers(min_value=-60, max_value=900),
    known=st.integers(min_value=0, max_value=200),
    ladder=ladders,
)
def test_known_reminders_are_left_out_and_the_count_agrees(
    due_on: date, offset: int, known: int, ladder: Ladder
) -> None:
    as_of = due_on + timedelta(days=offset)
    every = reached(due_on, as_of, ladder, CALENDAR)
    reminders = [rung for rung in every if rung.name == "overdue_reminder"]
    assert reminders_reached(due_on, as_of, ladder, CALENDAR) == len(reminders)
    left = reached(due_on, as_of, ladder, CALENDAR, known_reminders=known)
    assert left == [rung for rung in every if not 1 <= rung.sequence <= known]


@PROPERTY
@given(
    due_on=due_dates,
    offset=offsets,
    ladder=st.builds(
        Ladder,
        due_soon_working_days=st.integers(min_value=0, max_value=10),
        reminder_every_working_days=st.integers(min_value=0, max_value=10),  # 0: none
    ),
)
def test_the_next_rung_is_the_first_to_start_after_the_day_and_the_furthest_the_last(
    due_on: date, offset: int, ladder: Ladder
) -> None:
    """What detection's progress rows and digests rest on, against `reached` itself: the
    first rung starting after `as_of` (within 120 days, more than any step takes; none
    ever once overdue with no reminders), and the last rung reached by `as_of`."""
    as_of = due_on + timedelta(days=offset)
    ahead = reached(due_on, as_of + timedelta(days=120), ladder, CALENDAR)
    upcoming = [rung.starts_on for rung in ahead if rung.starts_on > as_of]
    assert next_rung_on(due_on, as_of, ladder, CALENDAR) == min(upcoming, default=None)
    so_far = reached(due_on, as_of, ladder, CALENDAR)
    expected = so_far[-1].name if so_far else None
    assert furthest_rung(due_on, as_of, ladder, CALENDAR) == expected


def test_a_deadline_overdue_for_a_year_counts_its_reminders_in_2026() -> None:
    # Due Wed 24 Jun 2026 (see JUNE_CASES): overdue from Thu 25 Jun. On Fri 25 Jun 2027,
    # 260 working days later (52 weeks less Mon 31 Aug, Fri 25 Dec, Mon 28 Dec 2026,
    # Fri 1 Jan, Fri 26 Mar, Mon 29 Mar, Mon 3 May, Mon 31 May 2027: 260 - 8 = 252, plus
    # Fri 25 Jun 2027 itself: 253), 253 // 5 = 50 reminders have started.
    assert reminders_reached(JUNE_DUE, date(2027, 6, 25), DEFAULT, CALENDAR) == 50
    rungs = reached(JUNE_DUE, date(2027, 6, 25), DEFAULT, CALENDAR, known_reminders=49)
    assert [(rung.name, rung.sequence) for rung in rungs] == [*LADDER[:3], ("overdue_reminder", 50)]
