"""The 500 for an exception nothing else handled, without dropping the connection.

Starlette's outermost middleware answers such an exception with the app's handler and then
re-raises it, so that the server logs it; uvicorn, seeing an exception after a response has
started, closes the connection. A client that keeps connections alive (any HTTP library
does) then finds its next request on it failing, a POST included, with no way to tell
whether it arrived. `ServerErrors`, the outermost of the app's own middlewares, answers the
problem itself, logs the traceback as uvicorn would have, and keeps the connection open.
An exception from one of the app's middlewares (the idempotency lookup, which reads the
database before any route runs) gets the same answers as one from a route.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_engine.errors import unanswered

__all__ = ["ServerErrors"]

log = logging.getLogger(__name__)


class ServerErrors:
    """Answers an unhandled exception with a 500 problem, unless the answer had begun."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if started:  # half an answer is out: only closing the connection ends it
                raise
            problem = unanswered(exc)  # a database busy or away (in a middleware): a 503
            if problem.status == 500:
                # The method and path only: a query string could carry a case's reference.
                log.exception("Unexpected error answering %s %s", scope["method"], scope["path"])
            await problem.to_response(scope["path"])(scope, receive, send)
