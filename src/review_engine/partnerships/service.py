"""Partnership operations. Each function owns its transaction and is keyword-only."""

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine.auth.models import Principal
from review_engine.db import utcnow
from review_engine.errors import DuplicateCode, NotFound
from review_engine.idempotency import Claim, commit_answer
from review_engine.partnerships.models import Partnership
from review_engine.partnerships.schemas import PartnershipCreate, PartnershipUpdate


def get_by_code(*, session: Session, code: str) -> Partnership | None:
    """The partnership with `code`, or None. No access check: callers must do that."""
    return session.exec(select(Partnership).where(Partnership.code == code)).first()


def get_accessible(*, session: Session, principal: Principal, code: str) -> Partnership:
    """The partnership with `code` if `principal` may see it; otherwise 404 (never 403, so
    a scoped key cannot probe which partnerships exist)."""
    partnership = get_by_code(session=session, code=code) if principal.can_access(code) else None
    if partnership is None:
        raise NotFound(f"No partnership with code {code!r}.")
    return partnership


def all_visible(*, session: Session, principal: Principal, codes: list[str]) -> bool:
    """Whether every code names a partnership the key may see (what a key may name in a
    subscription or a calendar feed)."""
    known = set(session.exec(select(Partnership.code).where(col(Partnership.code).in_(codes))))
    return all(code in known and principal.can_access(code) for code in codes)


def create_partnership(*, session: Session, data: PartnershipCreate) -> Partnership:
    """Register a partnership; 409 if the code is taken."""
    partnership = _add(session=session, data=data)
    _commit(session=session, data=data, answer=None, claim=None)
    session.refresh(partnership)
    return partnership


def create_partnership_answering(
    *,
    session: Session,
    data: PartnershipCreate,
    render: Callable[[Partnership], Response],
    claim: Claim | None,
) -> Response:
    """Register a partnership and answer with `render(partnership)`, built before the commit
    that also holds the answer's idempotency record; 409 if the code is taken."""
    answer = render(_add(session=session, data=data))
    _commit(session=session, data=data, answer=answer, claim=claim)
    return answer


def _add(*, session: Session, data: PartnershipCreate) -> Partnership:
    if get_by_code(session=session, code=data.code) is not None:
        raise _duplicate(data)
    partnership = Partnership(**data.model_dump())
    session.add(partnership)
    try:
        session.flush()
    except IntegrityError as exc:  # lost a race with a concurrent create of the same code
        session.rollback()
        raise _duplicate(data) from exc
    return partnership


def _commit(
    *, session: Session, data: PartnershipCreate, answer: Response | None, claim: Claim | None
) -> None:
    try:
        if answer is None:
            session.commit()
        else:
            commit_answer(session=session, answer=answer, claim=claim)
    except IntegrityError as exc:  # lost a race with a concurrent create of the same code
        session.rollback()
        raise _duplicate(data) from exc


def _duplicate(data: PartnershipCreate) -> DuplicateCode:
    return DuplicateCode(f"A partnership with code {data.code!r} already exists.")


def list_partnerships(
    *, session: Session, principal: Principal, after: str | None = None, limit: int | None = None
) -> list[Partnership]:
    """The partnerships `principal` may see, ordered by code, starting after code `after`."""
    query = select(Partnership).order_by(col(Partnership.code))
    if principal.partnership_codes is not None:
        query = query.where(col(Partnership.code).in_(sorted(principal.partnership_codes)))
    if after is not None:
        query = query.where(col(Partnership.code) > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def update_partnership(
    *,
    session: Session,
    partnership: Partnership,
    changes: PartnershipUpdate,
    before_commit: Callable[[Session, Partnership], None] | None = None,
) -> Partnership:
    """Apply the fields set in `changes` (explicit nulls are ignored) and save.

    `before_commit` runs inside the same transaction, so work that depends on the settings
    (recomputing the partnership's deadlines) commits with them or not at all.
    """
    partnership.sqlmodel_update(changes.model_dump(exclude_unset=True, exclude_none=True))
    if changes.alert_fallback_email == "":
        partnership.alert_fallback_email = None  # "" says: nowhere
    if changes.website_origins is not None:
        partnership.website_origins = list(dict.fromkeys(changes.website_origins))
    partnership.updated_at = utcnow()
    session.add(partnership)
    if before_commit is not None:
        session.flush()
        before_commit(session, partnership)
    session.commit()
    session.refresh(partnership)
    return partnership
