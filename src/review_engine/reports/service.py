"""Gathering the yearly report: every case of the partnership replayed as of the report's
day (its timeline cut at that day, its clocks evaluated then, its Panel responses read from
its history up to that day), then counted by `annual.count`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

from sqlmodel import Session, col, select

from review_engine.auth.models import Principal
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.models import Case, CaseHistoryEntry
from review_engine.clocks import ClockContext
from review_engine.partnerships.service import get_accessible
from review_engine.reports.annual import CaseRecord, Period, count
from review_engine.reports.schemas import Count
from review_engine.timeline import CaseTimeline, PanelOutcome, ReviewRoute

__all__ = ["Report", "annual_report", "nest", "suppressed"]

# The workflow's events, as the history names them.
_PANEL_RESPONSE = "record_panel_response"
_SUBMISSION = "submit_rapid_review"
_OUTCOMES: tuple[str, ...] = get_args(PanelOutcome)
_ROUTES: tuple[str, ...] = get_args(ReviewRoute)


@dataclass(frozen=True)
class Report:
    partnership: str
    figures: dict[str, list[str]]  # figure name -> references counted
    themes: dict[str, list[str]]


@dataclass
class _Said:
    """What a case's history says beyond its timeline (which keeps only the latest)."""

    panel_responses: list[tuple[date, PanelOutcome]] = field(default_factory=list)
    first_recommendation: ReviewRoute | None = None


def _history(session: Session, partnership_id: Any, as_of: date) -> dict[Any, _Said]:
    """Each case's Panel responses up to `as_of` (a challenged rapid review answered again
    later has both), and the route its first submission recommended (a resubmission may
    recommend another), from its history."""
    rows = session.exec(
        select(CaseHistoryEntry.case_id, CaseHistoryEntry.event, CaseHistoryEntry.details)
        .join(Case, col(Case.id) == col(CaseHistoryEntry.case_id))
        .where(col(Case.partnership_id) == partnership_id)
        .where(col(CaseHistoryEntry.event).in_((_PANEL_RESPONSE, _SUBMISSION)))
        .order_by(col(CaseHistoryEntry.case_id), col(CaseHistoryEntry.version))
    )
    found: dict[Any, _Said] = {}
    for case_id, event, details in rows:
        said = found.setdefault(case_id, _Said())
        if event == _SUBMISSION:
            route = details.get("recommendation")
            if said.first_recommendation is None and route in _ROUTES:
                said.first_recommendation = route
            continue
        received, outcome = details.get("received_on"), details.get("outcome")
        if not isinstance(received, str) or outcome not in _OUTCOMES:
            continue  # every recorded response has both; nothing else is counted
        received_on = date.fromisoformat(received)
        if received_on <= as_of:
            said.panel_responses.append((received_on, outcome))
    return found


def _records(
    session: Session, partnership_id: Any, as_of: date, context: ClockContext
) -> Iterator[CaseRecord]:
    history = _history(session, partnership_id, as_of)
    for case in session.exec(select(Case).where(col(Case.partnership_id) == partnership_id)):
        recorded = CaseTimeline.model_validate(case.timeline)
        if recorded.aware_on > as_of:
            continue  # nobody knew of it yet
        timeline = recorded.as_of(as_of)
        deadlines = stored_deadlines.evaluate(timeline, context=context, as_of=as_of)
        said = history.get(case.id, _Said())
        yield CaseRecord(
            reference=case.reference,
            timeline=timeline,
            statuses={deadline.name: deadline.status for deadline in deadlines},
            themes=tuple(case.themes),
            panel_responses=tuple(sorted(said.panel_responses)),
            first_recommendation=said.first_recommendation,
        )


def annual_report(
    *,
    session: Session,
    principal: Principal,
    code: str,
    period: Period,
    as_of: date,
    context: ClockContext,
) -> Report:
    """The figures of the partnership `code` (404 if the key may not see it)."""
    partnership = get_accessible(session=session, principal=principal, code=code)
    figures, themes = count(_records(session, partnership.id, as_of, context), period)
    return Report(partnership=partnership.code, figures=figures, themes=themes)


def suppressed(references: list[str], below: int | None) -> Count:
    """The count, or "c" when it is from 1 to `below` - 1."""
    number = len(references)
    return "c" if below is not None and 0 < number < below else number


def nest(flat: dict[str, Count]) -> dict[str, Any]:
    """`{"a.b.c": 1}` as `{"a": {"b": {"c": 1}}}`."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *groups, last = name.split(".")
        place = nested
        for group in groups:
            place = place.setdefault(group, {})
        place[last] = value
    return nested
