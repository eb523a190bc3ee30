"""`GET /cases/{case_id}/diagram`: the workflow drawn for one case (Mermaid), generated from
the state machine like docs/workflow.md, with the states its history went through and the
one it is in now marked."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from sqlmodel import col, select

from review_engine import workflow
from review_engine.auth.dependencies import ViewerDep
from review_engine.cases.changes import get_case
from review_engine.cases.models import CaseHistoryEntry
from review_engine.db import SessionDep
from review_engine.errors import problem_responses

router = APIRouter(tags=["cases"])

MERMAID = "text/vnd.mermaid"


@router.get(
    "/cases/{case_id}/diagram",
    summary="The workflow drawn for this case: its path and where it is now (Mermaid)",
    response_class=Response,
    responses={
        200: {
            "description": (
                "A Mermaid state diagram: the states the case went through are `visited`, "
                "the current one `active`; `accTitle` and `accDescr` say the same in words."
            ),
            "content": {MERMAID: {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 404, 422),
    },
)
def case_diagram(case_id: uuid.UUID, principal: ViewerDep, session: SessionDep) -> Response:
    view = get_case(session=session, principal=principal, case_id=case_id)
    states = session.exec(
        select(CaseHistoryEntry.to_state)
        .where(col(CaseHistoryEntry.case_id) == case_id)
        .order_by(col(CaseHistoryEntry.version))
    ).all()
    path = [
        state for number, state in enumerate(states) if number == 0 or state != states[number - 1]
    ]
    drawn = workflow.case_diagram(
        state=view.state, path=path, title=f"Workflow of case {view.case.reference}"
    )
    return Response(drawn, media_type=f"{MERMAID}; charset=utf-8")
