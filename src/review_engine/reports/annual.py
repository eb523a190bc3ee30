"""The yearly report's figures, as one declarative table (`FIGURES`): each figure is named
(`group.figure`, as the JSON nests it and the CSV lists it), says what it counts, and counts
it for one case. Part of the pure core: no HTTP, no SQL, no clock reads. The caller replays
each case as of the report's day (`CaseTimeline.as_of`) and evaluates its clocks then.

Every figure is traceable: `count` returns, for each figure, the references of the cases
it counts (a case counted twice, e.g. two Panel responses, appears twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import get_args

from review_engine.timeline import CaseTimeline, PanelOutcome, ReviewRoute

__all__ = ["FIGURES", "CaseRecord", "Figure", "Period", "count", "reporting_year"]


@dataclass(frozen=True)
class Period:
    """A reporting year: 1 April to 31 March, both included."""

    start: date
    end: date

    def holds(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def reporting_year(year: int) -> Period:
    """The year starting on 1 April `year`."""
    return Period(date(year, 4, 1), date(year + 1, 3, 31))


@dataclass(frozen=True)
class CaseRecord:
    """One case as it stood on the report's day."""

    reference: str
    timeline: CaseTimeline  # already replayed as of the report's day
    statuses: Mapping[str, str]  # clock name -> status on that day
    themes: tuple[str, ...]
    panel_responses: tuple[tuple[date, PanelOutcome], ...]  # (received_on, outcome), replayed
    # What the first submission recommended (the timeline keeps only the latest).
    first_recommendation: ReviewRoute | None = None


Counter = Callable[[CaseRecord, Period], int]


@dataclass(frozen=True)
class Figure:
    name: str  # group.figure
    counts: str  # what it counts, in words (the CSV's label, after its group)
    counter: Counter


def _on(field: str) -> Counter:
    return lambda case, period: int(period.holds(getattr(case.timeline, field)))


def _with_status(base: Counter, clock: str, status: str) -> Counter:
    return lambda case, period: base(case, period) if case.statuses.get(clock) == status else 0


def _route_decided(route: ReviewRoute) -> Counter:
    def counter(case: CaseRecord, period: Period) -> int:
        timeline = case.timeline
        return int(timeline.review_route == route and period.holds(timeline.decided_on))

    return counter


_ROUTES: dict[str, str] = {
    "lcspr": "an LCSPR",
    "learning_review": "a local learning review",
    "no_further_review": "no further review",
    "national_review": "a national review",
}


def _recommended(route: ReviewRoute) -> Counter:
    def counter(case: CaseRecord, period: Period) -> int:
        timeline = case.timeline
        recommended = case.first_recommendation or timeline.recommendation
        return int(period.holds(timeline.submitted_on) and recommended == route)

    return counter


def _panel_said(outcome: PanelOutcome) -> Counter:
    return lambda case, period: sum(
        1
        for received_on, said in case.panel_responses
        if said == outcome and period.holds(received_on)
    )


def _lcspr_published(case: CaseRecord, period: Period) -> int:
    # By the route decided, not by which completion dates the replay kept: a learning
    # review may be published before it is recorded complete.
    timeline = case.timeline
    lcspr = timeline.review_route == "lcspr" and timeline.escalated_on is None
    return int(lcspr and period.holds(timeline.published_on))


def _learning_review_started(case: CaseRecord, period: Period) -> int:
    timeline = case.timeline
    started = timeline.learning_review_started_on or (
        timeline.decided_on if timeline.review_route == "learning_review" else None
    )
    return int(period.holds(started))


def _national_review_taken(case: CaseRecord, period: Period) -> int:
    timeline = case.timeline
    decided = timeline.review_route == "national_review" and period.holds(timeline.decided_on)
    return int(decided or period.holds(timeline.escalated_on))


def _paused_now(case: CaseRecord, period: Period) -> int:
    # The clock's verdict: a pause the Panel's national review overtook is not a pause.
    return int(case.statuses.get("review_publication") == "paused")


_NOTIFIED = _on("notified_on")
_SUBMITTED = _on("submitted_on")

FIGURES: tuple[Figure, ...] = (
    Figure("notifications.total", "Panel notifications made in the year", _NOTIFIED),
    Figure(
        "notifications.on_time",
        "of those, within 5 working days of awareness",
        _with_status(_NOTIFIED, "notification", "met"),
    ),
    Figure(
        "notifications.late",
        "of those, later",
        _with_status(_NOTIFIED, "notification", "met_late"),
    ),
    Figure(
        "notifications.waived",
        "of those, with the timescale waived",
        _with_status(_NOTIFIED, "notification", "waived"),
    ),
    Figure(
        "notifications.not_notified_decisions",
        "decisions in the year not to notify the Panel",
        _on("not_notified_on"),
    ),
    Figure("rapid_reviews.submitted", "first sent to the Panel in the year", _SUBMITTED),
    Figure(
        "rapid_reviews.on_time",
        "of those, within 15 working days",
        _with_status(_SUBMITTED, "rapid_review", "met"),
    ),
    Figure(
        "rapid_reviews.late",
        "of those, later",
        _with_status(_SUBMITTED, "rapid_review", "met_late"),
    ),
    Figure(
        "rapid_reviews.waived",
        "of those, with the timescale waived",
        _with_status(_SUBMITTED, "rapid_review", "waived"),
    ),
    *(
        Figure(
            f"rapid_reviews.recommendations.{route}",
            f"of those, recommending {_ROUTES[route]}",
            _recommended(route),
        )
        for route in get_args(ReviewRoute)
    ),
    *(
        Figure(
            f"rapid_reviews.panel_outcomes.{outcome}",
            f"the Panel's responses received in the year: {outcome.replace('_', ' ')}",
            _panel_said(outcome),
        )
        for outcome in get_args(PanelOutcome)
    ),
    Figure("lcsprs.commissioned", "decided on in the year", _route_decided("lcspr")),
    Figure("lcsprs.published", "published in the year", _lcspr_published),
    Figure(
        "lcsprs.published_on_time",
        "of those, within six months of the decision (pauses counted)",
        _with_status(_lcspr_published, "review_publication", "met"),
    ),
    Figure("lcsprs.withheld", "reports withheld in the year", _on("withheld_on")),
    Figure("lcsprs.paused_now", "paused on the report's day", _paused_now),
    Figure(
        "learning_reviews.started",
        "local learning reviews started in the year",
        _learning_review_started,
    ),
    Figure(
        "learning_reviews.completed",
        "completed in the year",
        _on("learning_review_completed_on"),
    ),
    Figure(
        "national_reviews.taken",
        "national reviews the Panel took in the year",
        _national_review_taken,
    ),
    Figure(
        "national_reviews.completed",
        "completed in the year",
        _on("national_review_completed_on"),
    ),
)


def count(
    cases: Iterable[CaseRecord], period: Period
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each figure, and for each theme of the cases notified in the period, the
    references of the cases counted, in order of reference."""
    ordered = sorted(cases, key=lambda case: case.reference)
    figures = {
        figure.name: [
            case.reference for case in ordered for _ in range(figure.counter(case, period))
        ]
        for figure in FIGURES
    }
    themes: dict[str, list[str]] = {}
    for case in ordered:
        if period.holds(case.timeline.notified_on):
            for theme in case.themes:
                themes.setdefault(theme, []).append(case.reference)
    return figures, dict(sorted(themes.items()))
