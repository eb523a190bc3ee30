"""Routes for actions: the action plan (JSON or CSV), one action, its changes, progress
notes and history. Thin: parse the request, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse

from review_engine import audit
from review_engine.actions import listing, service
from review_engine.actions.export import CSV_MEDIA_TYPE, actions_csv
from review_engine.actions.models import ActionUpdate
from review_engine.actions.representation import ActionIfMatch, action_change, action_response
from review_engine.actions.rules import ActionStatus, Rating
from review_engine.actions.schemas import (
    ActionPage,
    ActionPatch,
    ActionRead,
    ProgressNoteCreate,
    ProgressNotePage,
    ProgressNoteRead,
)
from review_engine.actions.views import action_read, get_action
from review_engine.agencies.schemas import AgencyName
from review_engine.auth.dependencies import MemberDep, ViewerDep
from review_engine.cases.representation import AsOf
from review_engine.dates import CalendarDate
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.negotiation import prefers_csv
from review_engine.pagination import DEFAULT_LIMIT, Cursor, Limit, page_size
from review_engine.partnerships.models import CODE_PATTERN

router = APIRouter(prefix="/actions", tags=["actions"], responses=problem_responses(401, 422))


@router.get(
    "",
    response_model=ActionPage,
    summary="The action plan: actions the key may see, soonest due first (JSON or CSV)",
    description=(
        "With `Accept: text/csv`, every matching action as one CSV table (one row each, "
        "with its recommendation and case reference; `cursor` and `limit` are not used), "
        "for a board meeting. Otherwise one JSON page."
    ),
    responses={200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
def list_actions(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
    partnership: Annotated[
        str | None, Query(description="Partnership code", pattern=CODE_PATTERN)
    ] = None,
    lead_agency: Annotated[AgencyName | None, Query()] = None,
    status: Annotated[ActionStatus | None, Query()] = None,
    rating: Annotated[Rating | None, Query()] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description=(
                "Only actions overdue (true) or not overdue (false) as of `as_of`: recorded "
                "by then, neither completed nor cancelled by then, and due before then by "
                "the due date then in force."
            )
        ),
    ] = None,
    due_before: Annotated[
        CalendarDate | None, Query(description="Only actions whose due date is before this day.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    day = as_of or context.today
    csv = prefers_csv(accept)
    views, next_cursor = listing.list_actions(
        session=session,
        principal=principal,
        filters=listing.ActionFilters(
            partnership=partnership,
            lead_agency=lead_agency,
            status=status,
            rating=rating,
            overdue=overdue,
            due_before=due_before,
        ),
        as_of=day,
        today=context.today,
        cursor=None if csv else cursor,
        limit=None if csv else page_size(request, limit),
    )
    if csv:
        body = actions_csv(session=session, views=views, as_of=day)
        return Response(
            body,
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="actions.csv"'},
        )
    page = ActionPage(items=[action_read(view, day) for view in views], next_cursor=next_cursor)
    return JSONResponse(page.model_dump(mode="json"))


@router.get(
    "/{action_id}",
    response_model=ActionRead,
    summary="One action",
    responses=problem_responses(404),
)
def read_action(
    action_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    as_of: AsOf = None,
) -> Response:
    view = get_action(session=session, principal=principal, action_id=action_id)
    return action_response(view, as_of or context.today)


@router.patch(
    "/{action_id}",
    response_model=ActionRead,
    summary="Change an action: progress, evidence, assurance, a new due date",
    description=(ActionPatch.__doc__ or "").strip(),
    responses=problem_responses(403, 404, 409, 412, 428),
)
def patch_action(
    action_id: uuid.UUID,
    patch: ActionPatch,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: ActionIfMatch = None,
) -> Response:
    change = action_change(principal=principal, context=context, claim=None, if_match=if_match)
    return service.patch_action(session=session, change=change, action_id=action_id, patch=patch)


def _note_read(note: ActionUpdate) -> ProgressNoteRead:
    assert note.id is not None
    return ProgressNoteRead(
        id=note.id,
        action_id=note.action_id,
        noted_on=note.noted_on,
        note=note.note,
        recorded_by=note.actor,
        recorded_at=note.recorded_at,
    )


@router.post(
    "/{action_id}/updates",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgressNoteRead,
    summary="Add a dated progress note (the action's ETag does not change)",
    responses=problem_responses(403, 404),
)
def add_progress_note(
    action_id: uuid.UUID,
    body: ProgressNoteCreate,
    principal: MemberDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    def created(note: ActionUpdate) -> Response:
        return JSONResponse(
            _note_read(note).model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/actions/{action_id}/updates"},
        )

    return service.add_progress_note(
        session=session,
        principal=principal,
        action_id=action_id,
        note_in=body,
        today=context.today,
        render=created,
        claim=claim,
    )


@router.get(
    "/{action_id}/updates",
    summary="The action's progress notes, in the order recorded",
    responses=problem_responses(404),
)
def list_progress_notes(
    request: Request,
    action_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ProgressNotePage:
    notes, next_cursor = service.list_progress_notes(
        session=session,
        principal=principal,
        action_id=action_id,
        cursor=cursor,
        limit=page_size(request, limit),
    )
    return ProgressNotePage(items=[_note_read(note) for note in notes], next_cursor=next_cursor)


@router.get(
    "/{action_id}/history",
    summary="Every change to the action: who, when, what (oldest first)",
    responses=problem_responses(404),
)
def action_history(
    request: Request,
    action_id: uuid.UUID,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> audit.AuditPage:
    get_action(session=session, principal=principal, action_id=action_id)
    return audit.audit_page(
        session=session,
        subject="action",
        subject_id=action_id,
        cursor=cursor,
        limit=page_size(request, limit),
    )
