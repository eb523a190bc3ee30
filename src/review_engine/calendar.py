"""England and Wales working days: the unit every statutory timeframe is counted in.

Part of the pure core (no HTTP, no SQL, no I/O).

A working day is a day that is not a Saturday, a Sunday, an England and Wales bank holiday
(from the `holidays` package, `GB` with `subdiv="ENG"`, which carries substitute days and
one-off days such as the 2020 VE Day move, 3 June 2022, 19 September 2022 and 8 May 2023),
nor an extra closure day configured by the operator (a newly proclaimed bank holiday the
installed package does not know yet).

Counting follows the statutory convention: the start day is day 0 and counting begins the
day after it, so "within 5 working days of becoming aware on a Friday" ends on the
following Friday, unless a bank holiday intervenes.

Every deadline computed from a calendar records `Calendar.version`, so a due date can be
reproduced later even after the package or the configured closure days change.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version as package_version

import holidays

__all__ = [
    "Calendar",
    "CalendarRangeError",
    "add_working_days",
    "default_calendar",
    "is_working_day",
    "working_days_between",
]

_COUNTRY = "GB"
_SUBDIVISION = "ENG"  # England and Wales share bank holidays; Scotland and NI differ.
_ONE_DAY = timedelta(days=1)


class CalendarRangeError(ValueError):
    """A date falls outside the years the bank holiday package covers.

    Raised instead of silently treating unknown years as having no bank holidays.
    """


@lru_cache(maxsize=512)
def _bank_holidays(year: int) -> frozenset[date]:
    # A fresh package object per year keeps lookups thread-safe: the package's own
    # objects fill themselves in lazily on lookup and are not meant to be shared.
    return frozenset(holidays.country_holidays(_COUNTRY, subdiv=_SUBDIVISION, years=year))


def _covered_years() -> tuple[int, int]:
    england = holidays.country_holidays(_COUNTRY, subdiv=_SUBDIVISION)
    return int(england.start_year), int(england.end_year)


class Calendar:
    """England and Wales working days, plus operator-configured extra closure days."""

    def __init__(self, *, extra_closure_days: Iterable[date] = ()) -> None:
        self.extra_closure_days: frozenset[date] = frozenset(extra_closure_days)
        self.first_year, self.last_year = _covered_years()
        extras = ",".join(day.isoformat() for day in sorted(self.extra_closure_days))
        self.version = f"holidays-{package_version('holidays')}/{_COUNTRY}-{_SUBDIVISION}" + (
            f"+{extras}" if extras else ""
        )
        for day in self.extra_closure_days:
            self._check_covered(day)
        self._years: dict[int, tuple[date, ...]] = {}  # each year's working days, in order

    def __repr__(self) -> str:
        return f"Calendar(version={self.version!r})"

    def covers(self, day: date) -> bool:
        """Whether `day` falls in the years the bank holiday calendar covers."""
        return self.first_year <= day.year <= self.last_year

    def _check_covered(self, day: date) -> None:
        if not self.covers(day):
            raise CalendarRangeError(
                f"{day.isoformat()} is outside the years {self.first_year}-{self.last_year} "
                f"covered by the bank holiday calendar ({self.version})"
            )

    def is_working_day(self, day: date) -> bool:
        """True unless `day` is a weekend, a bank holiday or a configured closure day."""
        self._check_covered(day)
        return (
            day.weekday() < 5
            and day not in _bank_holidays(day.year)
            and day not in self.extra_closure_days
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The date `n` working days after `start` (before it when `n < 0`).

        `start` is day 0 and may itself be a weekend or holiday; `n == 0` returns `start`.
        """
        self._check_covered(start)
        if n == 0:
            return start
        year, remaining = start.year, abs(n)
        days = self._working_days(year)
        # Working days of `days` strictly after (or, going back, before) `start`.
        if n > 0:
            position = bisect_right(days, start)
            while position + remaining > len(days):
                remaining -= len(days) - position
                year, position = year + 1, 0
                days = self._working_days(year)
            return days[position + remaining - 1]
        position = bisect_left(days, start)
        while remaining > position:
            remaining -= position
            year = year - 1
            days = self._working_days(year)
            position = len(days)
        return days[position - remaining]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; 0 for the same day.

        When `end < start` the count mirrors that (working days from `end` up to but not
        including `start`) and is negative, so that for every `n`,
        `working_days_between(d, add_working_days(d, n)) == n`.
        """
        self._check_covered(start)
        self._check_covered(end)
        if end < start:
            return -self._count(first=end, last=start - _ONE_DAY)
        return self._count(first=start + _ONE_DAY, last=end)

    def _count(self, *, first: date, last: date) -> int:
        """Working days from `first` to `last`, both included."""
        if last < first:
            return 0
        whole = sum(len(self._working_days(year)) for year in range(first.year, last.year))
        return (
            whole
            + bisect_right(self._working_days(last.year), last)
            - bisect_left(self._working_days(first.year), first)
        )

    def _working_days(self, year: int) -> tuple[date, ...]:
        """`year`'s working days in order, worked out once (a whole year in one bisect)."""
        found = self._years.get(year)
        if found is None:
            # Stepping past either end is refused on the first day outside the covered years.
            self._check_covered(date(year, 1, 1) if year > self.last_year else date(year, 12, 31))
            first, count = date(year, 1, 1), (date(year + 1, 1, 1) - date(year, 1, 1)).days
            every = (first + timedelta(days=offset) for offset in range(count))
            found = self._years[year] = tuple(day for day in every if self.is_working_day(day))
        return found


_default_lock = threading.Lock()
_default: Calendar | None = None


def default_calendar() -> Calendar:
    """The calendar with no extra closure days, built once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Calendar()
        return _default


def is_working_day(day: date) -> bool:
    """`Calendar.is_working_day` on the default calendar."""
    return default_calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """`Calendar.add_working_days` on the default calendar."""
    return default_calendar().add_working_days(start, n)


def working_days_between(start: date, end: date) -> int:
    """`Calendar.working_days_between` on the default calendar."""
    return default_calendar().working_days_between(start, end)
