"""What an action may be, and what each status and rating needs. Part of the pure core: no
HTTP, no SQL, no clock reads. `docs/statutory-basis.md#recommendations-and-actions` says
where these conventions come from (local practice, not statute).

Status moves (assured and cancelled are final; a completed action whose assurance is
refused goes back to work):

    open ⇄ in_progress → completed → assured
      └──────┴─────────────┴──→ cancelled
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from review_engine.field_error import FieldError

__all__ = [
    "EDITABLE_WHEN_FINISHED",
    "FINISHED_STATUSES",
    "MANAGER_STATUSES",
    "OUTSTANDING_STATUSES",
    "RATINGS",
    "RUNNING_STATUSES",
    "SOURCES",
    "STATUSES",
    "ActionFacts",
    "ActionStatus",
    "Rating",
    "RecommendationSource",
    "StatusConflict",
    "check_change",
    "check_finished",
    "overdue_on",
]

ActionStatus = Literal["open", "in_progress", "completed", "assured", "cancelled"]
Rating = Literal["blue", "green", "amber", "red"]
RecommendationSource = Literal[
    "rapid_review", "lcspr", "learning_review", "national_review", "panel_report"
]
STATUSES: tuple[str, ...] = get_args(ActionStatus)
RATINGS: tuple[str, ...] = get_args(Rating)
SOURCES: tuple[str, ...] = get_args(RecommendationSource)

PARTNERSHIP_SOURCES = ("national_review", "panel_report")
"""A recommendation without a case comes from a national review or a Panel report."""
RUNNING_STATUSES = ("open", "in_progress")
"""Work not done: an action in one of these is overdue once its due date has passed."""
OUTSTANDING_STATUSES = (*RUNNING_STATUSES, "completed")
"""Not yet assured or cancelled: while a case has one, it cannot be closed."""
FINISHED_STATUSES = ("assured", "cancelled")
MANAGER_STATUSES = FINISHED_STATUSES
"""Only a manager records assurance or a cancellation."""
_EVIDENCED_STATUSES = ("completed", "assured")

_MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "completed", "cancelled"}),
    "in_progress": frozenset({"open", "completed", "cancelled"}),
    "completed": frozenset({"in_progress", "assured", "cancelled"}),
    "assured": frozenset(),
    "cancelled": frozenset(),
}


@dataclass(frozen=True)
class ActionFacts:
    """An action as a change would leave it (what the rules read)."""

    status: str
    rating: str | None
    due_on: date
    evidence_of_completion: str | None
    completed_on: date | None
    assured_on: date | None
    assured_by: str | None
    cancellation_reason: str | None
    evidence_of_impact: str | None


class StatusConflict(Exception):
    """The status cannot move from where it is to where the change asks (a 409)."""


def check_change(
    *, before: ActionFacts | None, after: ActionFacts, due_on_change_reason: str | None
) -> list[FieldError]:
    """The fields to correct before `after` may be stored (empty: it may). `before` is
    None for a new action. Raises `StatusConflict` for a status move that is not allowed.
    Field names are the API's (`body.<name>`)."""
    errors: list[FieldError] = []

    def need(field: str, message: str) -> None:
        errors.append(FieldError(field=f"body.{field}", message=message))

    moves = _MOVES[before.status] if before is not None else frozenset()
    if before is not None and after.status != before.status and after.status not in moves:
        raise StatusConflict(_refused_move(before.status, after.status))
    evidenced = after.status in _EVIDENCED_STATUSES
    if evidenced and not after.evidence_of_completion:
        need("evidence_of_completion", f"required for a {after.status} action")
    if after.status == "assured":
        if after.assured_on is None:
            need("assured_on", "required to record assurance")
        if not after.assured_by:
            need("assured_by", "required: the subgroup that gave assurance")
        if after.assured_on and after.completed_on and after.assured_on < after.completed_on:
            need("assured_on", "cannot be before the action was completed")
    elif after.assured_on is not None or after.assured_by is not None:
        field = "assured_on" if after.assured_on is not None else "assured_by"
        need(field, "only with status assured")
    if after.status == "cancelled" and not after.cancellation_reason:
        need("cancellation_reason", "required to cancel an action")
    elif after.status != "cancelled" and after.cancellation_reason is not None:
        need("cancellation_reason", "only with status cancelled")
    if after.rating == "blue" and not (evidenced and after.evidence_of_completion):
        need("rating", "blue only when the action is completed with evidence of completion")
    # Impact is added once the action is completed; an action sent back to work (or
    # cancelled) afterwards keeps what was recorded.
    impact_before = before.evidence_of_impact if before is not None else None
    if after.evidence_of_impact not in (None, impact_before) and not evidenced:
        need("evidence_of_impact", "can be added once the action is completed")
    moved = before is not None and after.due_on != before.due_on
    if moved and not due_on_change_reason:
        need("due_on_change_reason", "required to move due_on (the first date is kept)")
    if due_on_change_reason is not None and not moved:
        need("due_on_change_reason", "only with a new due_on")
    return errors


EDITABLE_WHEN_FINISHED = frozenset({"evidence_of_impact", "rating"})
"""What may still change on an assured or cancelled action: impact is often evaluated
later, and the rating may be brought up to date."""


def check_finished(status: str, changed: set[str]) -> None:
    """Raises `StatusConflict` for a change to an assured or cancelled action beyond
    `EDITABLE_WHEN_FINISHED`."""
    frozen = sorted(changed - EDITABLE_WHEN_FINISHED)
    if status in FINISHED_STATUSES and frozen:
        raise StatusConflict(
            f"The action is {status}, which is final: only "
            f"{' and '.join(sorted(EDITABLE_WHEN_FINISHED))} can change (not {', '.join(frozen)})."
        )


def _refused_move(before: str, after: str) -> str:
    if before in FINISHED_STATUSES:
        return f"The action is {before}, which is final: its status cannot change."
    if after == "assured":
        return "Only a completed action can be assured: complete it with evidence first."
    return f"An action cannot move from {before} to {after}."


def overdue_on(
    day: date,
    *,
    due_on: date,
    recorded_on: date,
    completed_on: date | None,
    cancelled_on: date | None,
) -> bool:
    """Whether the action was overdue on `day`: recorded by then, neither completed nor
    cancelled by then, and due (by the date then in force, `due_on`) before it. For today
    this is "open or in progress, and due before today": a running action has no
    completion or cancellation date (reopening clears the completion date)."""
    finished = any(on is not None and on <= day for on in (completed_on, cancelled_on))
    return recorded_on <= day and not finished and due_on < day
