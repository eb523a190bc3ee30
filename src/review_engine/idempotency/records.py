"""Idempotency records: the table, the sealed responses it keeps, and the claim a request
holds on its key.

Nothing is written before a request runs. A route that changes data stores its answer in
the transaction of the change (`commit_answer`), so the change and its record commit
together or not at all: after any crash a retry finds either the stored answer or no
record (nothing committed), never a second run of a change that was made. That
transaction first takes the key (`hold`): on PostgreSQL an advisory lock on the key for
the rest of the transaction, so a retry while the first runs gets 409 at once; on SQLite
the write lock, which runs changes one at a time, so a retry gets 409 once the first is
done. The record's unique (scope, key) is what finally guarantees one answer per key.

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
from sqlalchemy import JSON, Connection, LargeBinary, Text, UniqueConstraint, event, func, select
from sqlalchemy import delete as sa_delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Field, Session, SQLModel, col
from starlette.responses import Response

from review_engine.db import SQLITE_BEGIN_OPTION, utcnow
from review_engine.errors import IdempotencyKeyInFlight, IdempotencyKeyReused

__all__ = [
    "RECORD_TTL",
    "Claim",
    "IdempotencyRecord",
    "StoredResponse",
    "commit_answer",
    "hold_in_transactions",
    "purge_expired_records",
    "store_answer",
]

# Only headers that describe the stored body; never Set-Cookie or per-response headers.
STORED_HEADERS = frozenset({"content-type", "location", "etag"})

RECORD_TTL = timedelta(hours=24)
_SEAL_INFO = b"review-engine idempotency record v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class IdempotencyRecord(SQLModel, table=True):
    """One (caller, key) pair: the request it was used for and the response it got."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    scope: str = Field(max_length=64)  # SHA-256 hex of the Authorization header value
    key: str = Field(max_length=255)
    method: str = Field(max_length=16)
    path: str = Field(sa_type=Text)
    body_hash: str = Field(max_length=64)
    response_status: int
    response_headers: list[list[str]] = Field(sa_type=JSON)
    response_body: bytes = Field(sa_type=LargeBinary)  # sealed
    created_at: datetime = Field(default_factory=utcnow, index=True)


@dataclass(frozen=True)
class StoredResponse:
    """A response as sent: status, the headers that describe the body, and the body."""

    status: int
    headers: list[list[str]]
    body: bytes

    @classmethod
    def of(cls, answer: Response) -> StoredResponse:
        headers = [[k, v] for k, v in answer.headers.items() if k.lower() in STORED_HEADERS]
        return cls(status=answer.status_code, headers=headers, body=bytes(answer.body))


@dataclass
class Claim:
    """A request sent with an `Idempotency-Key`: what it asks, so that its answer can be
    stored under the key; `recorded` once it is."""

    scope: str  # the caller (see `scope_of`)
    key: str
    method: str
    path: str
    body_hash: str
    authorization: str = field(repr=False)  # the caller's credential: seals the answer
    record_id: uuid.UUID = field(default_factory=uuid.uuid4)
    recorded: bool = False

    @property
    def request(self) -> tuple[str, str, str]:
        """What a record of this key must have been stored for: method, path, body."""
        return (self.method, self.path, self.body_hash)

    def seal(self, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(_sealing_key(self.authorization)).encrypt(
            nonce, body, self.record_id.bytes
        )

    def record(self, response: StoredResponse) -> IdempotencyRecord:
        return IdempotencyRecord(
            id=self.record_id,
            scope=self.scope,
            key=self.key,
            method=self.method,
            path=self.path,
            body_hash=self.body_hash,
            response_status=response.status,
            response_headers=response.headers,
            response_body=self.seal(response.body),
            created_at=utcnow(),
        )

    @property
    def lock_id(self) -> int:
        """The key as a PostgreSQL advisory lock: 64 bits of a hash of (scope, key)."""
        digest = hashlib.sha256(f"{self.scope}\n{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


def _sealing_key(authorization: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
        authorization.encode("latin-1")
    )


def unseal(record: IdempotencyRecord, authorization: str) -> bytes | None:
    """The stored body, or None if this credential cannot open it (it is not the caller's)."""
    sealed = record.response_body
    try:
        return AESGCM(_sealing_key(authorization)).decrypt(
            sealed[:12], sealed[12:], record.id.bytes
        )
    except (InvalidTag, ValueError):
        return None


def scope_of(authorization: str) -> str:
    """Records are looked up by caller: a guessed key never finds another client's answer."""
    return hashlib.sha256(authorization.encode("latin-1")).hexdigest()


def is_expired(created_at: datetime, now: datetime) -> bool:
    """An expired record no longer holds its key: a new request may use it."""
    return now - created_at >= RECORD_TTL


def in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight(
        f"A request with this `{IDEMPOTENCY_HEADER}` is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def hold(*, connection: Connection, claim: Claim) -> None:
    """Takes the claim's key for the rest of `connection`'s transaction, or raises 409.

    A record found here was committed while this request waited (the middleware saw none):
    the first request is done, and a retry gets its answer.
    """
    if connection.dialect.name == "postgresql":
        taken = connection.execute(select(func.pg_try_advisory_xact_lock(claim.lock_id)))
        if not taken.scalar_one():
            raise in_flight()
    record = IdempotencyRecord
    columns = (record.id, record.created_at, record.method, record.path, record.body_hash)
    found = connection.execute(
        select(*map(col, columns)).where(
            col(record.scope) == claim.scope, col(record.key) == claim.key
        )
    ).first()
    if found is None:
        return
    if is_expired(found.created_at, utcnow()):  # the key is free again: its record goes
        connection.execute(sa_delete(record).where(col(record.id) == found.id))
    elif (found.method, found.path, found.body_hash) != claim.request:
        raise reused()
    else:
        raise IdempotencyKeyInFlight(
            f"A request with this `{IDEMPOTENCY_HEADER}` was answered while this one waited; "
            "retry to get its answer.",
            headers={"Retry-After": "1"},
        )


def reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        f"This `{IDEMPOTENCY_HEADER}` was already used for a different request."
    )


def hold_in_transactions(session: Session, claim: Claim) -> None:
    """Makes every write transaction `session` begins take the claim's key first (`hold`),
    the one it is in now included, until the answer is recorded.

    On SQLite a transaction begun DEFERRED only reads (`db.read_apart`): it waits for the
    one that writes.
    """

    def after_begin(_session: Session, _tx: SessionTransaction, connection: Connection) -> None:
        options = connection.get_execution_options()
        if not claim.recorded and options.get(SQLITE_BEGIN_OPTION) != "DEFERRED":
            hold(connection=connection, claim=claim)

    event.listen(session, "after_begin", after_begin)
    if session.in_transaction():
        hold(connection=session.connection(), claim=claim)


def commit_answer(*, session: Session, answer: Response, claim: Claim | None) -> None:
    """Commits the caller's open transaction together with its answer's idempotency record.

    The answer is complete before the commit, so what is stored is what is sent, and the
    change and its record commit together or not at all.
    """
    if claim is not None:
        session.flush()  # the change's own rows first: a fault in them is theirs
        session.add(claim.record(StoredResponse.of(answer)))
        try:
            session.flush()
        except IntegrityError:  # another request's answer was stored under the key first
            session.rollback()
            raise in_flight() from None
        claim.recorded = True
    session.commit()


def store_answer(*, session: Session, claim: Claim, response: StoredResponse) -> None:
    """Stores, after it was sent, an answer that changed nothing (a refusal, say), unless
    another request with the key holds it or has stored its own answer meanwhile."""
    try:
        hold_in_transactions(session, claim)
        session.add(claim.record(response))
        session.commit()
    except (IdempotencyKeyInFlight, IdempotencyKeyReused, IntegrityError):
        session.rollback()
        return
    claim.recorded = True


def purge_expired_records(*, session: Session, now: datetime | None = None) -> int:
    """Delete expired records; returns how many were deleted."""
    result = session.exec(
        sa_delete(IdempotencyRecord).where(
            col(IdempotencyRecord.created_at) <= (now or utcnow()) - RECORD_TTL
        )
    )
    session.commit()
    return result.rowcount
