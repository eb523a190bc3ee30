"""One pagination scheme for every list: `limit` and an opaque `cursor` in; `items` and
`next_cursor` (null on the last page) out.

A cursor is the position of the last item returned (or, where a list bounds the work of
one request, of the last item it checked), in the list's own stable order, base64url-encoded
JSON. A page may therefore hold fewer than `limit` items while more follow: the list ends
only where `next_cursor` is null. Clients pass it back unchanged; anything else is a 422 naming
`query.cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request

from review_engine.errors import FieldError, UnprocessableContent

__all__ = [
    "Cursor",
    "Limit",
    "day_and_id",
    "decode_cursor",
    "encode_cursor",
    "page_size",
    "sequence_number",
    "time_and_id",
]

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


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a cursor position holds text")
    return value


def time_and_id(position: list[Any]) -> tuple[datetime, uuid.UUID]:
    """A position written as `[created_at.isoformat(), str(id)]` (a UTC time, an id)."""
    at, row_id = position
    moment = datetime.fromisoformat(_text(at))
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has a UTC offset")  # the lists always write one
    return moment, uuid.UUID(_text(row_id))


def day_and_id(position: list[Any]) -> tuple[date, uuid.UUID]:
    """A position written as `[due_on.isoformat(), str(id)]` (a day, an id)."""
    day, row_id = position
    return date.fromisoformat(_text(day)), uuid.UUID(_text(row_id))


def sequence_number(position: list[Any]) -> int:
    """A position written as `[id]` (an integer key, e.g. of an audit entry)."""
    (number,) = position
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError("a cursor position holds a whole number")
    if not 0 <= number < 2**63:  # what a database integer key can hold
        raise ValueError("a cursor position out of range")
    return number
