"""Gathering the yearly report: every case of the partnership replayed as of the report's
day (its timeline cut at that day, its clocks evaluated then, its Panel responses read from
its history up to that day), then counted by `annual.count`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

from sqlmodel import Session, col, select

from review_engine.actions.models import Action
from review_engine.actions.views import action_views
from review_engine.agencies.models import Agency
from review_engine.auth.models import Principal
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.models import Case, CaseHistoryEntry
from review_engine.clocks import ClockContext
from review_engine.contributions.models import Contribution
from review_engine.contributions.queries import facts_of
from review_engine.partnerships.service import get_accessible
from review_engine.reports.annual import CaseRecord, Period, count
from review_engine.reports.work import ActionRecord, ContributionRecord, WorkCount, count_work
from review_engine.timeline import CaseTimeline, PanelOutcome, ReviewRoute

__all__ = ["Report", "annual_report"]

# The workflow's events, as the history names them.
_PANEL_RESPONSE = "record_panel_response"
_SUBMISSION = "submit_rapid_review"
_OUTCOMES: tuple[str, ...] = get_args(PanelOutcome)
_ROUTES: tuple[str, ...] = get_args(ReviewRoute)


@dataclass(frozen=True)
class Report:
    partnership: str  # its code
    partnership_name: str
    figures: dict[str, list[str]]  # figure name -> references counted
    themes: dict[str, list[str]]
    work: WorkCount  # actions and contributions


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


def _actions(session: Session, partnership_id: Any, day: date) -> list[ActionRecord]:
    """The partnership's actions recorded by `day`, with the due date in force then."""
    actions = session.exec(
        select(Action)
        .where(col(Action.partnership_id) == partnership_id)
        .where(col(Action.recorded_on) <= day)
    ).all()
    return [
        ActionRecord(
            id=str(view.action.id),
            lead_agency=view.lead_agency,
            recorded_on=view.action.recorded_on,
            original_due_on=view.action.original_due_on,
            due_on=view.due_on_as_of(day),
            completed_on=view.action.completed_on,
            assured_on=view.action.assured_on,
            cancelled_on=view.action.cancelled_on,
        )
        for view in action_views(session=session, actions=actions)
    ]


def _contributions(session: Session, partnership_id: Any) -> list[ContributionRecord]:
    rows = session.exec(
        select(Contribution, Agency.name, Case.reference)
        .join(Agency, col(Agency.id) == col(Contribution.agency_id))
        .join(Case, col(Case.id) == col(Contribution.case_id))
        .where(col(Contribution.partnership_id) == partnership_id)
    )
    return [
        ContributionRecord(reference=reference, facts=facts_of(contribution, agency))
        for contribution, agency, reference in rows
    ]


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
    work = count_work(
        _actions(session, partnership.id, min(period.end, as_of)),
        _contributions(session, partnership.id),
        period,
        as_of,
    )
    return Report(
        partnership=partnership.code,
        partnership_name=partnership.name,
        figures=figures,
        themes=themes,
        work=work,
    )
