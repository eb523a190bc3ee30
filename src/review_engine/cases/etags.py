"""Entity tags for cases (RFC 9110 §8.8.3, §13.1).

A case's representation depends on its version and on the day its deadline statuses are
evaluated for, so the tag carries both: `"v7-20261126"`. `If-Match` is about concurrent
writers, so it compares only the version: a tag read yesterday still matches today if
nobody has changed the case since. Weak tags never match `If-Match` (strong comparison).
"""

from __future__ import annotations

import re
from datetime import date

from review_engine.errors import FieldError, PreconditionFailed, PreconditionRequired

_CASE_TAG = re.compile(r'^"v(\d{1,9})-\d{8}"$')
# RFC 9110 §8.8.3 and §13.1.1: `*`, or a list of entity tags (ours are never weak).
IF_MATCH_PATTERN = r'^(\*|(W/)?"[\x21\x23-\x7e]*"( *, *(W/)?"[\x21\x23-\x7e]*")*)$'


def case_etag(version: int, as_of: date) -> str:
    return f'"v{version}-{as_of:%Y%m%d}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def parse_if_match(header: str | None) -> set[int] | None:
    """The case versions an `If-Match` header accepts; None means any (`*`).

    Missing is 428 (every change needs it, a dry run too); a header naming no case version
    can never match: 412.
    """
    if header is None or not header.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last read of the case, so that two "
            "people cannot overwrite each other's changes.",
            errors=[FieldError(field="header.If-Match", message="required")],
        )
    tags = _tags(header)
    if "*" in tags:
        return None
    versions = {int(match.group(1)) for tag in tags if (match := _CASE_TAG.match(tag))}
    if not versions:
        raise PreconditionFailed(
            "If-Match does not hold a case ETag (weak tags never match): read the case and "
            "send its ETag header unchanged."
        )
    return versions


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches (weak comparison, RFC 9110 §13.1.2): answer 304."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
