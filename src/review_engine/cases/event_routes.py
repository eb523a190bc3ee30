"""Routes that change a case's clocks: a route per workflow event, and timescale waivers.
Thin: parse the request, call the service, answer with the case as the change left it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from review_engine import workflow
from review_engine.auth.dependencies import ManagerDep, MemberDep
from review_engine.cases import events, waivers
from review_engine.cases.representation import IfMatch, change_request
from review_engine.cases.schemas import CaseRead
from review_engine.cases.waivers import TimescaleWaiver
from review_engine.clocks import WaivableClock
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/waivers",
    response_model=CaseRead,
    summary="Waive a statutory timescale for this case, with the reason (managers)",
    responses=problem_responses(400, 401, 403, 404, 412, 415, 422, 428),
)
def waive_timescale(
    case_id: uuid.UUID,
    waiver: TimescaleWaiver,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
    if_match: IfMatch = None,
) -> Response:
    change = change_request(principal=principal, context=context, claim=claim, if_match=if_match)
    return waivers.waive_clock(session=session, change=change, case_id=case_id, waiver=waiver)


@router.delete(
    "/cases/{case_id}/waivers/{clock}",
    response_model=CaseRead,
    summary="Withdraw a timescale waiver (managers)",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def withdraw_waiver(
    case_id: uuid.UUID,
    clock: WaivableClock,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: IfMatch = None,
) -> Response:
    change = change_request(principal=principal, context=context, claim=None, if_match=if_match)
    return waivers.withdraw_waiver(session=session, change=change, case_id=case_id, clock=clock)


DryRun = Annotated[
    bool,
    Query(
        description=(
            "Answer with the case as the event would leave it, marked `dry_run: true` and "
            "`Dry-Run: true`, and write nothing. If-Match is still required: the answer is "
            "for the version you hold (412 if the case has moved on)."
        )
    ),
]


def _event_route(event: str) -> None:
    schema = workflow.payload_schema(event)

    def fire_event(
        case_id: uuid.UUID,
        principal: MemberDep,
        session: SessionDep,
        context: ClockContextDep,
        claim: IdempotencyClaimDep,
        payload: Annotated[dict[str, Any], Body(default_factory=dict)],
        if_match: IfMatch = None,
        dry_run: DryRun = False,
    ) -> Response:
        change = change_request(
            principal=principal, context=context, claim=claim, if_match=if_match
        )
        return events.fire_event(
            session=session,
            change=change,
            case_id=case_id,
            event=event,
            payload=payload,
            dry_run=dry_run,
        )

    router.add_api_route(
        f"/cases/{{case_id}}/events/{event}",
        fire_event,
        methods=["POST"],
        name=f"fire_{event}",
        summary=f"Fire the {event} event",
        description=(schema.__doc__ or "").strip(),
        response_model=CaseRead,
        responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422, 428),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema.model_json_schema()}},
            }
        },
    )


for _event in workflow.EVENTS:
    _event_route(_event)
