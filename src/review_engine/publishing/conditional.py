"""What every public answer shares: validators (a strong ETag of the exact bytes, and
Last-Modified), `304 Not Modified` on `If-None-Match` or `If-Modified-Since` (RFC 9110
§13.1: If-None-Match wins when both are sent), caching by browsers and proxies for the
configured time, and CORS for the partnership's own website origins."""

from __future__ import annotations

import email.utils
import hashlib
from datetime import datetime

from fastapi import Request, Response

from review_engine.etags import if_none_match_hits
from review_engine.partnerships.models import Partnership

__all__ = ["PUBLIC_HEADERS", "answer"]


def _header(description: str) -> dict[str, object]:
    return {"description": description, "schema": {"type": "string"}}


PUBLIC_HEADERS: dict[str, dict[str, object]] = {
    "ETag": _header("A strong tag of this answer's bytes: send it as If-None-Match."),
    "Last-Modified": _header("When anything this feed lists (or listed) last changed."),
    "Cache-Control": _header("`public, max-age=…`: caches may keep it that long."),
    "Vary": _header("`Origin`: CORS answers differ by the asking site."),
}
CORS_HEADER = {
    "Access-Control-Allow-Origin": _header(
        "The asking site's origin, when it is one of the partnership's website origins."
    )
}


def _unchanged(request: Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return if_none_match_hits(if_none_match, etag)
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored (RFC 9110 §13.1.3)
    if when.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= when


def answer(
    request: Request,
    *,
    content: bytes,
    media_type: str,
    last_modified: datetime,
    partnership: Partnership,
    max_age: int,
    cors: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The 200 with `content`, or a 304 when the client's copy is current."""
    # The tag covers the extra headers too: the embed's CSP follows the website origins.
    digest = hashlib.sha256(content)
    for name, value in sorted((extra_headers or {}).items()):
        digest.update(f"\n{name}: {value}".encode())
    etag = f'"{digest.hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        "Last-Modified": email.utils.format_datetime(last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Origin",
        **(extra_headers or {}),
    }
    origin = request.headers.get("origin")
    if cors and origin is not None and origin in partnership.website_origins:
        headers["Access-Control-Allow-Origin"] = origin
    if _unchanged(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(content=content, media_type=media_type, headers=headers)
