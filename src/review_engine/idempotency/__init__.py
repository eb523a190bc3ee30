"""`Idempotency-Key` for every POST: the middleware, and the records it keeps (see each
module's docstring). A route that changes data takes `IdempotencyClaimDep` and hands the
claim to `commit_answer`, which stores the answer in the transaction of the change."""

from typing import Annotated

from fastapi import Depends, Request

from review_engine.db import SessionDep
from review_engine.idempotency.middleware import (
    CLAIM_STATE,
    MAX_KEY_LENGTH,
    REPLAYED_HEADER,
    IdempotencyMiddleware,
)
from review_engine.idempotency.records import (
    IDEMPOTENCY_HEADER,
    RECORD_TTL,
    Claim,
    IdempotencyRecord,
    StoredResponse,
    commit_answer,
    hold_in_transactions,
    purge_expired_records,
)

__all__ = [
    "CLAIM_STATE",
    "IDEMPOTENCY_HEADER",
    "MAX_KEY_LENGTH",
    "RECORD_TTL",
    "REPLAYED_HEADER",
    "Claim",
    "IdempotencyClaimDep",
    "IdempotencyMiddleware",
    "IdempotencyRecord",
    "StoredResponse",
    "commit_answer",
    "purge_expired_records",
]


def claim_of(request: Request, session: SessionDep) -> Claim | None:
    """The idempotency claim the middleware gave this request, if it sent a key; the
    request's write transaction takes the key before anything else (`records.hold`)."""
    claim: Claim | None = getattr(request.state, CLAIM_STATE, None)
    if claim is not None:
        hold_in_transactions(session, claim)
    return claim


IdempotencyClaimDep = Annotated[Claim | None, Depends(claim_of)]
