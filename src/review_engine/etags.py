"""Entity tags for every versioned resource: cases, actions, contributions (RFC 9110
§8.8.3, §13.1).

A resource's representation depends on its version and on the day its deadline statuses
are evaluated for, so the tag carries both: `"v7-20261126"`. `If-Match` is about concurrent
writers, so it compares only the version: a tag read yesterday still matches today if
nobody has changed the case since. Weak tags never match `If-Match` (strong comparison).
"""

from __future__ import annotations

import re
from datetime import date

from review_engine.errors import FieldError, PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'^"v(\d{1,9})-\d{8}"$')
# RFC 9110 §8.8.3 and §13.1.1: `*`, or a list of entity tags (ours are never weak).
IF_MATCH_PATTERN = r'^(\*|(W/)?"[\x21\x23-\x7e]*"( *, *(W/)?"[\x21\x23-\x7e]*")*)$'


def etag(version: int, as_of: date) -> str:
    return f'"v{version}-{as_of:%Y%m%d}"'


case_etag = etag  # a case's tag


def if_match_description(what: str) -> str:
    """What the `If-Match` header of a change to a `what` (case, action, …) says."""
    return (
        f"The ETag from your last read of the {what} (required: 428 without it, 412 if it "
        "has changed since). `*` accepts any version."
    )


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def parse_if_match(header: str | None, what: str = "case") -> set[int] | None:
    """The versions of the resource (`what`: case, action, …) an `If-Match` header accepts;
    None means any (`*`).

    Missing is 428 (every change needs it, a dry run too); a header naming no version can
    never match: 412.
    """
    if header is None or not header.strip():
        raise PreconditionRequired(
            f"Send If-Match with the ETag from your last read of the {what}, so that two "
            "people cannot overwrite each other's changes.",
            errors=[FieldError(field="header.If-Match", message="required")],
        )
    tags = _tags(header)
    if "*" in tags:
        return None
    versions = {int(match.group(1)) for tag in tags if (match := _TAG.match(tag))}
    if not versions:
        raise PreconditionFailed(
            f"If-Match does not hold an ETag this API gave (weak tags never match): read "
            f"the {what} and send its ETag header unchanged."
        )
    return versions


def if_none_match_hits(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches (weak comparison, RFC 9110 §13.1.2): answer 304."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
