"""How an action is answered: JSON with its ETag (and `Location` when created), and the
`ChangeRequest` its change routes build."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse

from review_engine.actions.service import ActionChange
from review_engine.actions.views import ActionView, action_read
from review_engine.auth.models import Principal
from review_engine.clocks import ClockContext
from review_engine.etags import etag, if_match_description, parse_if_match
from review_engine.idempotency import Claim

# Optional here so that a missing header is a 428, not a 422 (see `review_engine.openapi`).
ActionIfMatch = Annotated[
    str | None,
    Header(description=if_match_description("action")),
]


def action_response(view: ActionView, as_of: date, *, status_code: int = 200) -> JSONResponse:
    body = action_read(view, as_of).model_dump(mode="json")
    headers = {"ETag": etag(view.action.version, as_of)}
    if status_code == 201:
        headers["Location"] = f"/actions/{view.action.id}"
    return JSONResponse(body, status_code=status_code, headers=headers)


def action_change(
    *,
    principal: Principal,
    context: ClockContext,
    claim: Claim | None,
    if_match: str | None = None,
    creates: bool = False,
) -> ActionChange:
    """What an action's change route hands the service: a change needs `If-Match`;
    creating an action (`creates`) takes none."""
    today = context.today
    status_code = 201 if creates else 200
    return ActionChange(
        principal=principal,
        accepted_versions=None if creates else parse_if_match(if_match, "action"),
        context=context,
        etag=lambda version: etag(version, today),
        render=lambda view: action_response(view, today, status_code=status_code),
        claim=claim,
    )
