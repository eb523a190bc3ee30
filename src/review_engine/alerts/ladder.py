"""The alert ladder: which alerts a running deadline has earned by a day. Part of the pure
core: no HTTP, no SQL, no clock reads.

For a deadline due on D, counted in working days on the clocks' calendar:

- `due_soon` from N working days before D (default 2; none when N is 0);
- `due_today` on D;
- `overdue` from the first working day after D;
- `overdue_reminder` number k (k = 1, 2, …) from k × M working days after that (default 5),
  for as long as the deadline runs.

Each rung starts on a day; a rung is reached on every day from its start. The furthest rung
reached is the one to send; earlier rungs not sent by then are skipped, never sent late.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from review_engine.calendar import Calendar

__all__ = [
    "REMINDER",
    "RUNGS",
    "Ladder",
    "Rung",
    "RungName",
    "furthest_rung",
    "next_rung_on",
    "reached",
    "reminders_reached",
]

RungName = Literal["due_soon", "due_today", "overdue", "overdue_reminder"]
RUNGS: tuple[str, ...] = get_args(RungName)
REMINDER: RungName = "overdue_reminder"  # the rung that repeats, counted by `sequence`


@dataclass(frozen=True, order=True)
class Rung:
    """One alert a deadline can earn: `sequence` counts reminders (0 for the others)."""

    starts_on: date
    name: RungName
    sequence: int = 0


@dataclass(frozen=True)
class Ladder:
    """The deployment's ladder settings."""

    due_soon_working_days: int = 2
    reminder_every_working_days: int = 5

    def horizon(self, as_of: date, calendar: Calendar) -> date:
        """The latest due date whose ladder has begun by `as_of`."""
        return calendar.add_working_days(as_of, self.due_soon_working_days)

    def fingerprint(self, calendar: Calendar) -> str:
        """What the rungs' days depend on besides the due date: these settings and the
        calendar (its version names its extra closure days). Short: it is stored."""
        settings = f"{self.due_soon_working_days}/{self.reminder_every_working_days}"
        return hashlib.sha256(f"{settings}/{calendar.version}".encode()).hexdigest()[:16]


def reminders_reached(due_on: date, as_of: date, ladder: Ladder, calendar: Calendar) -> int:
    """How many `overdue_reminder` rungs a deadline due on `due_on` has reached by `as_of`."""
    step = ladder.reminder_every_working_days
    overdue_from = calendar.add_working_days(due_on, 1)
    if step <= 0 or as_of <= overdue_from:
        return 0
    return calendar.working_days_between(overdue_from, as_of) // step


def reached(
    due_on: date, as_of: date, ladder: Ladder, calendar: Calendar, *, known_reminders: int = 0
) -> list[Rung]:
    """The rungs a deadline due on `due_on` has reached by `as_of`, in order (the last is
    the furthest), less reminders 1 to `known_reminders`: those a caller knows about
    already (detection, which has recorded them) are not worked out again, so a deadline
    overdue for years costs no more than one just due."""
    rungs: list[Rung] = []
    if ladder.due_soon_working_days > 0:
        rungs.append(
            Rung(calendar.add_working_days(due_on, -ladder.due_soon_working_days), "due_soon")
        )
    rungs.append(Rung(due_on, "due_today"))
    overdue_from = calendar.add_working_days(due_on, 1)
    rungs.append(Rung(overdue_from, "overdue"))
    step = ladder.reminder_every_working_days
    count = reminders_reached(due_on, as_of, ladder, calendar)
    # Each reminder starts `step` working days after the one before (the first after overdue).
    starts_on = calendar.add_working_days(overdue_from, min(known_reminders, count) * step)
    for sequence in range(known_reminders + 1, count + 1):
        starts_on = calendar.add_working_days(starts_on, step)
        rungs.append(Rung(starts_on, REMINDER, sequence))
    return [rung for rung in rungs if rung.starts_on <= as_of]


def next_rung_on(due_on: date, as_of: date, ladder: Ladder, calendar: Calendar) -> date | None:
    """The day the first rung after `as_of` starts for a deadline due on `due_on`; None
    when none ever will (overdue, and no reminders on this ladder)."""
    overdue_from = calendar.add_working_days(due_on, 1)
    starts = [due_on, overdue_from]
    if ladder.due_soon_working_days > 0:
        starts.append(calendar.add_working_days(due_on, -ladder.due_soon_working_days))
    step = ladder.reminder_every_working_days
    if step > 0:
        after = reminders_reached(due_on, as_of, ladder, calendar) + 1
        starts.append(calendar.add_working_days(overdue_from, after * step))
    return min((day for day in starts if day > as_of), default=None)


def furthest_rung(due_on: date, as_of: date, ladder: Ladder, calendar: Calendar) -> str | None:
    """The name of the furthest rung a deadline due on `due_on` has reached by `as_of`
    (None before its ladder begins): what a daily digest lists it under."""
    if reminders_reached(due_on, as_of, ladder, calendar):
        return REMINDER
    rungs = reached(due_on, as_of, ladder, calendar)  # no reminder among them
    return rungs[-1].name if rungs else None
