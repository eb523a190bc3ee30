"""The demo's learning into practice, loaded after its cases: each partnership's agencies,
the recommendations of a published review and of a Panel report, their actions at every
stage (open and overdue, slipped, completed, assured), and the agency contributions to a
rapid review (received, late, outstanding). Entirely fictional; dates are working days
before today, so something is always overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session, select
from starlette.responses import Response

from review_engine.actions import service as actions
from review_engine.actions.models import Recommendation
from review_engine.actions.recommendations import add_recommendation
from review_engine.actions.schemas import ActionCreate, ActionPatch, RecommendationCreate
from review_engine.actions.service import ActionChange
from review_engine.agencies.models import Agency
from review_engine.agencies.service import add_agency
from review_engine.auth.models import Principal, Role
from review_engine.cases.models import Case
from review_engine.clocks import ClockContext
from review_engine.contributions import service as contributions
from review_engine.contributions.schemas import ContributionCreate, ContributionPatch
from review_engine.contributions.service import ContributionChange
from review_engine.partnerships.models import Partnership

_LOADER = Principal(key_name="demo-loader", role=Role.ADMIN, partnership_codes=None)

AGENCIES = {
    "wessex-vale": (
        "Wessex Vale Council",
        "Wessex Police",
        "NHS Wessex ICB",
        "Wessex Vale Schools",
        "Wessex Ambulance Service",
    ),
    "kingsmere": ("Kingsmere Council", "Kingsmere Police", "NHS Kingsmere ICB"),
}

# (case reference or None for the partnership's own, partnership, source, text, actions);
# each action is (description, lead agency, due in working days from today, changes), the
# changes applied in order as PATCH bodies (dates as working days from today).
_Plan = list[tuple[str | None, str, str, str, list[tuple[str, str, int, list[dict[str, Any]]]]]]
_PLAN: _Plan = [
    (
        "KM-2025-019",
        "kingsmere",
        "lcspr",
        "Safe sleep advice is given and recorded at every health contact.",
        [
            ("Audit safe sleep advice in health visiting records", "NHS Kingsmere ICB", -20, []),
            (
                "Add safe sleep to the multi-agency induction",
                "Kingsmere Council",
                -30,
                [
                    {"due_on": 25, "due_on_change_reason": "Trainer on long-term leave"},
                    {"status": "in_progress"},
                ],
            ),
            (
                "Publish a 7-minute briefing on the review",
                "Kingsmere Council",
                -60,
                [
                    {
                        "status": "completed",
                        "completed_on": -20,
                        "evidence_of_completion": "Briefing published",
                    },
                    {
                        "status": "assured",
                        "assured_on": -10,
                        "assured_by": "Learning and Improvement Subgroup",
                        "rating": "blue",
                    },
                ],
            ),
        ],
    ),
    (
        None,
        "wessex-vale",
        "panel_report",
        "Agencies check for extrafamilial harm when a child goes missing from education.",
        [("Review the missing-from-education protocol", "Wessex Vale Schools", 40, [])],
    ),
]

# (case reference, agency, requested working days ago, received working days ago or None)
_CONTRIBUTIONS = [
    ("WV-2026-012", "Wessex Police", 14, 10),
    ("WV-2026-012", "NHS Wessex ICB", 14, 5),
    ("WV-2026-012", "Wessex Vale Council", 14, None),
    ("WV-2026-012", "Wessex Vale Schools", 2, None),
]


def _dated(raw: dict[str, Any], context: ClockContext) -> dict[str, Any]:
    return {
        name: context.calendar.add_working_days(context.today, value).isoformat()
        if name.endswith("_on") and isinstance(value, int)
        else value
        for name, value in raw.items()
    }


def _keeper(into: list[Any]) -> Callable[[Any], Response]:
    """A render that keeps what it is given: the loader needs no HTTP answers."""

    def keep(made: Any) -> Response:
        into.append(made)
        return Response()

    return keep


def _day(context: ClockContext, working_days: int) -> date:
    return context.calendar.add_working_days(context.today, working_days)


def load_learning(*, session: Session, context: ClockContext) -> bool:
    """Adds the demo's agencies, actions and contributions once (False if already there)."""
    partnerships = {p.code: p for p in session.exec(select(Partnership))}
    if session.exec(select(Agency.id)).first() is not None or not partnerships:
        return False
    for code, names in AGENCIES.items():
        for name in names:
            add_agency(
                session=session,
                principal=_LOADER,
                partnership=partnerships[code],
                name=name,
                render=lambda agency: Response(),
                claim=None,
            )
    cases = {case.reference: case.id for case in session.exec(select(Case))}
    _load_actions(session, context, partnerships, cases)
    _load_contributions(session, context, cases)
    return True


def _load_actions(
    session: Session,
    context: ClockContext,
    partnerships: dict[str, Partnership],
    cases: dict[str, Any],
) -> None:
    made: list[Any] = []
    change = ActionChange(
        principal=_LOADER,
        accepted_versions=None,
        context=context,
        etag=str,
        render=_keeper(made),
    )
    recommendations: list[Any] = []
    for reference, code, source, text, planned in _PLAN:
        add_recommendation(
            session=session,
            principal=_LOADER,
            partnership=partnerships[code],
            case_id=cases[reference] if reference else None,
            recommendation_in=RecommendationCreate(text=text, source=source),
            as_of=context.today,
            render=_keeper(recommendations),
            claim=None,
        )
        recommendation = session.get(Recommendation, recommendations[-1].id)
        assert recommendation is not None
        for description, agency, due_in, changes in planned:
            actions.add_action(
                session=session,
                change=change,
                recommendation=recommendation,
                action_in=ActionCreate(
                    description=description, lead_agency=agency, due_on=_day(context, due_in)
                ),
            )
            action_id = made[-1].action.id
            for raw in changes:
                actions.patch_action(
                    session=session,
                    change=change,
                    action_id=action_id,
                    patch=ActionPatch.model_validate(_dated(raw, context)),
                )


def _load_contributions(session: Session, context: ClockContext, cases: dict[str, Any]) -> None:
    made: list[Any] = []
    change = ContributionChange(
        principal=_LOADER,
        accepted_versions=None,
        context=context,
        etag=str,
        render=_keeper(made),
    )
    for reference, agency, requested_ago, received_ago in _CONTRIBUTIONS:
        contributions.request_contribution(
            session=session,
            change=change,
            case_id=cases[reference],
            body=ContributionCreate(agency=agency, requested_on=_day(context, -requested_ago)),
        )
        if received_ago is not None:
            contributions.patch_contribution(
                session=session,
                change=change,
                contribution_id=made[-1].contribution.id,
                patch=ContributionPatch(received_on=_day(context, -received_ago)),
            )
