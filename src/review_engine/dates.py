"""Dates as the API accepts them: `YYYY-MM-DD` only, within the calendar's years.

Part of the pure core. Pydantic would otherwise read `0` as 1 January 1970 and
`2026-06-01T00:00:00` as a date; an API that records statutory dates takes neither. And a
date outside the years the bank holiday calendar covers cannot be counted from, so it is
refused where it is given, naming the field, rather than failing later.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from review_engine.calendar import default_calendar

__all__ = ["CalendarDate", "IsoDate", "OffsetDateTime", "check_calendar_date"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, date):  # from Python callers; JSON and query strings are text
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def check_calendar_date(day: date) -> date:
    """`day`, if the bank holiday calendar covers its year; otherwise a ValueError."""
    calendar = default_calendar()  # extra closure days never change the years covered
    if not calendar.covers(day):
        raise ValueError(
            f"must be in the years {calendar.first_year}-{calendar.last_year} that the "
            "bank holiday calendar covers"
        )
    return day


def _year_pattern(first: int, last: int) -> str:
    """A regular expression matching the years first..last, a decade at a time."""
    alternatives = []
    for decade in range(first // 10, last // 10 + 1):
        low, high = max(first, decade * 10) % 10, min(last, decade * 10 + 9) % 10
        alternatives.append(f"{decade}[{low}-{high}]" if low != high else f"{decade}{low}")
    return "(" + "|".join(alternatives) + ")"


def _calendar_date_schema() -> dict[str, Any]:
    calendar = default_calendar()
    years = _year_pattern(calendar.first_year, calendar.last_year)
    return {"type": "string", "format": "date", "pattern": f"^{years}-[0-9]{{2}}-[0-9]{{2}}$"}


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date_only),
    WithJsonSchema({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
]
"""A date given as `YYYY-MM-DD` and nothing else."""

CalendarDate = Annotated[
    date,
    BeforeValidator(_iso_date_only),
    AfterValidator(check_calendar_date),
    WithJsonSchema(_calendar_date_schema()),
]
"""An `IsoDate` in a year the working-day calendar can count in (the OpenAPI document
says which years)."""


_OFFSET_DATETIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _offset_datetime_only(value: Any) -> Any:
    if isinstance(value, datetime):  # from Python callers
        return value
    if not isinstance(value, str) or not re.fullmatch(_OFFSET_DATETIME, value):
        raise ValueError("must be a date and time with a UTC offset, e.g. 2026-06-01T09:00:00Z")
    return value


OffsetDateTime = Annotated[
    datetime,
    BeforeValidator(_offset_datetime_only),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": f"^{_OFFSET_DATETIME}$"}),
]
"""A moment given as ISO 8601 with its UTC offset and nothing else (pydantic would take a
number as seconds since 1970, and a time with no offset as local to nobody knows where)."""
