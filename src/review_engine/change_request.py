"""What every change to a versioned resource (a case, an action, a contribution) carries
from its route to its service: who asks, what `If-Match` accepts, the clock context, how
to render the ETag and the answer, and the request's idempotency claim. The service owns
the transaction; the route knows the representation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.responses import Response

from review_engine.auth.models import Principal
from review_engine.clocks import ClockContext
from review_engine.errors import PreconditionFailed
from review_engine.idempotency import Claim

__all__ = ["ChangeRequest", "EtagFor", "changed_meanwhile", "check_version"]

ViewT = TypeVar("ViewT")

EtagFor = Callable[[int], str]
"""Renders the ETag of a version (the router knows the format and the day)."""


@dataclass(frozen=True)
class ChangeRequest(Generic[ViewT]):
    """Who asks for a change, and on what terms."""

    principal: Principal
    accepted_versions: set[int] | None  # what If-Match accepts; None: any (`*`)
    context: ClockContext
    etag: EtagFor  # renders the ETag of a version, for a 412
    render: Callable[[ViewT], Response]  # the answer, from the resource as the change left it
    claim: Claim | None = None  # the request's hold on its Idempotency-Key, if it sent one


def check_version(
    *, version: int, accepted_versions: set[int] | None, etag: str, what: str = "case"
) -> None:
    """A 412 (with the current ETag) unless If-Match accepts `version`; `accepted_versions`
    is None for `If-Match: *` (any current version)."""
    if accepted_versions is not None and version not in accepted_versions:
        raise PreconditionFailed(
            f"The {what} has changed since you read it: read it again and retry.",
            headers={"ETag": etag},
            current_etag=etag,
        )


def changed_meanwhile(*, what: str, etag: str) -> PreconditionFailed:
    """The 412 for a writer that lost the race to another between its read and its UPDATE
    (the version-checked UPDATE matched no row), with the current ETag."""
    return PreconditionFailed(
        f"The {what} changed while your request was being processed: read it again and retry.",
        headers={"ETag": etag},
        current_etag=etag,
    )
