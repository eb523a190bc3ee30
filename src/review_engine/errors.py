"""Problem details (RFC 9457): every error the API returns is `application/problem+json`.

Raise a `Problem` subclass anywhere below a route (service, dependency, route); the handlers
installed by `install_problem_handlers` turn it into a response. Each subclass has a fixed
`status`, `title` and `type`; the case-specific text goes in `detail`.

Our exception hierarchy:

* Problem
  + BadRequest (400)
  + Unauthorized (401, always sends `WWW-Authenticate: Bearer`)
  + Forbidden (403)
  + NotFound (404)
  + MethodNotAllowed (405)
  + Conflict (409)
    - TransitionNotAllowed (extension `allowed_events`)
    - DuplicateReference
    - DuplicateCode
    - DuplicateName
    - ChangeNotAllowed (a closed case, a final action status)
    - ArchiveTooEarly (extension `keep_published_until`)
    - IdempotencyKeyInFlight
  + Gone (410)
  + PreconditionFailed (412)
  + PayloadTooLarge (413)
  + UnsupportedMediaType (415)
  + UnprocessableContent (422, extension `errors: [{field, message}]`)
    - IdempotencyKeyReused
  + PreconditionRequired (428)
  + InternalServerError (500)
  + ServiceUnavailable (503)

Never put submitted values in a problem: a rejected field may hold a child's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from review_engine.calendar import CalendarRangeError
from review_engine.field_error import FieldError, field_errors

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ArchiveTooEarly",
    "BadRequest",
    "ChangeNotAllowed",
    "Conflict",
    "DuplicateCode",
    "DuplicateName",
    "DuplicateReference",
    "FieldError",
    "Gone",
    "Forbidden",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "InternalServerError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "ProblemModel",
    "ServiceUnavailable",
    "TransitionNotAllowed",
    "Unauthorized",
    "UnprocessableContent",
    "UnsupportedMediaType",
    "install_problem_handlers",
    "problem_for_status",
    "problem_responses",
    "unanswered",
    "unexpected",
    "validation_field_errors",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Base of every API error; carries the RFC 9457 members and any extension members."""

    status: int = 500
    title: str = "Internal server error"
    type: str = "/problems/internal-server-error"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: Sequence[FieldError | Mapping[str, str]] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        if errors is not None:  # the fields to correct, as `{field, message}` members
            extensions["errors"] = [
                asdict(error) if isinstance(error, FieldError) else dict(error) for error in errors
            ]
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The JSON members of this problem; `instance` is the request path."""
        members: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            members["instance"] = instance
        members.update(self.extensions)
        return members

    def to_response(self, instance: str | None = None) -> JSONResponse:
        """Render as an `application/problem+json` response."""
        return JSONResponse(
            self.body(instance),
            status_code=self.status,
            headers=self.headers,
            media_type=PROBLEM_MEDIA_TYPE,
        )


class BadRequest(Problem):
    status = 400
    title = "Bad request"
    type = "/problems/bad-request"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"
    type = "/problems/unauthorized"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        # RFC 9110 §15.5.2: a 401 MUST carry a challenge.
        challenge = {"WWW-Authenticate": 'Bearer realm="review-engine"'}
        super().__init__(detail, headers={**(headers or {}), **challenge}, **extensions)


class Forbidden(Problem):
    status = 403
    title = "Forbidden"
    type = "/problems/forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"
    type = "/problems/not-found"


class MethodNotAllowed(Problem):
    status = 405
    title = "Method not allowed"
    type = "/problems/method-not-allowed"


class Conflict(Problem):
    status = 409
    title = "Conflict"
    type = "/problems/conflict"


class TransitionNotAllowed(Conflict):
    """The workflow event is not allowed from the case's current state."""

    title = "Transition not allowed"
    type = "/problems/transition-not-allowed"

    def __init__(
        self,
        detail: str,
        *,
        allowed_events: list[str],
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail, headers=headers, allowed_events=allowed_events, **extensions)


class DuplicateReference(Conflict):
    title = "Duplicate reference"
    type = "/problems/duplicate-reference"


class DuplicateCode(Conflict):
    title = "Duplicate code"
    type = "/problems/duplicate-code"


class DuplicateName(Conflict):
    title = "Duplicate name"
    type = "/problems/duplicate-name"


class ChangeNotAllowed(Conflict):
    """The change conflicts with where its subject is: an action assured or cancelled, a
    case closed or withdrawn."""

    title = "Change not allowed"
    type = "/problems/change-not-allowed"


class ArchiveTooEarly(Conflict):
    """A published review archived before the year it must stay published is up."""

    title = "Too early to archive"
    type = "/problems/archive-too-early"

    def __init__(self, detail: str, *, keep_published_until: str) -> None:
        super().__init__(detail, keep_published_until=keep_published_until)


class IdempotencyKeyInFlight(Conflict):
    title = "Idempotency key in use"
    type = "/problems/idempotency-key-in-flight"


class Gone(Problem):
    """Something that existed and was withdrawn for good, e.g. a revoked calendar feed."""

    status = 410
    title = "Gone"
    type = "/problems/gone"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition failed"
    type = "/problems/precondition-failed"


class PayloadTooLarge(Problem):
    status = 413
    title = "Content too large"
    type = "/problems/payload-too-large"


class UnsupportedMediaType(Problem):
    status = 415
    title = "Unsupported media type"
    type = "/problems/unsupported-media-type"


class UnprocessableContent(Problem):
    status = 422
    title = "Unprocessable content"
    type = "/problems/unprocessable-content"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldError | Mapping[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        if errors is not None:
            extensions["errors"] = [
                asdict(error) if isinstance(error, FieldError) else dict(error) for error in errors
            ]
        super().__init__(detail, headers=headers, **extensions)


class IdempotencyKeyReused(UnprocessableContent):
    title = "Idempotency key reused"
    type = "/problems/idempotency-key-reused"


class PreconditionRequired(Problem):
    status = 428
    title = "Precondition required"
    type = "/problems/precondition-required"


class InternalServerError(Problem):
    status = 500
    title = "Internal server error"
    type = "/problems/internal-server-error"


def unexpected() -> InternalServerError:
    """The answer to an exception nothing handled: nothing that could reveal SQL, paths or
    data."""
    return InternalServerError("The server failed to complete the request.")


class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"
    type = "/problems/service-unavailable"


class ProblemModel(BaseModel):
    """An RFC 9457 problem document, as documented in OpenAPI."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["/problems/not-found"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting `statuses` as problem+json."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


_HTTP_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    cls.status: cls
    for cls in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed)
    + (
        Conflict,
        Gone,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        UnprocessableContent,
    )
    + (PreconditionRequired, InternalServerError, ServiceUnavailable)
}

_GENERIC_DETAILS: dict[int, str] = {
    404: "No resource exists at this path.",
    405: "This path does not support that method.",
    413: "The request body is larger than this API accepts.",
}


def problem_for_status(status: int, headers: dict[str, str] | None = None) -> Problem:
    """A problem for a bare HTTP status (e.g. from Starlette's router), with a generic detail."""
    detail = _GENERIC_DETAILS.get(status, HTTPStatus(status).phrase)
    cls = _HTTP_STATUS_PROBLEMS.get(status)
    if cls is not None:
        return cls(detail, headers=headers)
    problem = Problem(detail, headers=headers)
    # An unmapped status keeps its own code; `about:blank` per RFC 9457 §4.2.1.
    problem.status = status
    problem.title = HTTPStatus(status).phrase
    problem.type = "about:blank"
    return problem


def validation_field_errors(exc: RequestValidationError) -> list[FieldError]:
    """Map pydantic errors to `{field, message}` (see `field_errors`); `input` and `ctx` are
    dropped on purpose."""
    return field_errors(exc.errors(), whole="body")


def _invalid_json(error: Mapping[str, Any], document: Any) -> BadRequest:
    """A 400 saying where the JSON breaks: line and column, counted from 1."""
    position = error["loc"][-1] if error.get("loc") else 0
    reason = str(error.get("ctx", {}).get("error", "invalid JSON"))
    text = document if isinstance(document, str) else ""
    if isinstance(position, int) and text:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        where = f" at line {line}, column {column}"
    else:
        where = ""
    return BadRequest(
        f"The body is not valid JSON: {reason}{where}.",
        errors=[FieldError(field="body", message=f"invalid JSON: {reason}{where}")],
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    # Starlette's 405 lists only the first route matching the path; RFC 9110 §15.5.6 wants
    # every method the resource supports, so ask the router about each one.
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def _retryable(exc: OperationalError) -> bool:
    """A busy (locked) SQLite database, or any PostgreSQL operational failure (connection
    lost, lock or statement timeout; PostgreSQL reports SQL mistakes as other errors)."""
    if exc.connection_invalidated:
        return True
    message = str(exc.orig).lower()
    driver = type(exc.orig).__module__
    return "locked" in message or "busy" in message or driver.startswith("psycopg")


def unanswered(exc: Exception) -> Problem:
    """The problem for an exception no handler turned into one: a 503 for a database that
    is busy or unreachable, else the 500 (`unexpected`).

    A lock wait that outlasted busy_timeout (SQLite), a lost connection, or no free
    connection in the pool in time: nothing was committed, and the same request can simply
    be retried. The message is SQL-free. SQLite also reports SQL mistakes as
    OperationalError: those stay 500s.
    """
    if isinstance(exc, PoolTimeout) or (isinstance(exc, OperationalError) and _retryable(exc)):
        return ServiceUnavailable(
            "The database is busy or unreachable; nothing was changed. Retry shortly.",
            headers={"Retry-After": "1"},
        )
    return unexpected()


def install_problem_handlers(app: FastAPI) -> None:
    """Route every exception the app can raise to a problem+json response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.to_response(request.url.path)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # Starlette's own `detail` is just the status phrase; keep its headers.
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        problem = problem_for_status(exc.status_code, headers=headers)
        return problem.to_response(request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        invalid_json = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        problem: Problem
        if invalid_json is not None:
            problem = _invalid_json(invalid_json, exc.body)
        else:
            problem = UnprocessableContent(
                "The request is not valid; see `errors`.", errors=validation_field_errors(exc)
            )
        return problem.to_response(request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Only for what `server_errors.ServerErrors` does not wrap: Starlette re-raises
        # after this handler, so the server still logs the traceback.
        return unexpected().to_response(request.url.path)

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        return unanswered(exc).to_response(request.url.path)

    async def on_calendar_range(request: Request, exc: Exception) -> JSONResponse:
        # A date the request supplied pushed a deadline past the covered years.
        problem = UnprocessableContent(
            "A date in the request leads outside the years the bank holiday calendar "
            "covers; use dates well within them."
        )
        return problem.to_response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(CalendarRangeError, on_calendar_range)
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(PoolTimeout, on_database_unavailable)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
