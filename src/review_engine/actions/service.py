"""Action operations: record an action on a recommendation, change it, add progress notes.
Each owns its transaction: the action, its due-date moves, its audit entry and the
answer's idempotency record commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine import audit
from review_engine.actions.models import Action, ActionDueChange, ActionUpdate, Recommendation
from review_engine.actions.recommendations import open_case
from review_engine.actions.rules import (
    MANAGER_STATUSES,
    ActionFacts,
    StatusConflict,
    check_change,
    check_finished,
)
from review_engine.actions.schemas import ActionCreate, ActionPatch, ProgressNoteCreate
from review_engine.actions.views import ActionView, action_views, get_action
from review_engine.agencies.service import agency_named
from review_engine.auth.models import Principal, Role
from review_engine.change_request import ChangeRequest, changed_meanwhile, check_version
from review_engine.db import utcnow
from review_engine.errors import (
    ChangeNotAllowed,
    FieldError,
    Forbidden,
    UnprocessableContent,
)
from review_engine.idempotency import Claim, commit_answer
from review_engine.pagination import decode_cursor, encode_cursor, sequence_number

ActionChange = ChangeRequest[ActionView]

# Fields whose values the audit trail keeps (dates, statuses, names); free text is named only.
_AUDITED_VALUES = frozenset(
    {"status", "rating", "due_on", "completed_on", "assured_on", "cancelled_on", "lead_agency"}
)


def _facts(action: Action) -> ActionFacts:
    return ActionFacts(
        status=action.status,
        rating=action.rating,
        due_on=action.due_on,
        evidence_of_completion=action.evidence_of_completion,
        completed_on=action.completed_on,
        assured_on=action.assured_on,
        assured_by=action.assured_by,
        cancellation_reason=action.cancellation_reason,
        evidence_of_impact=action.evidence_of_impact,
    )


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise UnprocessableContent(
            "The action cannot be saved like this; see `errors`.", errors=errors
        )


def add_action(
    *,
    session: Session,
    change: ActionChange,
    recommendation: Recommendation,
    action_in: ActionCreate,
) -> Response:
    """Records a new `open` action on the recommendation."""
    principal, today = change.principal, change.context.today
    if recommendation.case_id is not None:
        open_case(session=session, principal=principal, case_id=recommendation.case_id)
    agency = agency_named(
        session=session,
        partnership_id=recommendation.partnership_id,
        name=action_in.lead_agency,
        field="body.lead_agency",
    )
    action = Action(
        recommendation_id=recommendation.id,
        partnership_id=recommendation.partnership_id,
        case_id=recommendation.case_id,
        description=action_in.description,
        lead_agency_id=agency.id,
        owner=action_in.owner,
        due_on=action_in.due_on,
        original_due_on=action_in.due_on,
        rating=action_in.rating,
        recorded_on=today,
    )
    _refuse(check_change(before=None, after=_facts(action), due_on_change_reason=None))
    session.add(action)
    session.flush()
    _audit(
        session,
        principal,
        action,
        "create",
        {"status": "open", "due_on": action.due_on.isoformat(), "lead_agency": agency.name},
    )
    answer = change.render(action_views(session=session, actions=[action])[0])
    commit_answer(session=session, answer=answer, claim=change.claim)
    return answer


def patch_action(
    *, session: Session, change: ActionChange, action_id: uuid.UUID, patch: ActionPatch
) -> Response:
    """Applies the fields set in `patch`, if the rules allow the action they leave."""
    principal, today = change.principal, change.context.today
    view = get_action(session=session, principal=principal, action_id=action_id, for_update=True)
    action = view.action
    changes = patch.model_dump(exclude_unset=True)
    status = changes.get("status", action.status)
    if (
        status != action.status
        and status in MANAGER_STATUSES
        and not principal.at_least(Role.MANAGER)
    ):
        raise Forbidden(f"Recording an action as {status} needs the manager role.")
    check_version(
        version=action.version,
        accepted_versions=change.accepted_versions,
        etag=change.etag(action.version),
        what="action",
    )
    if not changes:
        return change.render(view)
    after = _changed_facts(action, changes, today)
    try:
        check_finished(action.status, set(changes))
        _refuse(_date_errors(changes, today, after.status))
        errors = check_change(
            before=_facts(action),
            after=after,
            due_on_change_reason=changes.get("due_on_change_reason"),
        )
    except StatusConflict as exc:
        raise ChangeNotAllowed(str(exc)) from None
    _refuse(errors)
    details = _audit_details(action, view.lead_agency, changes)
    if "lead_agency" in changes:
        agency = agency_named(
            session=session,
            partnership_id=action.partnership_id,
            name=changes["lead_agency"],
            field="body.lead_agency",
        )
        action.lead_agency_id = agency.id
        details["lead_agency"] = {"from": view.lead_agency, "to": agency.name}
    if after.due_on != action.due_on:
        session.add(
            ActionDueChange(
                action_id=action.id,
                changed_on=today,
                from_due_on=action.due_on,
                to_due_on=after.due_on,
                reason=changes["due_on_change_reason"],
                actor=principal.key_name,
            )
        )
    for name in ("description", "owner", "cancelled_on"):
        if name in changes:
            setattr(action, name, changes[name])
    for name, value in vars(after).items():
        setattr(action, name, value)
    if after.status == "cancelled" and action.cancelled_on is None:
        action.cancelled_on = today
    action.updated_at = utcnow()
    try:
        session.flush()  # UPDATE ... WHERE version = <the version read>
    except StaleDataError:
        session.rollback()
        current = get_action(session=session, principal=principal, action_id=action_id)
        raise changed_meanwhile(what="action", etag=change.etag(current.action.version)) from None
    _audit(session, principal, action, "patch", details)
    answer = change.render(action_views(session=session, actions=[action])[0])
    commit_answer(session=session, answer=answer, claim=change.claim)
    return answer


def _changed_facts(action: Action, changes: dict[str, Any], today: date) -> ActionFacts:
    after = replace(
        _facts(action),
        **{name: value for name, value in changes.items() if name in ActionFacts.__annotations__},
    )
    if after.status == "completed" and action.status != "completed":
        after = replace(after, completed_on=changes.get("completed_on", today))
    elif after.status in ("open", "in_progress"):
        after = replace(after, completed_on=None)  # reopened: it is no longer complete
    return after


def _date_errors(changes: dict[str, Any], today: date, status: str) -> list[FieldError]:
    """Dates that record what happened cannot be after today; the date of a status comes
    only with that status."""
    errors = [
        FieldError(field=f"body.{name}", message=f"cannot be after today ({today.isoformat()})")
        for name in ("completed_on", "assured_on", "cancelled_on")
        if name in changes and changes[name] > today
    ]
    for name, statuses in (
        ("completed_on", ("completed", "assured")),
        ("cancelled_on", ("cancelled",)),
    ):
        if name in changes and status not in statuses:
            errors.append(
                FieldError(field=f"body.{name}", message=f"only with status {statuses[0]}")
            )
    return errors


def _audit_details(action: Action, lead_agency: str, changes: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"changed": sorted(changes)}
    for name in sorted(_AUDITED_VALUES & set(changes) - {"lead_agency"}):
        before, after = getattr(action, name), changes[name]
        if before != after:
            details[name] = {
                "from": before.isoformat() if isinstance(before, date) else before,
                "to": after.isoformat() if isinstance(after, date) else after,
            }
    return details


def _audit(
    session: Session, principal: Principal, action: Action, change: str, details: dict[str, Any]
) -> None:
    audit.record(
        session=session,
        principal=principal,
        subject="action",
        subject_id=action.id,
        partnership_id=action.partnership_id,
        version=action.version,
        change=change,
        details=details,
    )


def add_progress_note(
    *,
    session: Session,
    principal: Principal,
    action_id: uuid.UUID,
    note_in: ProgressNoteCreate,
    today: date,
    render: Callable[[ActionUpdate], Response],
    claim: Claim | None,
) -> Response:
    """Adds a dated progress note; the action's version (and ETag) do not change."""
    view = get_action(session=session, principal=principal, action_id=action_id)
    noted_on = note_in.noted_on or today
    if noted_on > today:
        raise UnprocessableContent(
            "A progress note records what happened: noted_on cannot be after today.",
            errors=[FieldError(field="body.noted_on", message="cannot be after today")],
        )
    note = ActionUpdate(
        action_id=action_id, noted_on=noted_on, note=note_in.note, actor=principal.key_name
    )
    session.add(note)
    session.flush()
    _audit(session, principal, view.action, "progress_note", {"noted_on": noted_on.isoformat()})
    answer = render(note)
    commit_answer(session=session, answer=answer, claim=claim)
    return answer


def list_progress_notes(
    *, session: Session, principal: Principal, action_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[ActionUpdate], str | None]:
    """A page of the action's progress notes, in the order they were recorded."""
    get_action(session=session, principal=principal, action_id=action_id)
    query = select(ActionUpdate).where(col(ActionUpdate.action_id) == action_id)
    if cursor is not None:
        after = decode_cursor(cursor, sequence_number)
        query = query.where(col(ActionUpdate.id) > after)
    notes = list(session.exec(query.order_by(col(ActionUpdate.id)).limit(limit + 1)))
    next_cursor = encode_cursor([notes[limit - 1].id]) if len(notes) > limit else None
    return notes[:limit], next_cursor
