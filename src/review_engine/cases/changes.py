"""What every change to a stored case shares: finding it (404), the role and If-Match
checks (403, 412), rewriting its deadline rows and its history entry, rendering the answer
and committing it with its idempotency record. Used by the case operations in `service.py`
and `waivers.py`; only `save_change` commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col
from starlette.responses import Response

from review_engine.auth.models import Principal, Role
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.deadlines import timeline_of
from review_engine.cases.models import Case, CaseHistoryEntry
from review_engine.clocks import ClockContext
from review_engine.db import utcnow
from review_engine.errors import Forbidden, NotFound, PreconditionFailed
from review_engine.idempotency import Claim, commit_answer
from review_engine.partnerships.models import Partnership
from review_engine.timeline import CaseTimeline

EtagFor = Callable[[int], str]
"""Renders the ETag of a case version (the router knows the format and the day)."""
Render = Callable[["CaseView"], Response]
"""Renders the answer to a request from a case (the router knows the representation)."""


@dataclass(frozen=True)
class CaseView:
    """A case as it is (or would be, for a dry run), with its partnership."""

    case: Case
    partnership: Partnership
    state: str
    timeline: CaseTimeline
    version: int
    dry_run: bool = False  # what the case would be: nothing was written


def view_of(case: Case, partnership: Partnership) -> CaseView:
    return CaseView(
        case=case,
        partnership=partnership,
        state=case.state,
        timeline=timeline_of(case),
        version=case.version,
    )


def not_found(case_id: uuid.UUID) -> NotFound:
    return NotFound(f"No case with id {case_id}.")


def get_case(*, session: Session, principal: Principal, case_id: uuid.UUID) -> CaseView:
    """Returns the case if it exists and the caller may see its partnership."""
    row = session.execute(
        select(Case, Partnership)
        .join(Partnership, col(Partnership.id) == col(Case.partnership_id))
        .where(col(Case.id) == case_id)
    ).one_or_none()
    if row is None or not principal.can_access(row[1].code):
        raise not_found(case_id)
    return view_of(row[0], row[1])


def record_history(
    *,
    session: Session,
    case: Case,
    principal: Principal,
    action: str,
    from_state: str | None,
    event: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        CaseHistoryEntry(
            case_id=case.id,
            version=case.version,
            actor=principal.key_name,
            action=action,
            event=event,
            from_state=from_state,
            to_state=case.state,
            details=details or {},
        )
    )


def store_deadlines(*, session: Session, case: Case, context: ClockContext) -> None:
    """Rewrites the case's stored deadline rows as of today."""
    evaluated = stored_deadlines.evaluate(timeline_of(case), context=context, as_of=context.today)
    stored_deadlines.store(session=session, case=case, deadlines=evaluated)


def check_version(view: CaseView, accepted_versions: set[int] | None, etag: str) -> None:
    """`accepted_versions` is None for `If-Match: *` (any current version)."""
    if accepted_versions is not None and view.version not in accepted_versions:
        raise PreconditionFailed(
            "The case has changed since you read it: read it again and retry.",
            headers={"ETag": etag},
            current_etag=etag,
        )


def lost_race(
    *, session: Session, principal: Principal, case_id: uuid.UUID, etag: EtagFor
) -> PreconditionFailed:
    current = get_case(session=session, principal=principal, case_id=case_id)
    tag = etag(current.version)
    return PreconditionFailed(
        "The case changed while your request was being processed: read it again and retry.",
        headers={"ETag": tag},
        current_etag=tag,
    )


@dataclass(frozen=True)
class ChangeRequest:
    """Who asks for a change to a case, and on what terms."""

    principal: Principal
    accepted_versions: set[int] | None  # what If-Match accepts; None: any (`*`)
    context: ClockContext
    etag: EtagFor  # renders the ETag of a version, for a 412
    render: Render  # renders the answer from the case as the change leaves it
    claim: Claim | None = None  # the request's hold on its Idempotency-Key, if it sent one


def open_for_change(
    *,
    session: Session,
    change: ChangeRequest,
    case_id: uuid.UUID,
    needs: Role | None = None,
    what: str = "this change",
) -> CaseView:
    """The case to change: 404 if the caller cannot see it, 403 if their role is below
    `needs`, 412 if it is not at a version their If-Match accepts."""
    view = get_case(session=session, principal=change.principal, case_id=case_id)
    if needs is not None and not change.principal.at_least(needs):
        raise Forbidden(f"{what} needs the {needs.value} role.")
    check_version(view, change.accepted_versions, change.etag(view.version))
    return view


def save_change(
    *,
    session: Session,
    change: ChangeRequest,
    view: CaseView,
    action: str,
    details: dict[str, Any],
    moves_deadlines: bool,
    event: str | None = None,
    after_flush: Callable[[], None] | None = None,
) -> Response:
    """Saves what the caller changed on `view.case`, all or nothing, and returns the answer.

    `stage_change`, then the answer rendered from the case exactly as the change leaves it
    (so a failure to render leaves nothing written), then one commit holding the change
    and the answer's idempotency record.
    """
    stage_change(
        session=session,
        principal=change.principal,
        view=view,
        action=action,
        details=details,
        current_etag=change.etag,
        context=change.context if moves_deadlines else None,
        event=event,
        after_flush=after_flush,
    )
    answer = change.render(view_of(view.case, view.partnership))
    commit_answer(session=session, answer=answer, claim=change.claim)
    return answer


def stage_change(
    *,
    session: Session,
    principal: Principal,
    view: CaseView,
    action: str,
    details: dict[str, Any],
    current_etag: EtagFor,
    context: ClockContext | None,
    event: str | None = None,
    after_flush: Callable[[], None] | None = None,
) -> None:
    """Writes what the caller changed on `view.case` into the open transaction, uncommitted.

    The version-checked UPDATE first (a writer that got there first makes this a 412),
    then `after_flush`, the deadline rows (when `context` is given: the change can move
    deadlines) and one history entry from `view.state` to the case's state now.
    """
    case = view.case
    case.updated_at = utcnow()
    try:
        session.flush()  # UPDATE ... WHERE version = <the version read>
    except StaleDataError:
        session.rollback()
        raise lost_race(
            session=session, principal=principal, case_id=case.id, etag=current_etag
        ) from None
    if after_flush is not None:
        after_flush()
    if context is not None:
        store_deadlines(session=session, case=case, context=context)
    record_history(
        session=session,
        case=case,
        principal=principal,
        action=action,
        event=event,
        from_state=view.state,
        details=details,
    )
