"""Idempotency records: the table, the sealed responses it keeps, and the claim a request
holds on its key.

A record is claimed (`in_flight`) before the request runs, in its own short transaction,
and completed with the response. A route that changes data completes it inside the same
transaction as the change (`complete_in_transaction`), so after any crash a retry finds
either the stored answer (the change committed) or an unfinished claim (nothing
committed, and the key is free again after `IN_FLIGHT_TIMEOUT`), never a second run of a
change that was made.

Stored responses can hold a child's details (a case's answer does), so the body is sealed
(AES-256-GCM) with a key derived from the caller's own API key, which the server never
stores: the database alone cannot open it, and only the same caller's retry can.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, CheckConstraint, Delete, LargeBinary, Text, UniqueConstraint, or_
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlmodel import Field, Session, SQLModel, col
from starlette.responses import Response

from review_engine.db import one_of, utcnow
from review_engine.errors import IdempotencyKeyInFlight

__all__ = [
    "IN_FLIGHT_TIMEOUT",
    "RECORD_TTL",
    "Claim",
    "IdempotencyRecord",
    "StoredResponse",
    "commit_answer",
    "complete_in_transaction",
    "purge_expired_records",
]

# Only headers that describe the stored body; never Set-Cookie or per-response headers.
STORED_HEADERS = frozenset({"content-type", "location", "etag"})

RECORD_TTL = timedelta(hours=24)
# A claim older than this whose request never finished belongs to a process that died;
# the key may then be retried. Requests finish within seconds (SQLite waits at most 15 s
# for its write lock), so a minute is ample and keeps a crashed request's key blocked
# briefly. `REVIEW_ENGINE_IDEMPOTENCY_IN_FLIGHT_SECONDS` changes it.
IN_FLIGHT_TIMEOUT = timedelta(seconds=60)
_SEAL_INFO = b"review-engine idempotency record v1"
RECORD_STATUSES = ("in_flight", "completed")


class IdempotencyRecord(SQLModel, table=True):
    """One (caller, key) pair: the request it was first used for and, once done, the response."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint(one_of("status", RECORD_STATUSES), name="status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    scope: str = Field(max_length=64)  # SHA-256 hex of the Authorization header value
    key: str = Field(max_length=255)
    method: str = Field(max_length=16)
    path: str = Field(sa_type=Text)
    body_hash: str = Field(max_length=64)
    status: str = Field(default="in_flight", max_length=16)
    response_status: int | None = None
    response_headers: list[list[str]] | None = Field(default=None, sa_type=JSON)
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)  # sealed
    created_at: datetime = Field(default_factory=utcnow, index=True)


@dataclass(frozen=True)
class StoredResponse:
    """A response as sent: status, the headers that describe the body, and the body."""

    status: int
    headers: list[list[str]]
    body: bytes


@dataclass
class Claim:
    """A request's hold on its key while it runs; `recorded` once its answer is stored."""

    record_id: uuid.UUID
    authorization: str = field(repr=False)  # the caller's credential: seals the answer
    recorded: bool = False

    def seal(self, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(_sealing_key(self.authorization)).encrypt(
            nonce, body, self.record_id.bytes
        )


def _sealing_key(authorization: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
        authorization.encode("latin-1")
    )


def unseal(record: IdempotencyRecord, authorization: str) -> bytes | None:
    """The stored body, or None if this credential cannot open it (it is not the caller's)."""
    sealed = record.response_body or b""
    try:
        return AESGCM(_sealing_key(authorization)).decrypt(
            sealed[:12], sealed[12:], record.id.bytes
        )
    except (InvalidTag, ValueError):
        return None


def scope_of(authorization: str) -> str:
    """Records are looked up by caller: a guessed key never finds another client's answer."""
    return hashlib.sha256(authorization.encode("latin-1")).hexdigest()


def complete_in_transaction(*, session: Session, claim: Claim, response: StoredResponse) -> bool:
    """Completes the claimed record with `response` in the caller's open transaction.

    False when the claim is gone (the request outlived `IN_FLIGHT_TIMEOUT` and a retry took
    the key over): the caller must then roll back rather than commit a second run.
    """
    result = session.exec(
        sa_update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == claim.record_id)
        .where(col(IdempotencyRecord.status) == "in_flight")
        .values(
            status="completed",
            response_status=response.status,
            response_headers=response.headers,
            response_body=claim.seal(response.body),
        )
    )
    claim.recorded = result.rowcount == 1
    return claim.recorded


def commit_answer(*, session: Session, answer: Response, claim: Claim | None) -> None:
    """Commits the caller's open transaction together with its answer's idempotency record.

    The answer is complete before the commit, so what is stored is what is sent, and the
    change and its record commit together or not at all.
    """
    if claim is not None:
        stored = StoredResponse(
            status=answer.status_code,
            headers=[[k, v] for k, v in answer.headers.items() if k.lower() in STORED_HEADERS],
            body=bytes(answer.body),
        )
        if not complete_in_transaction(session=session, claim=claim, response=stored):
            session.rollback()
            raise IdempotencyKeyInFlight(
                "This request outlived its hold on its `Idempotency-Key`, which a retry has "
                "taken over; nothing was changed. Read the resource before retrying.",
                headers={"Retry-After": "1"},
            )
    session.commit()


def release(*, session: Session, claim: Claim) -> None:
    """Frees the key of a request that failed (5xx) or never finished."""
    session.exec(
        sa_delete(IdempotencyRecord).where(
            col(IdempotencyRecord.id) == claim.record_id,
            col(IdempotencyRecord.status) == "in_flight",
        )
    )
    session.commit()


def is_stale(
    record: IdempotencyRecord, now: datetime, in_flight_timeout: timedelta = IN_FLIGHT_TIMEOUT
) -> bool:
    if record.status == "in_flight":
        return now - record.created_at >= in_flight_timeout
    return now - record.created_at >= RECORD_TTL


def delete_stale(now: datetime, in_flight_timeout: timedelta = IN_FLIGHT_TIMEOUT) -> Delete:
    return sa_delete(IdempotencyRecord).where(
        or_(
            col(IdempotencyRecord.created_at) <= now - RECORD_TTL,
            (col(IdempotencyRecord.status) == "in_flight")
            & (col(IdempotencyRecord.created_at) <= now - in_flight_timeout),
        )
    )


def purge_expired_records(*, session: Session, now: datetime | None = None) -> int:
    """Delete expired and abandoned records; returns how many were deleted."""
    result = session.exec(delete_stale(now or utcnow()))
    session.commit()
    return result.rowcount
