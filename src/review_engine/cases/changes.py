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

from review_engine.actions.queries import outstanding_action_ids
from review_engine.auth.models import Principal, Role
from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.deadlines import timeline_of
from review_engine.cases.models import Case, CaseHistoryEntry
from review_engine.change_request import ChangeRequest as GenericChangeRequest
from review_engine.change_request import EtagFor, changed_meanwhile, check_version
from review_engine.clocks import ClockContext
from review_engine.contributions.queries import case_contributions
from review_engine.contributions.rules import ContributionFacts
from review_engine.db import utcnow
from review_engine.errors import Forbidden, NotFound, PreconditionFailed
from review_engine.idempotency import commit_answer
from review_engine.partnerships.models import Partnership
from review_engine.publishing.index import store_publication
from review_engine.timeline import CaseTimeline


@dataclass(frozen=True)
class CaseLinks:
    """What other domains hold about a case that its answer shows."""

    outstanding_actions: tuple[uuid.UUID, ...] = ()  # not assured or cancelled: no closing
    contributions: tuple[ContributionFacts, ...] = ()


@dataclass(frozen=True)
class CaseView:
    """A case as it is (or would be, for a dry run), with its partnership."""

    case: Case
    partnership: Partnership
    state: str
    timeline: CaseTimeline
    version: int
    dry_run: bool = False  # what the case would be: nothing was written
    links: CaseLinks = CaseLinks()


ChangeRequest = GenericChangeRequest[CaseView]
"""A change to a case (see `review_engine.change_request`)."""


def view_of(
    case: Case,
    partnership: Partnership,
    links: CaseLinks | None = None,
    timeline: CaseTimeline | None = None,
) -> CaseView:
    """`timeline` is the case's, when the caller has already read it."""
    return CaseView(
        case=case,
        partnership=partnership,
        state=case.state,
        timeline=timeline or timeline_of(case),
        version=case.version,
        links=links or CaseLinks(),
    )


def not_found(case_id: uuid.UUID) -> NotFound:
    return NotFound(f"No case with id {case_id}.")


def get_case(
    *, session: Session, principal: Principal, case_id: uuid.UUID, for_update: bool = False
) -> CaseView:
    """Returns the case if it exists and the caller may see its partnership, with its links.

    `for_update` locks the case's row (PostgreSQL; a SQLite writer holds the database) until
    the transaction ends, so what is read with it (its outstanding actions, for the closure
    gate) cannot change underneath a change to the case: anything that adds an action to
    a case takes the same lock.
    """
    query = (
        select(Case, Partnership)
        .join(Partnership, col(Partnership.id) == col(Case.partnership_id))
        .where(col(Case.id) == case_id)
    )
    if for_update:
        query = query.with_for_update(of=Case)
    row = session.execute(query).one_or_none()
    if row is None or not principal.can_access(row[1].code):
        raise not_found(case_id)
    links = CaseLinks(
        outstanding_actions=outstanding_action_ids(session=session, case_id=case_id),
        contributions=case_contributions(session=session, case_id=case_id),
    )
    return view_of(row[0], row[1], links)


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


def store_deadlines(
    *, session: Session, case: Case, context: ClockContext, timeline: CaseTimeline | None = None
) -> None:
    """Rewrites the case's stored deadline rows as of today (`timeline`: the case's, if the
    caller has read it)."""
    timeline = timeline or timeline_of(case)
    evaluated = stored_deadlines.evaluate(timeline, context=context, as_of=context.today)
    stored_deadlines.store(session=session, case=case, deadlines=evaluated)


def _check_version(view: CaseView, accepted_versions: set[int] | None, etag: str) -> None:
    check_version(version=view.version, accepted_versions=accepted_versions, etag=etag)


def lost_race(
    *, session: Session, principal: Principal, case_id: uuid.UUID, etag: EtagFor
) -> PreconditionFailed:
    current = get_case(session=session, principal=principal, case_id=case_id)
    return changed_meanwhile(what="case", etag=etag(current.version))


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
    view = get_case(session=session, principal=change.principal, case_id=case_id, for_update=True)
    if needs is not None and not change.principal.at_least(needs):
        raise Forbidden(f"{what} needs the {needs.value} role.")
    _check_version(view, change.accepted_versions, change.etag(view.version))
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
    timeline = stage_change(
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
    answer = change.render(view_of(view.case, view.partnership, view.links, timeline))
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
) -> CaseTimeline:
    """Writes what the caller changed on `view.case` into the open transaction, uncommitted,
    and returns the case's timeline as it leaves it (read once for all that follows).

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
    timeline = timeline_of(case)
    if context is not None:
        store_deadlines(session=session, case=case, context=context, timeline=timeline)
    # Only a case published before or after the change has a row in the public index.
    if view.timeline.published_on is not None or timeline.published_on is not None:
        store_publication(session=session, case=case, timeline=timeline)
    record_history(
        session=session,
        case=case,
        principal=principal,
        action=action,
        event=event,
        from_state=view.state,
        details=details,
    )
    return timeline
