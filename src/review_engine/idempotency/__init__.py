"""`Idempotency-Key` for every POST: the middleware, and the records it keeps (see each
module's docstring). A route that changes data completes its record in the transaction
of the change, with `complete_in_transaction` and the `Claim` in `request.state`."""

from typing import Annotated

from fastapi import Depends, Request

from review_engine.idempotency.middleware import (
    CLAIM_STATE,
    IDEMPOTENCY_HEADER,
    MAX_KEY_LENGTH,
    REPLAYED_HEADER,
    IdempotencyMiddleware,
)
from review_engine.idempotency.records import (
    IN_FLIGHT_TIMEOUT,
    RECORD_TTL,
    Claim,
    IdempotencyRecord,
    StoredResponse,
    commit_answer,
    complete_in_transaction,
    purge_expired_records,
)

__all__ = [
    "CLAIM_STATE",
    "IDEMPOTENCY_HEADER",
    "IN_FLIGHT_TIMEOUT",
    "MAX_KEY_LENGTH",
    "RECORD_TTL",
    "REPLAYED_HEADER",
    "Claim",
    "IdempotencyClaimDep",
    "IdempotencyMiddleware",
    "IdempotencyRecord",
    "StoredResponse",
    "commit_answer",
    "complete_in_transaction",
    "purge_expired_records",
]


def claim_of(request: Request) -> Claim | None:
    """The idempotency claim the middleware gave this request, if it sent a key."""
    claim: Claim | None = getattr(request.state, CLAIM_STATE, None)
    return claim


IdempotencyClaimDep = Annotated[Claim | None, Depends(claim_of)]
