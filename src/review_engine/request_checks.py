"""Checks every request passes before its route runs, and the headers every answer gets.

- A body that is not declared `application/json` is a 415 (not a 422 about a missing
  field), so a client that forgot `Content-Type` is told exactly that.
- A query parameter the route does not define is a 422 naming it: a misspelt filter
  (`?refrence=`) must not silently return everything.
- Every answer that can carry case data is `Cache-Control: no-store` (special-category
  data must not sit in shared or browser caches); only the health probes and the API
  documentation may be cached.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review_engine.auth.dependencies import QUERY_KEY_PARAMS
from review_engine.errors import FieldError, UnprocessableContent, UnsupportedMediaType

__all__ = [
    "CACHEABLE_PATHS",
    "PUBLIC_PREFIX",
    "TOKEN_PATHS",
    "NoStoreMiddleware",
    "api_base_url",
    "check_request",
    "needs_no_key",
]

CACHEABLE_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json"})
PUBLIC_PREFIX = "/public/"
"""The public feed's routes: no key, and their own `Cache-Control` (public, max-age)."""
TOKEN_PATHS = frozenset({"/calendar-feeds/{token}.ics"})
"""Routes whose URL is the credential (a calendar client cannot send a key)."""


def needs_no_key(path: str) -> bool:
    """Whether the route (by its path template) answers without a key."""
    return path.startswith(PUBLIC_PREFIX) or path in TOKEN_PATHS


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def api_base_url(request: Request) -> str:
    """This API's address as clients reach it: `REVIEW_ENGINE_PUBLIC_BASE_URL` when set (a
    proxy may hide it), else the address the request came to; no trailing slash."""
    public: str = request.app.state.settings.public_base_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def check_request(request: Request) -> None:
    """An app-wide dependency: runs before the route's own parameters are validated."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if "authorization" not in request.headers and not needs_no_key(route.path):
        return  # every other route that takes input needs a key: authentication answers first
    declared = {param.alias for param in route.dependant.query_params}
    for dependant in route.dependant.dependencies:
        declared.update(param.alias for param in dependant.query_params)
    # A credential in the query string is refused by authentication (401), not here.
    unknown = sorted(
        name
        for name in set(request.query_params) - declared
        if name.lower() not in QUERY_KEY_PARAMS
    )
    if unknown:
        raise UnprocessableContent(
            "The request has query parameters this route does not define; see `errors`.",
            errors=[
                FieldError(field=f"query.{name}", message="unknown query parameter")
                for name in unknown
            ],
        )
    if request.method in _BODY_METHODS and route.body_field is not None:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`.",
                errors=[
                    FieldError(field="header.Content-Type", message="must be application/json")
                ],
            )


class NoStoreMiddleware:
    """Adds `Cache-Control: no-store` to every answer outside `CACHEABLE_PATHS` that has
    none of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in CACHEABLE_PATHS:
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)
