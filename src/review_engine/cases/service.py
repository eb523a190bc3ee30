"""Case operations. Each public function owns its transaction: it commits everything
(the case, its deadline rows, its history entry) or nothing.

A case in a partnership the caller may not see is reported as `NotFound`, exactly as if it
did not exist (OWASP API1).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from review_engine import workflow
from review_engine.auth.models import Principal, Role
from review_engine.cases.changes import (
    CaseView,
    EtagFor,
    check_version,
    commit_change,
    get_case,
    record_history,
    stage_change,
    store_deadlines,
    view_of,
)
from review_engine.cases.models import Case, CaseHistoryEntry, CaseTheme
from review_engine.cases.schemas import SENSITIVE_CASE_FIELDS, CaseCreate, CasePatch
from review_engine.clocks import ClockContext, rapid_review_setting_applies
from review_engine.errors import (
    DuplicateReference,
    FieldError,
    Forbidden,
    TransitionNotAllowed,
    UnprocessableContent,
)
from review_engine.partnerships.models import Partnership
from review_engine.timeline import CaseTimeline, IncidentFacts

# Events that publish or prepare publication: a manager's decision, not a member's.
PUBLICATION_EVENTS = frozenset(
    {
        "approve_final_report",
        "send_advance_copies",
        "reschedule_publication",
        "publish",
        "withhold_publication",
    }
)


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


def create_case(
    *, session: Session, principal: Principal, case_in: CaseCreate, context: ClockContext
) -> CaseView:
    """Records a new referral in `referred`, with its first deadlines and history entry."""
    partnership = _partnership_for_create(
        session=session, principal=principal, code=case_in.partnership
    )
    if not context.calendar.covers(case_in.aware_on):
        raise UnprocessableContent(
            "aware_on is outside the years the bank holiday calendar covers.",
            errors=[FieldError(field="body.aware_on", message="outside the calendar's years")],
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
        session.commit()
    except IntegrityError:
        session.rollback()  # a concurrent create took the reference first
        raise _duplicate(case_in.reference) from None
    session.refresh(case)
    return view_of(case, partnership)


def _duplicate(reference: str) -> DuplicateReference:
    return DuplicateReference(
        f"The partnership already has a case with reference {reference!r}.",
    )


def fire_event(
    *,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    event: str,
    payload: Mapping[str, Any],
    accepted_versions: set[int] | None,
    current_etag: EtagFor,
    dry_run: bool,
    context: ClockContext,
) -> CaseView:
    """Fires a workflow event; commits the new state, deadlines and history entry together.

    `current_etag(version)` renders the ETag a 412 should carry.
    """
    view = get_case(session=session, principal=principal, case_id=case_id)
    if event in PUBLICATION_EVENTS and not principal.at_least(Role.MANAGER):
        raise Forbidden(f"{event} needs the manager role.")
    check_version(view, accepted_versions, current_etag(view.version))
    try:
        transition = workflow.fire(
            state=view.state,
            timeline=view.timeline,
            event=event,
            payload=payload,
            calendar=context.calendar,
            incident=IncidentFacts.model_validate(
                {
                    "incident_type": view.case.incident_type,
                    "looked_after": view.case.looked_after,
                    "care_leaver": view.case.care_leaver,
                }
            ),
        )
    except workflow.IllegalEvent as exc:
        raise TransitionNotAllowed(
            str(exc), allowed_events=exc.allowed_events, state=view.state
        ) from None
    except workflow.InvalidEventData as exc:
        errors = [
            FieldError(
                field=f"body.{error.field}" if error.field else "body", message=error.message
            )
            for error in exc.errors
        ]
        raise UnprocessableContent(f"Invalid data for {event}.", errors=errors) from None
    future = _future_dates(transition.recorded, context.today)
    if future:
        raise UnprocessableContent(
            f"Dates recorded by {event} cannot be in the future.", errors=future
        )
    if dry_run:
        return CaseView(
            case=view.case,
            partnership=view.partnership,
            state=transition.target,
            timeline=transition.timeline,
            version=view.version,
        )
    view.case.state = transition.target
    view.case.timeline = transition.timeline.model_dump(mode="json")
    return commit_change(
        session=session,
        principal=principal,
        view=view,
        action="event",
        event=event,
        details=transition.recorded,
        current_etag=current_etag,
        context=context,
    )


# Event dates record what happened, so they cannot be after today; only a plan may be.
_FORWARD_LOOKING_FIELDS = frozenset({"planned_publication_on"})


def _future_dates(recorded: Mapping[str, Any], today: date) -> list[FieldError]:
    return [
        FieldError(field=f"body.{name}", message=f"cannot be after today ({today.isoformat()})")
        for name, value in recorded.items()
        if name.endswith("_on")
        and name not in _FORWARD_LOOKING_FIELDS
        and isinstance(value, str)
        and date.fromisoformat(value) > today
    ]


def patch_case(
    *,
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    patch: CasePatch,
    accepted_versions: set[int] | None,
    current_etag: EtagFor,
) -> CaseView:
    """Corrects descriptive fields; the history records which fields changed, not values."""
    view = get_case(session=session, principal=principal, case_id=case_id)
    check_version(view, accepted_versions, current_etag(view.version))
    case = view.case
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return view  # nothing to change: no new version, no history entry
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
    return commit_change(
        session=session,
        principal=principal,
        view=view,
        action="patch",
        details=details,
        current_etag=current_etag,
        context=None,  # descriptive fields move no deadline
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
    """Recomputes every case's stored deadline rows from its timeline, as of today, and
    commits. Run after an upgrade that changed the clock rules or the calendar: the rows
    are an index of what the timelines say, so no case version changes.
    """
    refreshed = 0
    for case in session.execute(select(Case).order_by(col(Case.id))).scalars():
        store_deadlines(session=session, case=case, context=context)
        refreshed += 1
    session.commit()
    return refreshed


def list_history(
    *, session: Session, principal: Principal, case_id: uuid.UUID
) -> list[CaseHistoryEntry]:
    """The case's audit trail, oldest first."""
    get_case(session=session, principal=principal, case_id=case_id)
    return list(
        session.execute(
            select(CaseHistoryEntry)
            .where(col(CaseHistoryEntry.case_id) == case_id)
            .order_by(col(CaseHistoryEntry.version))
        ).scalars()
    )
