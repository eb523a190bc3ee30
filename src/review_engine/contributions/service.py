"""Contribution operations: ask an agency, record what came back, list what is due.
Each that changes data owns its transaction (the contribution, its audit entry and the
answer's idempotency record commit together or not at all)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine import audit
from review_engine.actions.recommendations import open_case
from review_engine.agencies.models import Agency, name_key
from review_engine.agencies.service import agency_named
from review_engine.auth.models import Principal
from review_engine.change_request import ChangeRequest, changed_meanwhile, check_version
from review_engine.contributions.models import Contribution
from review_engine.contributions.rules import default_due_on
from review_engine.contributions.schemas import ContributionCreate, ContributionPatch
from review_engine.db import utcnow
from review_engine.errors import (
    Conflict,
    FieldError,
    NotFound,
    UnprocessableContent,
)
from review_engine.idempotency import commit_answer
from review_engine.pagination import day_and_id, decode_cursor, encode_cursor
from review_engine.partnerships.models import Partnership


@dataclass(frozen=True)
class ContributionView:
    contribution: Contribution
    partnership: str  # its code
    agency: str


ContributionChange = ChangeRequest[ContributionView]


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise UnprocessableContent(
            "The contribution cannot be saved like this; see `errors`.", errors=errors
        )


def _after_today(name: str, value: date | None, today: date) -> list[FieldError]:
    if value is not None and value > today:
        return [FieldError(field=f"body.{name}", message=f"cannot be after today ({today})")]
    return []


def _before_request(name: str, value: date | None, requested_on: date) -> list[FieldError]:
    if value is not None and value < requested_on:
        return [FieldError(field=f"body.{name}", message="cannot be before requested_on")]
    return []


def request_contribution(
    *, session: Session, change: ContributionChange, case_id: uuid.UUID, body: ContributionCreate
) -> Response:
    """Records that the agency was asked; the due date defaults to the partnership's
    setting in working days."""
    principal, context = change.principal, change.context
    case = open_case(session=session, principal=principal, case_id=case_id)
    partnership = case.partnership
    agency = agency_named(
        session=session, partnership_id=partnership.id, name=body.agency, field="body.agency"
    )
    due_on = body.due_on or default_due_on(
        body.requested_on, partnership.contribution_due_working_days, context.calendar
    )
    _refuse(
        _after_today("requested_on", body.requested_on, context.today)
        + _before_request("due_on", due_on, body.requested_on)
    )
    contribution = Contribution(
        case_id=case_id,
        partnership_id=partnership.id,
        agency_id=agency.id,
        stage=body.stage,
        requested_on=body.requested_on,
        due_on=due_on,
        original_due_on=due_on,
    )
    session.add(contribution)
    try:
        session.flush()
        _audit(
            session,
            principal,
            contribution,
            "create",
            {"agency": agency.name, "stage": body.stage, "due_on": due_on.isoformat()},
        )
        view = ContributionView(contribution, partnership.code, agency.name)
        answer = change.render(view)
        commit_answer(session=session, answer=answer, claim=change.claim)
    except IntegrityError:  # the same agency asked for the same stage, concurrently
        session.rollback()
        raise _asked_already(agency.name, body.stage) from None
    return answer


def _asked_already(agency: str, stage: str) -> Conflict:
    return Conflict(
        f"{agency} has already been asked for its {stage} contribution to this case: change "
        "that one (PATCH /contributions/{id})."
    )


def get_contribution(
    *,
    session: Session,
    principal: Principal,
    contribution_id: uuid.UUID,
    for_update: bool = False,
) -> ContributionView:
    query = (
        select(Contribution, Partnership.code, Agency.name)
        .join(Partnership, col(Partnership.id) == col(Contribution.partnership_id))
        .join(Agency, col(Agency.id) == col(Contribution.agency_id))
        .where(col(Contribution.id) == contribution_id)
    )
    if for_update:
        query = query.with_for_update(of=Contribution)
    row = session.exec(query).first()
    if row is None or not principal.can_access(row[1]):
        raise NotFound(f"No contribution with id {contribution_id}.")
    return ContributionView(*row)


def patch_contribution(
    *,
    session: Session,
    change: ContributionChange,
    contribution_id: uuid.UUID,
    patch: ContributionPatch,
) -> Response:
    principal, today = change.principal, change.context.today
    view = get_contribution(
        session=session, principal=principal, contribution_id=contribution_id, for_update=True
    )
    contribution = view.contribution
    check_version(
        version=contribution.version,
        accepted_versions=change.accepted_versions,
        etag=change.etag(contribution.version),
        what="contribution",
    )
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
    if not changes:
        return change.render(view)
    errors: list[FieldError] = []
    for name in ("received_on", "not_coming_on"):
        errors += _after_today(name, changes.get(name), today)
        errors += _before_request(name, changes.get(name), contribution.requested_on)
    errors += _before_request("due_on", changes.get("due_on"), contribution.requested_on)
    if "received_on" in changes and "not_coming_reason" in changes:
        errors.append(FieldError(field="body.not_coming_reason", message="not with received_on"))
    if "not_coming_on" in changes and "not_coming_reason" not in changes:
        errors.append(FieldError(field="body.not_coming_on", message="only with not_coming_reason"))
    if "not_coming_reason" in changes and contribution.received_on is not None:
        errors.append(
            FieldError(field="body.not_coming_reason", message="it has already been received")
        )
    _refuse(errors)
    details: dict[str, Any] = {"changed": sorted(changes)}
    if "received_on" in changes:
        contribution.received_on = changes["received_on"]
        contribution.not_coming_reason = contribution.not_coming_on = None
        details["received_on"] = contribution.received_on.isoformat()
    if "not_coming_reason" in changes:
        contribution.not_coming_reason = changes["not_coming_reason"]
        contribution.not_coming_on = changes.get("not_coming_on", today)
        details["not_coming_on"] = contribution.not_coming_on.isoformat()
    if "due_on" in changes and changes["due_on"] != contribution.due_on:
        details["due_on"] = {
            "from": contribution.due_on.isoformat(),
            "to": changes["due_on"].isoformat(),
        }
        contribution.due_on = changes["due_on"]
    contribution.updated_at = utcnow()
    try:
        session.flush()  # UPDATE ... WHERE version = <the version read>
    except StaleDataError:
        session.rollback()
        current = get_contribution(
            session=session, principal=principal, contribution_id=contribution_id
        )
        tag = change.etag(current.contribution.version)
        raise changed_meanwhile(what="contribution", etag=tag) from None
    _audit(session, principal, contribution, "patch", details)
    answer = change.render(view)
    commit_answer(session=session, answer=answer, claim=change.claim)
    return answer


def _audit(
    session: Session,
    principal: Principal,
    contribution: Contribution,
    change: str,
    details: dict[str, Any],
) -> None:
    audit.record(
        session=session,
        principal=principal,
        subject="contribution",
        subject_id=contribution.id,
        partnership_id=contribution.partnership_id,
        version=contribution.version,
        change=change,
        details=details,
    )


@dataclass(frozen=True)
class ContributionFilters:
    partnership: str | None = None
    agency: str | None = None
    overdue: bool | None = None
    case_id: uuid.UUID | None = None


def _overdue_on(day: date) -> ColumnElement[bool]:
    """Requested by `day`, due before it, and neither received nor known not to be coming
    by then (an exact replay: every one of these dates is recorded)."""
    settled = or_(
        and_(col(Contribution.received_on).is_not(None), col(Contribution.received_on) <= day),
        and_(col(Contribution.not_coming_on).is_not(None), col(Contribution.not_coming_on) <= day),
    )
    return and_(
        col(Contribution.requested_on) <= day, col(Contribution.due_on) < day, not_(settled)
    )


def list_contributions(
    *,
    session: Session,
    principal: Principal,
    filters: ContributionFilters,
    as_of: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[ContributionView], str | None]:
    """A page of the contributions the caller may see, soonest due first (due_on, id)."""
    query = (
        select(Contribution, Partnership.code, Agency.name)
        .join(Partnership, col(Partnership.id) == col(Contribution.partnership_id))
        .join(Agency, col(Agency.id) == col(Contribution.agency_id))
    )
    if principal.partnership_codes is not None:
        query = query.where(col(Partnership.code).in_(sorted(principal.partnership_codes)))
    if filters.partnership is not None:
        query = query.where(col(Partnership.code) == filters.partnership)
    if filters.agency is not None:
        query = query.where(col(Agency.name_key) == name_key(filters.agency))
    if filters.case_id is not None:
        query = query.where(col(Contribution.case_id) == filters.case_id)
    if filters.overdue is not None:
        overdue = _overdue_on(as_of)
        query = query.where(overdue if filters.overdue else not_(overdue))
    if cursor is not None:
        due_on, after_id = decode_cursor(cursor, day_and_id)
        query = query.where(
            or_(
                col(Contribution.due_on) > due_on,
                and_(col(Contribution.due_on) == due_on, col(Contribution.id) > after_id),
            )
        )
    rows = list(
        session.exec(
            query.order_by(col(Contribution.due_on), col(Contribution.id)).limit(limit + 1)
        )
    )
    views = [ContributionView(*row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = views[-1].contribution
        next_cursor = encode_cursor([last.due_on.isoformat(), str(last.id)])
    return views, next_cursor
