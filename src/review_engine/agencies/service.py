"""Agency operations. Each public function that changes data owns its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine import audit
from review_engine.agencies.models import Agency, name_key
from review_engine.auth.models import Principal
from review_engine.errors import DuplicateName, FieldError, NotFound, UnprocessableContent
from review_engine.idempotency import Claim, commit_answer
from review_engine.partnerships.models import Partnership

# How many names a 422 for an unknown agency lists, so the client can correct it.
_NAMES_IN_A_PROBLEM = 30


def add_agency(
    *,
    session: Session,
    principal: Principal,
    partnership: Partnership,
    name: str,
    render: Callable[[Agency], Response],
    claim: Claim | None,
) -> Response:
    """Adds `name` to the partnership's list; 409 if it is there already."""
    key = name_key(name)
    taken = session.exec(
        select(Agency.id).where(
            col(Agency.partnership_id) == partnership.id, col(Agency.name_key) == key
        )
    ).first()
    if taken is not None:
        raise _duplicate(name)
    agency = Agency(partnership_id=partnership.id, name=" ".join(name.split()), name_key=key)
    session.add(agency)
    try:
        session.flush()
        audit.record(
            session=session,
            principal=principal,
            subject="agency",
            subject_id=agency.id,
            partnership_id=partnership.id,
            version=1,
            change="create",
            details={"name": agency.name},  # an agency's name is not personal data
        )
        answer = render(agency)
        commit_answer(session=session, answer=answer, claim=claim)
    except IntegrityError:  # a concurrent request added the same name first
        session.rollback()
        raise _duplicate(name) from None
    return answer


def _duplicate(name: str) -> DuplicateName:
    return DuplicateName(f"The partnership already lists the agency {name!r}.")


def list_agencies(
    *, session: Session, partnership: Partnership, after: str | None, limit: int
) -> list[Agency]:
    """The partnership's agencies by name (case-insensitive), after the name key `after`."""
    query = select(Agency).where(col(Agency.partnership_id) == partnership.id)
    if after is not None:
        query = query.where(col(Agency.name_key) > after)
    return list(session.exec(query.order_by(col(Agency.name_key)).limit(limit)))


def get_agency(*, session: Session, partnership: Partnership, agency_id: uuid.UUID) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or agency.partnership_id != partnership.id:
        raise NotFound(f"No agency with id {agency_id} in this partnership.")
    return agency


def agency_named(*, session: Session, partnership_id: uuid.UUID, name: str, field: str) -> Agency:
    """The partnership's agency called `name`; a 422 naming `field` (and listing the
    agencies it does have) when there is none."""
    agency = session.exec(
        select(Agency).where(
            col(Agency.partnership_id) == partnership_id, col(Agency.name_key) == name_key(name)
        )
    ).first()
    if agency is not None:
        return agency
    known = session.exec(
        select(Agency.name)
        .where(col(Agency.partnership_id) == partnership_id)
        .order_by(col(Agency.name_key))
        .limit(_NAMES_IN_A_PROBLEM)
    ).all()
    listed = ", ".join(known) if known else "none yet: a manager adds them"
    raise UnprocessableContent(
        f"{field.removeprefix('body.')} must be an agency on the partnership's list "
        f"(POST /partnerships/{{code}}/agencies). Listed: {listed}.",
        errors=[FieldError(field=field, message="not an agency on the partnership's list")],
    )
