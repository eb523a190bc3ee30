"""England and Wales working days, checked against the published bank holidays 2019-2027."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review_engine.calendar import (
    Calendar,
    CalendarRangeError,
    add_working_days,
    default_calendar,
    is_working_day,
    working_days_between,
)

# England and Wales bank holidays as published on gov.uk (bank-holidays.json,
# division england-and-wales), including substitute days and one-off days.
PUBLISHED_BANK_HOLIDAYS: dict[int, list[str]] = {
    2019: ["01-01", "04-19", "04-22", "05-06", "05-27", "08-26", "12-25", "12-26"],
    # Early May bank holiday moved to Friday 8 May for VE Day; Boxing Day substitute 28 Dec.
    2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
    # Christmas and Boxing Day fall at the weekend: substitutes on 27 and 28 Dec.
    2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
    # New Year substitute 3 Jan; Spring holiday moved to 2 June; Platinum Jubilee 3 June;
    # State Funeral of Queen Elizabeth II 19 Sept; Christmas substitute 27 Dec.
    2022: [
        "01-03",
        "04-15",
        "04-18",
        "05-02",
        "06-02",
        "06-03",
        "08-29",
        "09-19",
        "12-26",
        "12-27",
    ],
    # New Year substitute 2 Jan; Coronation 8 May.
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    # Boxing Day is a Saturday: substitute Monday 28 Dec.
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(PUBLISHED_BANK_HOLIDAYS))
def test_weekday_closures_match_the_published_bank_holidays(year: int) -> None:
    published = {date.fromisoformat(f"{year}-{day}") for day in PUBLISHED_BANK_HOLIDAYS[year]}
    day, closed_weekdays = date(year, 1, 1), set()
    while day.year == year:
        if day.weekday() < 5 and not is_working_day(day):
            closed_weekdays.add(day)
        day += timedelta(days=1)
    assert closed_weekdays == published


def test_weekends_are_never_working_days() -> None:
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert is_working_day(date(2026, 11, 30))  # Monday


def test_scottish_holidays_do_not_apply() -> None:
    assert is_working_day(date(2026, 1, 2))  # 2 January is a holiday in Scotland only
    assert is_working_day(date(2026, 11, 30))  # St Andrew's Day, Scotland only


def test_add_working_days_starts_counting_the_day_after() -> None:
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # the next Monday
    assert add_working_days(friday, 5) == date(2026, 11, 27)
    assert add_working_days(friday, 0) == friday


def test_add_working_days_skips_a_bank_holiday_monday() -> None:
    thursday_before_easter = date(2026, 4, 2)
    assert add_working_days(thursday_before_easter, 1) == date(2026, 4, 7)
    assert add_working_days(thursday_before_easter, 5) == date(2026, 4, 13)


def test_notification_deadline_over_christmas_2026() -> None:
    # Aware on Thursday 24 Dec 2026: 25 Dec, the weekend and Boxing Day's substitute on
    # Monday 28 Dec are not working days, so day 1 is Tuesday 29 Dec.
    aware_on = date(2026, 12, 24)
    assert add_working_days(aware_on, 1) == date(2026, 12, 29)
    assert add_working_days(aware_on, 5) == date(2027, 1, 5)  # 1 Jan is a holiday too


def test_one_off_days_move_deadlines() -> None:
    assert add_working_days(date(2022, 6, 1), 1) == date(2022, 6, 6)  # 2 and 3 June
    assert add_working_days(date(2022, 9, 16), 1) == date(2022, 9, 20)  # State Funeral
    assert add_working_days(date(2023, 5, 5), 1) == date(2023, 5, 9)  # Coronation
    assert add_working_days(date(2020, 5, 7), 1) == date(2020, 5, 11)  # VE Day
    assert is_working_day(date(2020, 5, 4))  # the usual first Monday of May was worked


def test_start_day_may_be_a_weekend_or_holiday() -> None:
    assert add_working_days(date(2026, 12, 25), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 11, 29), 1) == date(2026, 11, 30)  # from a Sunday
    assert add_working_days(date(2026, 11, 29), -1) == date(2026, 11, 27)


def test_counting_backwards_for_advance_copies() -> None:
    # Publication on Wednesday 6 Jan 2027; 7 working days before, skipping 1 Jan,
    # 28, 27 Dec (substitutes) and the weekends.
    assert add_working_days(date(2027, 1, 6), -7) == date(2026, 12, 23)


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 20)) == 0
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 5
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 20)) == -5
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 5)) == 5


def test_extra_closure_days_and_calendar_version() -> None:
    closure = date(2026, 12, 29)
    calendar = Calendar(extra_closure_days=[closure])
    assert not calendar.is_working_day(closure)
    assert calendar.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 30)
    assert default_calendar().add_working_days(date(2026, 12, 24), 1) == closure
    assert calendar.version.endswith("+2026-12-29")
    assert calendar.version.startswith("holidays-")
    assert "+" not in default_calendar().version
    assert calendar.version != default_calendar().version


@pytest.mark.parametrize("day", [date(1871, 12, 29), date(2101, 1, 3)])
def test_dates_outside_the_covered_years_raise(day: date) -> None:
    with pytest.raises(CalendarRangeError, match="outside the years"):
        is_working_day(day)


def test_counting_past_the_covered_years_raises() -> None:
    with pytest.raises(CalendarRangeError):
        add_working_days(date(2100, 12, 20), 30)
    with pytest.raises(CalendarRangeError):
        working_days_between(date(2100, 12, 1), date(2101, 1, 5))
    with pytest.raises(CalendarRangeError):
        Calendar(extra_closure_days=[date(2200, 1, 1)])


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
counts = st.integers(min_value=-300, max_value=300)


@given(start=days, n=counts)
def test_a_nonzero_count_always_lands_on_a_working_day(start: date, n: int) -> None:
    if n != 0:
        assert is_working_day(add_working_days(start, n))


@given(start=days, n=counts)
def test_between_inverts_add(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n)) == n


@given(start=days, n=counts)
def test_add_is_monotone_in_n(start: date, n: int) -> None:
    assert add_working_days(start, n) < add_working_days(start, n + 1)


@given(start=days, end=days)
def test_between_is_antisymmetric_on_working_days(start: date, end: date) -> None:
    if is_working_day(start) and is_working_day(end):
        assert working_days_between(start, end) == -working_days_between(end, start)


@given(start=days, n=st.integers(min_value=1, max_value=60))
def test_every_skipped_day_is_not_a_working_day(start: date, n: int) -> None:
    landed = add_working_days(start, n)
    between = [start + timedelta(days=i) for i in range(1, (landed - start).days)]
    assert sum(1 for day in between if is_working_day(day)) == n - 1


def _stepped(calendar: Calendar, start: date, n: int) -> date:
    """`add_working_days` by its definition: a day at a time."""
    step, day, remaining = timedelta(days=1 if n > 0 else -1), start, abs(n)
    while remaining:
        day += step
        remaining -= calendar.is_working_day(day)
    return day


closures = st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), max_size=5)


@given(start=days, n=st.integers(min_value=-800, max_value=800), extra=closures)
def test_add_and_between_agree_with_counting_a_day_at_a_time(
    start: date, n: int, extra: list[date]
) -> None:
    calendar = Calendar(extra_closure_days=extra)
    landed = calendar.add_working_days(start, n)
    assert landed == _stepped(calendar, start, n)
    first, last = sorted((start, landed))
    counted = sum(
        calendar.is_working_day(first + timedelta(days=i))
        for i in range(1, (last - first).days + 1)
    )
    assert calendar.working_days_between(first, last) == counted


def test_counting_across_new_year_over_christmas_2026() -> None:
    # Thu 24 Dec 2026; Fri 25 and Mon 28 Dec are bank holidays, Tue 29 is the 1st day,
    # Wed 30 the 2nd, Thu 31 the 3rd, Fri 1 Jan 2027 a bank holiday, Mon 4 Jan the 4th.
    assert add_working_days(date(2026, 12, 24), 4) == date(2027, 1, 4)
    assert add_working_days(date(2027, 1, 4), -4) == date(2026, 12, 24)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4
