"""Calendar feed operations (keyword-only; each owns its transaction), and the feed's
content: every running deadline of its partnerships, read through the same indexed query
as alert detection (`alerts.running.running_deadlines`)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine.alerts.compose import SUBJECT_PATHS
from review_engine.alerts.running import running_deadlines
from review_engine.auth.models import Principal
from review_engine.calendar_feeds.ics import DeadlineEntry
from review_engine.calendar_feeds.models import CalendarFeed
from review_engine.calendar_feeds.schemas import CalendarFeedCreate
from review_engine.cases.models import Case
from review_engine.db import utcnow
from review_engine.errors import FieldError, Gone, NotFound, UnprocessableContent
from review_engine.idempotency import Claim, commit_answer
from review_engine.partnerships.models import Partnership
from review_engine.partnerships.service import all_visible

__all__ = [
    "create_feed",
    "feed_entries",
    "feed_for_token",
    "get_feed",
    "list_feeds",
    "revoke_feed",
]

TOKEN_PREFIX = "cal_"
_FAR = date(2100, 12, 31)  # every running deadline: the calendar covers up to 2100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _visible(principal: Principal, feed: CalendarFeed) -> bool:
    return all(principal.can_access(code) for code in feed.partnerships)


def create_feed(
    *,
    session: Session,
    principal: Principal,
    body: CalendarFeedCreate,
    render: Callable[[CalendarFeed, str], Response],
    claim: Claim | None,
) -> Response:
    """Makes a feed and answers with `render(feed, token)`; the token is not kept."""
    codes = list(dict.fromkeys(body.partnerships))
    if not all_visible(session=session, principal=principal, codes=codes):
        raise UnprocessableContent(
            "The calendar feed cannot be made like this.",
            errors=[FieldError(field="body.partnerships", message="unknown partnership code")],
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=_hash(token), partnerships=codes, created_by=principal.key_name)
    session.add(feed)
    session.flush()
    answer = render(feed, token)
    commit_answer(session=session, answer=answer, claim=claim)
    return answer


def list_feeds(*, session: Session, principal: Principal) -> list[CalendarFeed]:
    rows = session.exec(
        select(CalendarFeed).order_by(col(CalendarFeed.created_at), col(CalendarFeed.id))
    )
    return [feed for feed in rows if _visible(principal, feed)]


def get_feed(*, session: Session, principal: Principal, feed_id: uuid.UUID) -> CalendarFeed:
    """The feed, if the key may see all its partnerships (404 otherwise)."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or not _visible(principal, feed):
        raise NotFound(f"No calendar feed with id {feed_id}.")
    return feed


def revoke_feed(*, session: Session, principal: Principal, feed_id: uuid.UUID) -> CalendarFeed:
    """Stops the feed's URL for good (again is harmless)."""
    feed = get_feed(session=session, principal=principal, feed_id=feed_id)
    if feed.revoked_at is None:
        feed.revoked_at = utcnow()
        session.add(feed)
        session.commit()
        session.refresh(feed)
    return feed


def feed_for_token(*, session: Session, token: str) -> CalendarFeed:
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token))).first()
    if feed is None:
        raise NotFound("No calendar feed at this address.")
    if feed.revoked_at is not None:
        # 410, so that a calendar drops the subscription rather than retrying it.
        raise Gone("This calendar feed was revoked: ask for a new one.")
    return feed


def feed_entries(
    *, session: Session, feed: CalendarFeed, today: date, base_url: str
) -> list[DeadlineEntry]:
    """Every running deadline of the feed's partnerships, soonest first."""
    partnerships = dict(
        session.exec(
            select(Partnership.id, Partnership.code).where(
                col(Partnership.code).in_(feed.partnerships)
            )
        ).all()
    )
    deadlines = [
        deadline
        for deadline in running_deadlines(session=session, horizon=_FAR, as_of=today)
        if deadline.partnership_id in partnerships
    ]
    case_ids = {deadline.case_id for deadline in deadlines if deadline.case_id is not None}
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(case_ids))).all()
    )
    entries = [
        DeadlineEntry(
            uid=f"{deadline.subject_type}-{deadline.subject_id}-{deadline.clock}@review-engine",
            partnership=partnerships[deadline.partnership_id],
            case_reference=references.get(deadline.case_id) if deadline.case_id else None,
            what=deadline.clock.replace("_", " "),
            due_on=deadline.due_on,
            link=base_url.rstrip("/")
            + SUBJECT_PATHS[deadline.subject_type].format(id=deadline.subject_id),
        )
        for deadline in deadlines
    ]
    return sorted(entries, key=lambda entry: (entry.due_on, entry.uid))
