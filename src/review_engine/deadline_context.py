"""The clock context of a request or a command: the deployment's calendar and due-soon
window (from `Settings`) and today's date where the partnerships are.

"Today" is read once per request (FastAPI caches a dependency within a request), so every
part of one answer agrees on the day, even across midnight.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from review_engine.calendar import Calendar
from review_engine.clocks import ClockContext
from review_engine.settings import Settings

__all__ = ["ClockContextDep", "clock_context", "get_clock_context", "today_in"]


def today_in(timezone: str) -> date:
    """Today's date in `timezone` (Europe/London by default)."""
    return datetime.now(ZoneInfo(timezone)).date()


def clock_context(settings: Settings) -> ClockContext:
    """The deployment's clock context, as of now."""
    return ClockContext(
        calendar=Calendar(extra_closure_days=settings.extra_closure_days),
        due_soon_working_days=settings.due_soon_working_days,
        today=today_in(settings.timezone),
    )


def get_clock_context(request: Request) -> ClockContext:
    """This request's clock context. The calendar is built once per app (it caches its
    bank holidays); the day is read now."""
    settings: Settings = request.app.state.settings
    base: ClockContext | None = getattr(request.app.state, "clock_context", None)
    if base is None:
        base = clock_context(settings)
        request.app.state.clock_context = base
    return replace(base, today=today_in(settings.timezone))


ClockContextDep = Annotated[ClockContext, Depends(get_clock_context)]
