"""`Idempotency-Key` support for every POST, as a pure ASGI middleware.

Follows draft-ietf-httpapi-idempotency-key-header. A client that sends
`Idempotency-Key: <key>` (1-255 printable ASCII characters) on a POST gets, for that key:

* first use: the request runs; its response (status, body, and the content-type,
  location and etag headers) is stored. A route that changes data stores it in the same
  transaction as the change (see `records.complete_in_transaction`); for the rest, the
  middleware stores it once the response is sent. 5xx responses are not stored, so a
  retry runs again;
* a retry with the same method, path and body: the stored response, byte for byte, with
  `Idempotent-Replayed: true`;
* the same key with a different method, path or body: 422 `IdempotencyKeyReused`;
* a retry while the first request is still running: 409 `IdempotencyKeyInFlight`.

Keys are scoped to the caller (SHA-256 of the `Authorization` header), so a guessed key
never returns another client's response. Requests without `Authorization` are not recorded
(they fail authentication anyway). Records expire after `RECORD_TTL` (24 h): after that the
key may be reused for a new request. A claim older than `IN_FLIGHT_TIMEOUT` whose request
never finished is treated as abandoned (its process died) and the key may be retried.
"""

import contextlib
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_engine.auth.service import authenticate
from review_engine.auth.usage import KeyUsage
from review_engine.db import utcnow
from review_engine.errors import (
    BadRequest,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    Problem,
)
from review_engine.idempotency.records import (
    STORED_HEADERS,
    Claim,
    IdempotencyRecord,
    StoredResponse,
    complete_in_transaction,
    delete_stale,
    is_stale,
    release,
    scope_of,
    unseal,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
CLAIM_STATE = "idempotency_claim"  # where the route finds the claim: `request.state`

_VALID_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_STORED_HEADERS = frozenset(name.encode() for name in STORED_HEADERS)


@dataclass(frozen=True)
class _Request:
    scope: str
    key: str
    method: str
    path: str
    body_hash: str


class IdempotencyMiddleware:
    """Records and replays POST responses keyed by `Idempotency-Key` (see module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        keys = headers.getlist(IDEMPOTENCY_HEADER)
        authorization = headers.get("authorization")
        if not keys or authorization is None:
            await self.app(scope, receive, send)
            return
        key = _parse_key(keys)
        if key is None:
            problem = BadRequest(
                f"`{IDEMPOTENCY_HEADER}` must be one value of 1 to {MAX_KEY_LENGTH} "
                "printable ASCII characters."
            )
            await _send_problem(problem, scope, receive, send)
            return

        body = await _read_body(receive)
        if body is None:  # the client went away before sending its body
            return
        query = scope.get("query_string", b"").decode("latin-1")
        request = _Request(
            scope=scope_of(authorization),
            key=key,
            method=scope["method"],
            path=scope["path"] + (f"?{query}" if query else ""),
            body_hash=hashlib.sha256(body).hexdigest(),
        )
        engine: Engine = scope["app"].state.engine
        in_flight = timedelta(seconds=scope["app"].state.settings.idempotency_in_flight_seconds)
        usage = scope["app"].state.key_usage
        outcome = await run_in_threadpool(
            _claim, engine, usage, request, authorization, utcnow(), in_flight
        )
        if isinstance(outcome, Problem):
            await _send_problem(outcome, scope, receive, send)
        elif isinstance(outcome, StoredResponse):
            await _send_replay(outcome, send)
        elif outcome is None:  # the key behind a stored response is revoked: let auth refuse it
            await self.app(scope, _replaying(body, receive), send)
        else:
            claim = Claim(record_id=outcome, authorization=authorization)
            await self._run(claim, body, engine, scope, receive, send)

    async def _run(
        self,
        claim: Claim,
        body: bytes,
        engine: Engine,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        status: int | None = None
        stored_headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def capture_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                stored_headers.extend(
                    [name.decode("latin-1"), value.decode("latin-1")]
                    for name, value in message.get("headers", [])
                    if name.lower() in _STORED_HEADERS
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        scope.setdefault("state", {})[CLAIM_STATE] = claim
        try:
            await self.app(scope, _replaying(body, receive), capture_send)
        except BaseException:
            # Shielded: the row must be released even when the request task is cancelled.
            # If that fails too (database gone), the original error matters more; the row
            # is then treated as abandoned after IN_FLIGHT_TIMEOUT.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await run_in_threadpool(_release, engine, claim)
            raise
        if claim.recorded:  # stored by the route, in the transaction that made its change
            return
        with anyio.CancelScope(shield=True):
            if status is None or status >= 500:
                await run_in_threadpool(_release, engine, claim)
            else:
                answer = StoredResponse(
                    status=status, headers=stored_headers, body=b"".join(chunks)
                )
                await run_in_threadpool(_complete, engine, claim, answer)


def _parse_key(values: list[str]) -> str | None:
    if len(values) != 1:
        return None
    key = values[0].strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # structured-field string form: "abc"
        key = key[1:-1]
    return key if _VALID_KEY.fullmatch(key) else None


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body we already read, then defers to the client."""
    body_sent = False

    async def replay_receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


async def _send_problem(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    await problem.to_response(scope["path"])(scope, receive, send)


async def _send_replay(replay: StoredResponse, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in replay.headers]
    headers.append((b"content-length", str(len(replay.body)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": replay.status, "headers": headers})
    await send({"type": "http.response.body", "body": replay.body})


def _claim(
    engine: Engine,
    usage: KeyUsage,
    request: _Request,
    authorization: str,
    now: datetime,
    in_flight_timeout: timedelta,
) -> uuid.UUID | StoredResponse | Problem | None:
    """Claim the key for this request (returns the new row's id), or say why not.

    None means "run the request unrecorded": its response is stored, but the API key has
    since been revoked, and a revoked key must get a 401, not the stored response.
    """
    with Session(engine) as session:
        for _attempt in range(3):
            record = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.scope == request.scope, IdempotencyRecord.key == request.key
                )
            ).first()
            if record is None:
                record = IdempotencyRecord(
                    scope=request.scope,
                    key=request.key,
                    method=request.method,
                    path=request.path,
                    body_hash=request.body_hash,
                    created_at=now,
                )
                session.add(record)
                try:
                    session.commit()
                except IntegrityError:  # a concurrent request claimed it first; look again
                    session.rollback()
                    continue
                return record.id
            if is_stale(record, now, in_flight_timeout):
                # The condition is re-checked in the DELETE, so two racers cannot both win.
                stale = delete_stale(now, in_flight_timeout)
                session.exec(stale.where(col(IdempotencyRecord.id) == record.id))
                session.commit()
                continue
            if (record.method, record.path, record.body_hash) != (
                request.method,
                request.path,
                request.body_hash,
            ):
                return IdempotencyKeyReused(
                    f"This `{IDEMPOTENCY_HEADER}` was already used for a different request."
                )
            if record.status != "completed" or record.response_status is None:
                return _in_flight()
            scheme, _, token = authorization.partition(" ")
            if (
                scheme.lower() != "bearer"
                or authenticate(session=session, raw_key=token, usage=usage) is None
            ):
                return None
            body = unseal(record, authorization)
            if body is None:  # cannot happen for the same caller; run it rather than guess
                return None
            return StoredResponse(
                status=record.response_status, headers=record.response_headers or [], body=body
            )
    return _in_flight()


def _in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight(
        f"A request with this `{IDEMPOTENCY_HEADER}` is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def _complete(engine: Engine, claim: Claim, answer: StoredResponse) -> None:
    with Session(engine) as session:
        complete_in_transaction(session=session, claim=claim, response=answer)
        session.commit()


def _release(engine: Engine, claim: Claim) -> None:
    with Session(engine) as session:
        release(session=session, claim=claim)
