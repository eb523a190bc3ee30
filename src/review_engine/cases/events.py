"""Workflow events on a stored case: the one operation that moves a case through the
review workflow. It owns its transaction (see `changes.save_change`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.responses import Response

from review_engine import workflow
from review_engine.auth.models import Role
from review_engine.cases.changes import CaseView, ChangeRequest, open_for_change, save_change
from review_engine.errors import FieldError, TransitionNotAllowed, UnprocessableContent
from review_engine.timeline import IncidentFacts

# Event dates record what happened, so they cannot be after today; only a plan may be.
_FORWARD_LOOKING_FIELDS = frozenset({"planned_publication_on"})


def fire_event(
    *,
    session: Session,
    change: ChangeRequest,
    case_id: uuid.UUID,
    event: str,
    payload: Mapping[str, Any],
    dry_run: bool,
) -> Response:
    """Fires a workflow event: commits the new state, deadlines and history entry together,
    and answers with the case as the event leaves it. A dry run answers the same and
    writes nothing."""
    manager_only = event in workflow.PUBLICATION_EVENTS
    view = open_for_change(
        session=session,
        change=change,
        case_id=case_id,
        needs=Role.MANAGER if manager_only else None,
        what=event,
    )
    transition = _transition(view, event, payload, change)
    if dry_run:
        return change.render(
            CaseView(
                case=view.case,
                partnership=view.partnership,
                state=transition.target,
                timeline=transition.timeline,
                version=view.version,
                dry_run=True,
            )
        )
    view.case.state = transition.target
    view.case.timeline = transition.timeline.model_dump(mode="json")
    return save_change(
        session=session,
        change=change,
        view=view,
        action="event",
        event=event,
        details=transition.recorded,
        moves_deadlines=True,
    )


def _transition(
    view: CaseView, event: str, payload: Mapping[str, Any], change: ChangeRequest
) -> workflow.Transition:
    context = change.context
    outstanding = [str(action_id) for action_id in view.links.outstanding_actions]
    incident = IncidentFacts.model_validate(
        {
            "incident_type": view.case.incident_type,
            "looked_after": view.case.looked_after,
            "care_leaver": view.case.care_leaver,
        }
    )
    try:
        transition = workflow.fire(
            state=view.state,
            timeline=view.timeline,
            event=event,
            payload=payload,
            calendar=context.calendar,
            incident=incident,
            outstanding_actions=outstanding,
        )
    except workflow.IllegalEvent as exc:
        gate: dict[str, Any] = {}
        if event == "close" and outstanding:
            gate["outstanding_actions"] = outstanding  # the closure gate: what keeps it open
        raise TransitionNotAllowed(
            str(exc), allowed_events=exc.allowed_events, state=view.state, **gate
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
    return transition


def _future_dates(recorded: Mapping[str, Any], today: date) -> list[FieldError]:
    return [
        FieldError(field=f"body.{name}", message=f"cannot be after today ({today.isoformat()})")
        for name, value in recorded.items()
        if name.endswith("_on")
        and name not in _FORWARD_LOOKING_FIELDS
        and isinstance(value, str)
        and date.fromisoformat(value) > today
    ]
