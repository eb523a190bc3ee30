"""When an agency's contribution is due, and where it stands on a day. Part of the pure
core: no HTTP, no SQL, no clock reads. The default time allowed is a partnership setting
(`docs/statutory-basis.md#agency-contributions`: local practice, not statute).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from review_engine.calendar import Calendar

__all__ = [
    "DEFAULT_WORKING_DAYS",
    "STAGES",
    "ContributionFacts",
    "ContributionStage",
    "ContributionStatus",
    "default_due_on",
    "overdue_on",
    "status_on",
]

ContributionStage = Literal["rapid_review", "lcspr", "learning_review", "national_review"]
ContributionStatus = Literal["outstanding", "overdue", "received", "received_late", "not_coming"]
STAGES: tuple[str, ...] = get_args(ContributionStage)

DEFAULT_WORKING_DAYS = 5
"""Working days an agency has, unless the partnership sets otherwise."""


def default_due_on(requested_on: date, working_days: int, calendar: Calendar) -> date:
    """`working_days` working days after the request, on the clocks' calendar."""
    return calendar.add_working_days(requested_on, working_days)


@dataclass(frozen=True)
class ContributionFacts:
    """A contribution's dates, as the rules read them."""

    id: uuid.UUID
    agency: str
    requested_on: date
    due_on: date
    received_on: date | None
    not_coming_on: date | None


def status_on(facts: ContributionFacts, day: date) -> ContributionStatus:
    """Where the contribution stood on `day`: received (late if after its due date), known
    not to be coming, overdue (due before the day and neither), or outstanding."""
    if facts.received_on is not None and facts.received_on <= day:
        return "received_late" if facts.received_on > facts.due_on else "received"
    if facts.not_coming_on is not None and facts.not_coming_on <= day:
        return "not_coming"
    return "overdue" if facts.due_on < day else "outstanding"


def overdue_on(facts: ContributionFacts, day: date) -> bool:
    """Requested by `day` and overdue on it."""
    return facts.requested_on <= day and status_on(facts, day) == "overdue"
