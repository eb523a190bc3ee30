"""`POST /cases/{case_id}/publication/archive`: take a published review off the public
feed (managers). Thin: parse, call `archive.py`, answer with the case."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from review_engine.auth.dependencies import ManagerDep
from review_engine.cases.representation import IfMatch, change_request
from review_engine.cases.schemas import CaseRead
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.publishing.archive import archive_publication
from review_engine.publishing.schemas import ArchivePublication

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/publication/archive",
    response_model=CaseRead,
    summary="Take a published review off the public feed, a year or more after (managers)",
    description=(
        "Only on or after the case's `keep_published_until` date: earlier is a 409 "
        "(`/problems/archive-too-early`) naming that date. The archive date is kept in the "
        "case's timeline and history; the review leaves the public feed at once."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422, 428),
)
def archive(
    case_id: uuid.UUID,
    body: ArchivePublication,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
    if_match: IfMatch = None,
) -> Response:
    change = change_request(principal=principal, context=context, claim=claim, if_match=if_match)
    return archive_publication(session=session, change=change, case_id=case_id, archive=body)
