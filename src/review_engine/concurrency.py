"""How many requests one server process works on at once: fewer than its database
connections, so a request that has begun never waits for one.

Every route and dependency here is synchronous, so FastAPI runs each in a thread of
anyio's pool (40 threads), one call at a time: the session's dependency in one, the key's
lookup in another, the endpoint in a third. A request holds its connection from its first
query to its end, across those hops. With more requests in flight than connections, the
threads fill up with requests waiting for a connection while the connections are held by
requests waiting for a thread: nothing moves until the pool's timeout (30 s), and then
everything fails. The load run found exactly that at 200 clients (benchmarks/load.py).

`RequestSlots` queues the requests beyond `REQUESTS_IN_FLIGHT` on the event loop, where a
waiting request holds nothing, and lets each in as another ends. Liveness (`/healthz`)
never queues: it touches no database, and a busy server is still alive.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["POOL_OVERFLOW", "POOL_SIZE", "REQUESTS_IN_FLIGHT", "RequestSlots"]

POOL_SIZE = 10
POOL_OVERFLOW = 10
REQUESTS_IN_FLIGHT = POOL_SIZE + POOL_OVERFLOW - 4
"""Per process: below its 20 connections, which the alert runner, the key-usage writer and
the idempotency records' own transactions also draw on, and below anyio's 40 threads."""

_UNQUEUED = frozenset({"/healthz"})


class RequestSlots:
    """At most `slots` HTTP requests in the app at once; the rest wait their turn."""

    def __init__(self, app: ASGIApp, slots: int = REQUESTS_IN_FLIGHT) -> None:
        self.app = app
        self.slots = slots
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNQUEUED:
            await self.app(scope, receive, send)
            return
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.slots)
        async with self._limiter:
            await self.app(scope, receive, send)
