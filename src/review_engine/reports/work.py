"""The yearly report's figures on the work that follows the reviews: the actions answering
their recommendations, and the agencies' contributions to them. Part of the pure core: no
HTTP, no SQL, no clock reads. Each figure names what it counts, as `annual.FIGURES` does.

Actions are counted at the period's end (or on the report's day, if earlier): those live
during the year (recorded by then, and not assured or cancelled before the year began),
by where each stood that day, and by lead agency. An action's standing on a day is read
from its dates (`recorded_on`, `completed_on`, `assured_on`, `cancelled_on`) and the
dated moves of its due date, as `GET /actions?as_of=` reads it. Contributions are those
requested in the year, by where each stood on the report's day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from review_engine.actions.rules import overdue_on
from review_engine.contributions.rules import ContributionFacts, status_on
from review_engine.reports.annual import Period

__all__ = [
    "ACTION_FIGURES",
    "CONTRIBUTION_FIGURES",
    "ActionRecord",
    "ContributionRecord",
    "WorkCount",
    "count_work",
    "standing_on",
]


@dataclass(frozen=True)
class ActionRecord:
    """One action, with the due date in force on the day counted (its moves replayed)."""

    id: str
    lead_agency: str
    recorded_on: date
    original_due_on: date
    due_on: date  # in force on the day counted
    completed_on: date | None
    assured_on: date | None
    cancelled_on: date | None


@dataclass(frozen=True)
class ContributionRecord:
    reference: str  # the case's
    facts: ContributionFacts


def standing_on(action: ActionRecord, day: date) -> str | None:
    """Where the action stood on `day`: "cancelled", "assured", "completed" (awaiting
    assurance) or "open" (open or in progress); None if it was not yet recorded."""
    if action.recorded_on > day:
        return None
    for status, on in (
        ("cancelled", action.cancelled_on),
        ("assured", action.assured_on),
        ("completed", action.completed_on),
    ):
        if on is not None and on <= day:
            return status
    return "open"


def _live(action: ActionRecord, period: Period, day: date) -> bool:
    finished = [on for on in (action.assured_on, action.cancelled_on) if on is not None]
    # Finished before the year began, as known on the day counted.
    return action.recorded_on <= day and not any(on < period.start and on <= day for on in finished)


ActionCounter = Callable[[ActionRecord, date], int]


def _standing(status: str) -> ActionCounter:
    return lambda action, day: int(standing_on(action, day) == status)


def _overdue(action: ActionRecord, day: date) -> int:
    return int(
        overdue_on(
            day,
            due_on=action.due_on,
            recorded_on=action.recorded_on,
            completed_on=action.completed_on,
            cancelled_on=action.cancelled_on,
        )
    )


def _slipped(action: ActionRecord, day: date) -> int:
    return int(action.due_on != action.original_due_on)


@dataclass(frozen=True)
class ActionFigure:
    name: str  # actions.<figure>; by lead agency, actions.by_lead_agency.<agency>.<figure>
    counts: str
    counter: ActionCounter


ACTION_FIGURES: tuple[ActionFigure, ...] = (
    ActionFigure(
        "open",
        "open or in progress at the year's end (or on the report's day, if earlier)",
        _standing("open"),
    ),
    ActionFigure("overdue", "of those, overdue", _overdue),
    ActionFigure("completed", "completed, awaiting assurance", _standing("completed")),
    ActionFigure("assured", "assured in the year", _standing("assured")),
    ActionFigure("cancelled", "cancelled in the year", _standing("cancelled")),
    ActionFigure("slipped", "with their due date moved from the first one set", _slipped),
)
SLIPPED_DAYS = "slipped_days"
"""Days the slipped actions' due dates moved, in total (later minus earlier): a sum, not a
count, shown only where the `slipped` count beside it is."""


ContributionCounter = Callable[[ContributionRecord, date], bool]


def _returned(*statuses: str) -> ContributionCounter:
    return lambda contribution, day: status_on(contribution.facts, day) in statuses


@dataclass(frozen=True)
class ContributionFigure:
    name: str
    counts: str
    counter: ContributionCounter


CONTRIBUTION_FIGURES: tuple[ContributionFigure, ...] = (
    ContributionFigure(
        "requested", "agency contributions requested in the year", lambda c, day: True
    ),
    ContributionFigure(
        "returned_on_time", "of those, returned by their due date", _returned("received")
    ),
    ContributionFigure("returned_late", "of those, returned late", _returned("received_late")),
    ContributionFigure("not_coming", "of those, known not to be coming", _returned("not_coming")),
    ContributionFigure(
        "outstanding", "of those, still awaited", _returned("outstanding", "overdue")
    ),
)


@dataclass(frozen=True)
class WorkCount:
    """What `count_work` found: for each figure, what it counts (action ids; case
    references for contributions), by lead agency too, and the days slipped."""

    actions: dict[str, list[str]]
    slipped_days: int
    by_lead_agency: dict[str, dict[str, list[str]]]
    slipped_days_by_lead_agency: dict[str, int]
    contributions: dict[str, list[str]]


def _count_actions(actions: list[ActionRecord], day: date) -> tuple[dict[str, list[str]], int]:
    counted = {
        figure.name: [action.id for action in actions if figure.counter(action, day)]
        for figure in ACTION_FIGURES
    }
    days = sum((action.due_on - action.original_due_on).days for action in actions)
    return counted, days


def count_work(
    actions: Iterable[ActionRecord],
    contributions: Iterable[ContributionRecord],
    period: Period,
    as_of: date,
) -> WorkCount:
    """The actions live in `period`, each as it stood at the period's end (or `as_of`, if
    earlier: the actions' due dates must be those in force that day), and the
    contributions requested in it, each as it stood on `as_of`."""
    day = min(period.end, as_of)
    live = sorted((a for a in actions if _live(a, period, day)), key=lambda a: a.id)
    counted, days = _count_actions(live, day)
    agencies: dict[str, list[ActionRecord]] = {}
    for action in live:
        agencies.setdefault(action.lead_agency, []).append(action)
    by_agency = {name: _count_actions(agencies[name], day) for name in sorted(agencies)}
    requested = sorted(
        (
            c
            for c in contributions
            if period.holds(c.facts.requested_on) and c.facts.requested_on <= as_of
        ),
        key=lambda c: (c.reference, c.facts.agency),
    )
    return WorkCount(
        actions=counted,
        slipped_days=days,
        by_lead_agency={name: found for name, (found, _) in by_agency.items()},
        slipped_days_by_lead_agency={name: days for name, (_, days) in by_agency.items()},
        contributions={
            figure.name: [c.reference for c in requested if figure.counter(c, as_of)]
            for figure in CONTRIBUTION_FIGURES
        },
    )
