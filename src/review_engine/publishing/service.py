"""Reading the public feed: a partnership's listed reviews, newest first, a page at a time,
from `published_review` alone (the feed index), and when it last changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from review_engine.errors import NotFound
from review_engine.partnerships.models import Partnership
from review_engine.publishing.models import PublishedReview
from review_engine.publishing.schemas import PublicPartnership, PublicReview, PublicReviewPage

__all__ = ["FeedPage", "feed_page", "feed_query", "public_partnership"]


def public_partnership(*, session: Session, code: str) -> Partnership:
    partnership = session.exec(select(Partnership).where(Partnership.code == code)).first()
    if partnership is None:
        raise NotFound(f"No partnership with code {code!r}.")
    return partnership


@dataclass(frozen=True)
class FeedPage:
    page: PublicReviewPage
    next_position: tuple[date, uuid.UUID] | None  # the cursor's position, if more follow
    last_modified: datetime  # the latest change to what the feed shows: reviews, partnership


def _public(row: PublishedReview, code: str) -> PublicReview:
    return PublicReview(
        title=row.title,
        review_type=row.review_type,  # the CHECK holds it to these
        partnership=code,
        published_on=row.published_on,
        publication_mode=row.publication_mode,
        themes=list(row.themes),
        report_url=row.report_url,
        learning_summary_url=row.learning_summary_url,
    )


def feed_query(
    partnership_id: uuid.UUID, after: tuple[date, uuid.UUID] | None
) -> SelectOfScalar[PublishedReview]:
    """A partnership's listed reviews after the position `after`, newest first: read
    through `ix_published_review_feed`."""
    query = (
        select(PublishedReview)
        .where(
            col(PublishedReview.partnership_id) == partnership_id,
            col(PublishedReview.listed).is_(True),
        )
        .order_by(col(PublishedReview.published_on).desc(), col(PublishedReview.public_id).desc())
    )
    if after is not None:
        day, public_id = after
        query = query.where(
            tuple_(col(PublishedReview.published_on), col(PublishedReview.public_id))
            < tuple_(day, public_id)
        )
    return query


def feed_page(
    *,
    session: Session,
    partnership: Partnership,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> FeedPage:
    """Up to `limit` listed reviews after the position `after` (`feed_query`), and when what
    the feed shows last changed."""
    query = feed_query(partnership.id, after).limit(limit + 1)
    rows = list(session.exec(query))
    shown = rows[:limit]
    changed = session.exec(
        select(func.max(PublishedReview.updated_at)).where(
            col(PublishedReview.partnership_id) == partnership.id
        )
    ).one()
    last_modified = max(filter(None, (changed, partnership.updated_at)))
    more = len(rows) > limit
    return FeedPage(
        page=PublicReviewPage(
            partnership=PublicPartnership(code=partnership.code, name=partnership.name),
            items=[_public(row, partnership.code) for row in shown],
            next_cursor=None,  # set by the route, which owns the cursor's encoding
        ),
        next_position=(shown[-1].published_on, shown[-1].public_id) if more else None,
        last_modified=last_modified,
    )
