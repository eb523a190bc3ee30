"""One pagination scheme for every list: `limit` and an opaque `cursor` in; `items` and
`next_cursor` (null on the last page) out.

A cursor is the position of the last item returned, in the list's own stable order,
base64url-encoded JSON. Clients pass it back unchanged; anything else is a 422 naming
`query.cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request

from review_engine.errors import FieldError, UnprocessableContent

__all__ = ["Cursor", "Limit", "decode_cursor", "encode_cursor", "page_size"]

T = TypeVar("T")

Cursor = Annotated[
    str | None,
    Query(max_length=200, description="The `next_cursor` of the previous page, unchanged."),
]
Limit = Annotated[
    int,
    Query(
        ge=1,
        description=(
            "Page size (default 50), at most the deployment's maximum "
            "(`REVIEW_ENGINE_MAX_PAGE_SIZE`, default 100); larger values are capped."
        ),
    ),
]
DEFAULT_LIMIT = 50


def page_size(request: Request, limit: int) -> int:
    """`limit`, capped at the deployment's maximum page size."""
    maximum: int = request.app.state.settings.max_page_size
    return min(limit, maximum)


def encode_cursor(position: list[Any]) -> str:
    """The cursor for a position (a JSON list: the sort key of the last item returned)."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, read: Callable[[list[Any]], T]) -> T:
    """The position in `cursor`, read by `read` (which raises ValueError/TypeError if the
    position is not one this list writes); a 422 naming `query.cursor` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(position, list):
            raise TypeError("a cursor holds a list")
        return read(position)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise UnprocessableContent(
            "The cursor is not one this API returned.",
            errors=[FieldError(field="query.cursor", message="not a valid cursor")],
        ) from None
