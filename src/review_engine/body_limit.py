"""A request body size cap (OWASP API4) that answers with a 413 problem.

Starlette's built-in limiter answers `text/plain`; every error here must be problem+json.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_engine.errors import PayloadTooLarge

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the cap.

    An `HTTPException`, so FastAPI re-raises it from body parsing (instead of turning it into
    a 400) and the problem handler renders it.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimitMiddleware:
    """Rejects bodies over `max_bytes`: up front by Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = PayloadTooLarge(f"The request body must be at most {self.max_bytes} bytes.")
        content_length = Headers(scope=scope).get("content-length")
        if (
            content_length is not None
            and content_length.isdigit()
            and (int(content_length) > self.max_bytes)
        ):
            await problem.to_response(scope["path"])(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Raised outside FastAPI's handlers (e.g. while a middleware buffered the body).
            if response_started:
                raise
            await problem.to_response(scope["path"])(scope, receive, send)
