"""The public feed as Atom 1.0 and RSS 2.0, written by feedgen (which escapes and serialises
through lxml), from the same allow-listed `PublicReview` items as the JSON feed: nothing
reaches a feed that the JSON does not show."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Protocol

from feedgen.feed import FeedGenerator

from review_engine.publishing.schemas import MODE_LABELS, REVIEW_TYPE_LABELS, PublicReviewPage

__all__ = ["ATOM", "RSS", "Writer", "atom", "rss"]

ATOM = "application/atom+xml"
RSS = "application/rss+xml"


class Writer(Protocol):
    """`atom` or `rss`: the page as a feed document."""

    def __call__(
        self,
        page: PublicReviewPage,
        *,
        self_url: str,
        page_url: str,
        next_url: str | None,
        updated: datetime,
    ) -> bytes: ...


# XML 1.0 cannot carry C0 controls (but tab, LF and CR), lone surrogates, U+FFFE or U+FFFF;
# free text (a partnership's name, a title) may hold them. They are dropped, as nothing shows.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _published(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _feed(
    page: PublicReviewPage, *, self_url: str, page_url: str, next_url: str | None, updated: datetime
) -> FeedGenerator:
    partnership = page.partnership
    name = _xml(partnership.name)
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(f"{name}: published reviews")
    feed.description(f"Safeguarding practice reviews published by {name}, newest first.")
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url, rel="alternate", type="text/html")
    if next_url is not None:  # RFC 5005 paging, for Atom (feedgen's RSS would make it <link>)
        feed.link(href=next_url, rel="next")
    feed.language("en-GB")
    feed.updated(updated)
    feed.lastBuildDate(updated)
    for review in reversed(page.items):  # feedgen prepends: add oldest first
        entry = feed.add_entry()
        report_url = _xml(review.report_url)
        entry.id(report_url)
        entry.guid(report_url, permalink=True)
        entry.title(_xml(review.title))
        # One link only: feedgen 1.0.0 writes no `rel` on an Atom entry's links (upstream
        # issue lkiesow/python-feedgen#135), and a link without one is the alternate.
        entry.link(href=report_url, rel="alternate")
        entry.published(_published(review.published_on))
        entry.updated(_published(review.published_on))
        summary = (
            f"{REVIEW_TYPE_LABELS[review.review_type]}: "
            f"{MODE_LABELS[review.publication_mode].lower()}"
        )
        if review.themes:
            summary += f". Themes: {', '.join(review.themes)}"
        if review.learning_summary_url is not None:
            summary += f". Learning summary: {_xml(review.learning_summary_url)}"
        entry.summary(summary + ".")
        entry.description(summary + ".")
        entry.category(
            [{"term": review.review_type, "label": REVIEW_TYPE_LABELS[review.review_type]}]
        )
        for theme in review.themes:
            entry.category(term=theme)
        entry.author({"name": name})
    return feed


def atom(
    page: PublicReviewPage, *, self_url: str, page_url: str, next_url: str | None, updated: datetime
) -> bytes:
    feed = _feed(page, self_url=self_url, page_url=page_url, next_url=next_url, updated=updated)
    document: bytes = feed.atom_str(pretty=False)
    return document


def rss(
    page: PublicReviewPage, *, self_url: str, page_url: str, next_url: str | None, updated: datetime
) -> bytes:
    # No `next` link: RSS has no paging, and feedgen would make it the channel's <link>.
    feed = _feed(page, self_url=self_url, page_url=page_url, next_url=None, updated=updated)
    document: bytes = feed.rss_str(pretty=False)
    return document
