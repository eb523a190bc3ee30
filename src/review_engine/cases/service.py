"""Case operations (workflow events are in `events.py`). Each public function owns its
transaction: it commits everything (the case, its deadline rows, its history entry, the
answer's idempotency record) or nothing.

A case in a partnership the caller may not see is reported as `NotFound`, exactly as if it
did not exist (OWASP API1).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from starlette.responses import Response

from review_engine import workflow
from review_engine.auth.models import Principal
from review_engine.cases.changes import (
    ChangeRequest,
    get_case,
    open_for_change,
    record_history,
    save_change,
    stage_change,
    store_deadlines,
    view_of,
)
from review_engine.cases.models import Case, CaseHistoryEntry, CaseTheme
from review_engine.cases.schemas import SENSITIVE_CASE_FIELDS, CaseCreate, CasePatch
from review_engine.clocks import ClockContext, rapid_review_setting_applies
from review_engine.errors import DuplicateReference, FieldError, UnprocessableContent
from review_engine.idempotency import commit_answer
from review_engine.pagination import decode_cursor, encode_cursor, sequence_number
from review_engine.partnerships.models import Partnership
from review_engine.publishing.index import store_publication
from review_engine.timeline import CaseTimeline


def _partnership_for_create(*, session: Session, principal: Principal, code: str) -> Partnership:
    partnership: Partnership | None = session.execute(
        select(Partnership).where(col(Partnership.code) == code)
    ).scalar_one_or_none()
    if partnership is None or not principal.can_access(code):
        raise UnprocessableContent(
            f"No partnership with code {code!r}.",
            errors=[FieldError(field="body.partnership", message="unknown partnership code")],
        )
    return partnership


def _index_themes(*, session: Session, case: Case) -> None:
    """Rewrites the case's `case_theme` rows from `case.themes` (after the case is flushed)."""
    session.execute(delete(CaseTheme).where(col(CaseTheme.case_id) == case.id))
    session.add_all(CaseTheme(case_id=case.id, theme=theme) for theme in case.themes)


def create_case(*, session: Session, change: ChangeRequest, case_in: CaseCreate) -> Response:
    """Records a new referral in `referred`, with its first deadlines and history entry."""
    principal, context = change.principal, change.context
    partnership = _partnership_for_create(
        session=session, principal=principal, code=case_in.partnership
    )
    if case_in.aware_on > context.today:
        raise UnprocessableContent(
            "aware_on cannot be in the future.",
            errors=[FieldError(field="body.aware_on", message="cannot be in the future")],
        )
    duplicate = session.execute(
        select(col(Case.id)).where(
            col(Case.partnership_id) == partnership.id, col(Case.reference) == case_in.reference
        )
    ).first()
    if duplicate is not None:
        raise _duplicate(case_in.reference)
    # The partnership's setting in force now is kept on the case (see
    # `apply_rapid_review_clock_start` for what a later change does).
    timeline = CaseTimeline.model_validate(
        {
            "aware_on": case_in.aware_on,
            "rapid_review_clock_start": partnership.rapid_review_clock_start,
        }
    )
    case = Case(
        partnership_id=partnership.id,
        reference=case_in.reference,
        incident_type=case_in.incident_type,
        aware_on=case_in.aware_on,
        incident_on=case_in.incident_on,
        looked_after=case_in.looked_after,
        care_leaver=case_in.care_leaver,
        summary=case_in.summary,
        children=[child.model_dump(mode="json") for child in case_in.children],
        themes=list(dict.fromkeys(case_in.themes)),
        timeline=timeline.model_dump(mode="json"),
    )
    session.add(case)
    try:
        session.flush()  # assigns version 1
        _index_themes(session=session, case=case)
        store_deadlines(session=session, case=case, context=context)
        record_history(
            session=session,
            case=case,
            principal=principal,
            action="create",
            from_state=None,
            details={"reference": case.reference, "incident_type": case.incident_type},
        )
        answer = change.render(view_of(case, partnership))
        commit_answer(session=session, answer=answer, claim=change.claim)
    except IntegrityError:
        session.rollback()  # a concurrent create took the reference first
        raise _duplicate(case_in.reference) from None
    return answer


def _duplicate(reference: str) -> DuplicateReference:
    return DuplicateReference(
        f"The partnership already has a case with reference {reference!r}.",
    )


def patch_case(
    *, session: Session, change: ChangeRequest, case_id: uuid.UUID, patch: CasePatch
) -> Response:
    """Corrects descriptive fields; the history records which fields changed, not values."""
    view = open_for_change(session=session, change=change, case_id=case_id)
    case = view.case
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return change.render(view)  # nothing to change: no new version, no history entry
    if "incident_on" in changes and patch.incident_on and patch.incident_on > case.aware_on:
        raise UnprocessableContent(
            "incident_on cannot be after aware_on.",
            errors=[FieldError(field="body.incident_on", message="cannot be after aware_on")],
        )
    for name in ("summary", "children", "looked_after", "care_leaver"):
        if name in changes:
            setattr(case, name, changes[name])
    if "incident_on" in changes:
        case.incident_on = patch.incident_on
    details: dict[str, Any] = {"changed": sorted(changes)}
    if "themes" in changes:
        case.themes = list(dict.fromkeys(patch.themes or []))
        details["themes"] = case.themes  # themes are not sensitive; other values are
    assert not SENSITIVE_CASE_FIELDS & set(details)
    return save_change(
        session=session,
        change=change,
        view=view,
        action="patch",
        details=details,
        moves_deadlines=False,  # descriptive fields move no deadline
        after_flush=(
            (lambda: _index_themes(session=session, case=case)) if "themes" in changes else None
        ),
    )


def apply_rapid_review_clock_start(
    *, session: Session, principal: Principal, partnership: Partnership, context: ClockContext
) -> int:
    """Applies the partnership's (changed) rapid review clock start to its cases whose rapid
    review clock is still running or yet to start; each one changed gets a new version, its
    deadline rows and a history entry. Cases whose rapid review was sent, or which ended,
    keep the setting they had, so a verdict already reached never changes.

    Runs inside the caller's transaction (uncommitted); returns how many cases changed.
    """
    setting = partnership.rapid_review_clock_start
    rows = session.execute(
        select(Case)
        .where(col(Case.partnership_id) == partnership.id)
        .where(col(Case.state).not_in(sorted(workflow.FINAL_STATES)))
        .order_by(col(Case.created_at), col(Case.id))
    ).scalars()
    changed = 0
    for case in rows:
        view = view_of(case, partnership)
        before = view.timeline.rapid_review_clock_start
        if before == setting or not rapid_review_setting_applies(view.timeline):
            continue
        timeline = view.timeline.model_copy(update={"rapid_review_clock_start": setting})
        case.timeline = timeline.model_dump(mode="json")
        stage_change(
            session=session,
            principal=principal,
            view=view,
            action="setting_changed",
            details={"rapid_review_clock_start": {"from": before, "to": setting}},
            current_etag=str,  # nobody sent an If-Match for these cases
            context=context,
        )
        changed += 1
    return changed


def refresh_stored_deadlines(*, session: Session, context: ClockContext) -> int:
    """Recomputes every case's stored deadline rows (and its row in the index of published
    reviews) from its timeline, as of today, and commits. Run after an upgrade that changed
    the clock rules or the calendar: the rows are an index of what the timelines say, so no
    case version changes.
    """
    refreshed = 0
    for case in session.execute(select(Case).order_by(col(Case.id))).scalars():
        store_deadlines(session=session, case=case, context=context)
        store_publication(session=session, case=case)
        refreshed += 1
    session.commit()
    return refreshed


def list_history(
    *,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> tuple[list[CaseHistoryEntry], str | None]:
    """A page of the case's audit trail, oldest first, and the next page's cursor."""
    get_case(session=session, principal=principal, case_id=case_id)
    query = select(CaseHistoryEntry).where(col(CaseHistoryEntry.case_id) == case_id)
    if cursor is not None:
        after = decode_cursor(cursor, sequence_number)
        query = query.where(col(CaseHistoryEntry.version) > after)
    entries = list(
        session.execute(query.order_by(col(CaseHistoryEntry.version)).limit(limit + 1)).scalars()
    )
    next_cursor = encode_cursor([entries[limit - 1].version]) if len(entries) > limit else None
    return entries[:limit], next_cursor
