"""The public routes: a partnership's published reviews as JSON, Atom, RSS and an
embeddable HTML list. No key: the only routes besides the health probes that need none,
so each reads only the feed index (`published_review`) and answers only allow-listed
fields (`schemas.py`)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Header, Path, Query, Request, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from review_engine.db import SessionDep
from review_engine.errors import FieldError, UnprocessableContent, problem_responses
from review_engine.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    page_size,
)
from review_engine.partnerships.models import CODE_PATTERN, Partnership
from review_engine.publishing import feeds
from review_engine.publishing.conditional import CORS_HEADER, PUBLIC_HEADERS, answer
from review_engine.publishing.schemas import MODE_LABELS, REVIEW_TYPE_LABELS, PublicReviewPage
from review_engine.publishing.service import FeedPage, feed_page, public_partnership
from review_engine.request_checks import api_base_url

router = APIRouter(prefix="/public", tags=["public"])

Code = Annotated[str, Path(pattern=CODE_PATTERN, description="The partnership's code")]
IfNoneMatch = Annotated[
    str | None, Header(description="An ETag you hold: 304 if the feed is unchanged.")
]
IfModifiedSince = Annotated[
    str | None,
    Header(description="An HTTP date: 304 if nothing changed since (If-None-Match wins)."),
]

_TEMPLATES = Environment(
    loader=FileSystemLoader(FilePath(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True),
)


def _day_and_public_id(position: list[Any]) -> tuple[date, uuid.UUID]:
    day, public_id = position
    if not isinstance(day, str) or not isinstance(public_id, str):
        raise TypeError("a feed cursor holds a day and an id")
    return date.fromisoformat(day), uuid.UUID(public_id)


def _page(
    request: Request, session: SessionDep, code: str, cursor: str | None, limit: int
) -> tuple[Partnership, FeedPage, str | None]:
    partnership = public_partnership(session=session, code=code)
    after = decode_cursor(cursor, _day_and_public_id) if cursor is not None else None
    found = feed_page(
        session=session, partnership=partnership, after=after, limit=page_size(request, limit)
    )
    next_cursor = None
    if found.next_position is not None:
        day, public_id = found.next_position
        next_cursor = encode_cursor([day.isoformat(), str(public_id)])
    return partnership, found, next_cursor


def _url(request: Request, path: str | None = None, **query: str | int | None) -> str:
    """An absolute URL of this API for `path` (default: this request's), with `query`."""
    given = {name: value for name, value in query.items() if value is not None}
    url = api_base_url(request) + (path or request.url.path)
    return f"{url}?{urlencode(given)}" if given else url


def _max_age(request: Request) -> int:
    seconds: int = request.app.state.settings.public_feed_max_age
    return seconds


_COMMON: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified", "headers": PUBLIC_HEADERS}
}
_ERRORS = problem_responses(404, 422, 503)


@router.get(
    "/partnerships/{code}/reviews",
    response_model=PublicReviewPage,
    summary="A partnership's published reviews, newest first (public: no key)",
    responses={200: {"headers": {**PUBLIC_HEADERS, **CORS_HEADER}}, **_COMMON, **_ERRORS},
)
def public_reviews(
    request: Request,
    code: Code,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    partnership, found, next_cursor = _page(request, session, code, cursor, limit)
    page = found.page.model_copy(update={"next_cursor": next_cursor})
    return answer(
        request,
        content=page.model_dump_json().encode(),
        media_type="application/json",
        last_modified=found.last_modified,
        partnership=partnership,
        max_age=_max_age(request),
        cors=True,
    )


def _feed(
    request: Request,
    session: SessionDep,
    code: str,
    cursor: str | None,
    limit: int,
    *,
    write: feeds.Writer,
    media_type: str,
) -> Response:
    partnership, found, next_cursor = _page(request, session, code, cursor, limit)
    size = limit if limit != DEFAULT_LIMIT else None
    self_url = _url(request, cursor=cursor, limit=size)
    next_url = _url(request, cursor=next_cursor, limit=size) if next_cursor else None
    page_url = _url(request, f"{router.prefix}/partnerships/{partnership.code}/reviews/embed")
    document = write(
        found.page,
        self_url=self_url,
        page_url=page_url,
        next_url=next_url,
        updated=found.last_modified,
    )
    return answer(
        request,
        content=document,
        media_type=media_type,
        last_modified=found.last_modified,
        partnership=partnership,
        max_age=_max_age(request),
    )


def _document(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "headers": PUBLIC_HEADERS,
            "content": {media_type: {"schema": {"type": "string"}}},
        },
        **_COMMON,
        **_ERRORS,
    }


@router.get(
    "/partnerships/{code}/reviews.atom",
    summary="The published reviews as an Atom 1.0 feed (public: no key)",
    response_class=Response,
    responses=_document(feeds.ATOM, "An Atom feed, newest first; `next` links the next page."),
)
def public_reviews_atom(
    request: Request,
    code: Code,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    return _feed(request, session, code, cursor, limit, write=feeds.atom, media_type=feeds.ATOM)


@router.get(
    "/partnerships/{code}/reviews.rss",
    summary="The published reviews as an RSS 2.0 feed, e.g. for WordPress (public: no key)",
    response_class=Response,
    responses=_document(feeds.RSS, "An RSS 2.0 feed, newest first."),
)
def public_reviews_rss(
    request: Request,
    code: Code,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    return _feed(request, session, code, cursor, limit, write=feeds.rss, media_type=feeds.RSS)


def _stylesheet(given: str | None, partnership: Partnership) -> str | None:
    """The stylesheet to link: only from one of the partnership's own website origins."""
    if given is None:
        return None
    parts = urlsplit(given)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if parts.scheme not in ("https", "http") or origin not in partnership.website_origins:
        raise UnprocessableContent(
            "The stylesheet must be on one of the partnership's website origins.",
            errors=[
                FieldError(
                    field="query.stylesheet",
                    message="not on one of the partnership's website_origins",
                )
            ],
        )
    return given


def _policy(partnership: Partnership, stylesheet: str | None) -> str:
    """No script, nothing fetched but the stylesheet; framed only by the partnership's
    own website."""
    styles = "'unsafe-inline'"
    if stylesheet is not None:
        parts = urlsplit(stylesheet)
        styles += f" {parts.scheme}://{parts.netloc}"
    ancestors = " ".join(partnership.website_origins) or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; frame-ancestors {ancestors}; "
        "base-uri 'none'; form-action 'none'"
    )


@router.get(
    "/partnerships/{code}/reviews/embed",
    summary="The published reviews as an accessible HTML list to put in an iframe (public)",
    response_class=Response,
    responses={
        200: {
            "description": (
                "An HTML page: a heading, then each review as a list item with a link to its "
                "report. No script. Framed only by the partnership's website origins."
            ),
            "headers": {
                **PUBLIC_HEADERS,
                "Content-Security-Policy": {
                    "description": "No script; framed only by the partnership's own site.",
                    "schema": {"type": "string"},
                },
            },
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        **_COMMON,
        **_ERRORS,
    },
)
def public_reviews_embed(
    request: Request,
    code: Code,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    stylesheet: Annotated[
        str | None,
        Query(
            max_length=2000,
            description=(
                "A stylesheet to add, e.g. your site's: it must be on one of the "
                "partnership's website origins (422 otherwise)."
            ),
        ),
    ] = None,
    if_none_match: IfNoneMatch = None,
    if_modified_since: IfModifiedSince = None,
) -> Response:
    partnership, found, next_cursor = _page(request, session, code, cursor, limit)
    sheet = _stylesheet(stylesheet, partnership)
    next_url = None
    if next_cursor is not None:
        next_url = _url(
            request,
            cursor=next_cursor,
            limit=limit if limit != DEFAULT_LIMIT else None,
            stylesheet=sheet,
        )
    html = _TEMPLATES.get_template("embed.html").render(
        partnership=found.page.partnership,
        page=found.page,
        stylesheet=sheet,
        next_url=next_url,
        types=REVIEW_TYPE_LABELS,
        modes=MODE_LABELS,
    )
    return answer(
        request,
        content=html.encode(),
        media_type="text/html; charset=utf-8",
        last_modified=found.last_modified,
        partnership=partnership,
        max_age=_max_age(request),
        extra_headers={
            "Content-Security-Policy": _policy(partnership, sheet),
            "X-Content-Type-Options": "nosniff",
        },
    )
