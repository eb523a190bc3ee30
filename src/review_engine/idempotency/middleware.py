"""`Idempotency-Key` support for every POST, as a pure ASGI middleware.

Follows draft-ietf-httpapi-idempotency-key-header. A client that sends
`Idempotency-Key: <key>` (1-255 printable ASCII characters) on a POST gets, for that key:

* first use: the request runs; its response (status, body, and the content-type,
  location and etag headers) is stored. A route that changes data stores it in the same
  transaction as the change (see `records.commit_answer`); for the rest, the middleware
  stores it once the response is sent. 5xx responses are not stored, so a retry runs again;
* a retry with the same method, path and body: the stored response, byte for byte, with
  `Idempotent-Replayed: true`;
* the same key with a different method, path or body: 422 `IdempotencyKeyReused`;
* a retry while the first request is still running: 409 `IdempotencyKeyInFlight`
  (`records.hold`).

Nothing is written before the request runs: a change makes one write transaction, key
and record included. Keys are scoped to the caller (SHA-256 of the `Authorization`
header), so a guessed key never returns another client's response. Requests without
`Authorization` are not recorded (they fail authentication anyway). Records expire after
`RECORD_TTL` (24 h): after that the key may be reused for a new request.
"""

import hashlib
import re
from datetime import datetime

import anyio
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_engine.auth.service import authenticate
from review_engine.auth.usage import KeyUsage
from review_engine.db import SQLITE_BEGIN_OPTION, utcnow
from review_engine.errors import BadRequest, Problem
from review_engine.idempotency.records import (
    IDEMPOTENCY_HEADER,
    STORED_HEADERS,
    Claim,
    IdempotencyRecord,
    StoredResponse,
    is_expired,
    reused,
    scope_of,
    store_answer,
    unseal,
)

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
CLAIM_STATE = "idempotency_claim"  # where the route finds the claim: `request.state`

_VALID_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")
_STORED_HEADERS = frozenset(name.encode() for name in STORED_HEADERS)


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
        claim = Claim(
            scope=scope_of(authorization),
            key=key,
            method=scope["method"],
            path=scope["path"] + (f"?{query}" if query else ""),
            body_hash=hashlib.sha256(body).hexdigest(),
            authorization=authorization,
        )
        engine: Engine = scope["app"].state.engine
        usage = scope["app"].state.key_usage
        outcome = await run_in_threadpool(_look_up, engine, usage, claim, utcnow())
        if isinstance(outcome, Problem):
            await _send_problem(outcome, scope, receive, send)
        elif isinstance(outcome, StoredResponse):
            await _send_replay(outcome, send)
        elif outcome is None:  # the key behind a stored response is revoked: let auth refuse it
            await self.app(scope, _replaying(body, receive), send)
        else:
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
        # An exception leaves nothing behind: nothing was written for the key.
        await self.app(scope, _replaying(body, receive), capture_send)
        if claim.recorded or status is None or status >= 500:
            return  # stored with the change, or a failure a retry should run again
        answer = StoredResponse(status=status, headers=stored_headers, body=b"".join(chunks))
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_store, engine, claim, answer)


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


def _look_up(
    engine: Engine, usage: KeyUsage, claim: Claim, now: datetime
) -> Claim | StoredResponse | Problem | None:
    """What to do with a keyed request, from its key's record; reads only.

    The claim means "run it, and store its answer"; None means "run it unrecorded": its
    response is stored, but the API key has since been revoked, and a revoked key must get
    a 401, not the stored response.
    """
    reading = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    with Session(reading) as session:
        record = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.scope == claim.scope, IdempotencyRecord.key == claim.key
            )
        ).first()
        if record is None or is_expired(record.created_at, now):
            return claim
        if (record.method, record.path, record.body_hash) != claim.request:
            return reused()
        scheme, _, token = claim.authorization.partition(" ")
        if (
            scheme.lower() != "bearer"
            or authenticate(session=session, raw_key=token, usage=usage) is None
        ):
            return None
        body = unseal(record, claim.authorization)
        if body is None:  # cannot happen for the same caller; run it rather than guess
            return None
        return StoredResponse(
            status=record.response_status, headers=record.response_headers, body=body
        )


def _store(engine: Engine, claim: Claim, answer: StoredResponse) -> None:
    with Session(engine) as session:
        store_answer(session=session, claim=claim, response=answer)
