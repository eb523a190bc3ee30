"""The OpenAPI document as a contract: what FastAPI generates from the routes, completed
with what the routes cannot declare themselves, so that a client generated from it never
meets an undocumented status, header or media type.

Added to every operation, from the rules the app applies everywhere:

- 415 and 413 (a body not sent as JSON, or too large) where there is a body, 400 (invalid
  JSON, a malformed `Idempotency-Key`) on every POST and PATCH; 422 (unknown query
  parameters) and 503 (database busy or unreachable) wherever a key is needed;
- `Idempotency-Key` on every POST, its 409 (still in flight, with `Retry-After`) and the
  `Idempotent-Replayed` header on its answers;
- `If-Match` as required where a change needs it (the server answers 428 without it);
- the headers each answer carries: `ETag` on a versioned resource (a case, an action, a
  contribution), `Location` on a 201, `Dry-Run` on an event's answer, `Retry-After` on
  409 and 503, `WWW-Authenticate` on 401, the current `ETag` on 412, `Content-Disposition`
  on a CSV answer, and `Cache-Control` on every authenticated answer;
- links from every answer that is a versioned resource to the operations on it, carrying
  its id and its ETag as `If-Match`, so clients (and the fuzzer) can chain a read into a
  change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from review_engine.errors import ProblemModel, problem_responses
from review_engine.etags import IF_MATCH_PATTERN
from review_engine.idempotency import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER
from review_engine.request_checks import CACHEABLE_PATHS, needs_no_key

__all__ = ["complete"]

_UNAUTHENTICATED = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True)
class _Versioned:
    """A resource answers link to: the schema of its answers, its path and id parameter,
    and whether it has an ETag (a recommendation has none: it never changes)."""

    schema: str
    path: str
    id_param: str
    has_etag: bool = True


_VERSIONED = (
    _Versioned("#/components/schemas/CaseRead", "/cases/{case_id}", "case_id"),
    _Versioned("#/components/schemas/ActionRead", "/actions/{action_id}", "action_id"),
    _Versioned(
        "#/components/schemas/ContributionRead",
        "/contributions/{contribution_id}",
        "contribution_id",
    ),
    _Versioned(
        "#/components/schemas/SubscriptionRead",
        "/subscriptions/{subscription_id}",
        "subscription_id",
    ),
    _Versioned(
        "#/components/schemas/SubscriptionCreated",
        "/subscriptions/{subscription_id}",
        "subscription_id",
    ),
    _Versioned(
        "#/components/schemas/RecommendationRead",
        "/recommendations/{recommendation_id}",
        "recommendation_id",
        has_etag=False,
    ),
)


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": _header("The resource's entity tag: send it back as If-Match to change it."),
    "Content-Disposition": _header("`attachment` with a file name, for a CSV answer."),
    "Location": _header("Where the new resource can be read.", format="uri-reference"),
    "Retry-After": _header("Seconds to wait before retrying.", pattern="^[0-9]+$"),
    "WWW-Authenticate": _header("The authentication scheme to use: Bearer."),
    "Cache-Control": _header("Never stored by caches: the answer may hold case data."),
    "Dry-Run": _header("`true` when nothing was written (`?dry_run=true`).", enum=["true"]),
    REPLAYED_HEADER: _header(
        "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key.",
        enum=["true"],
    ),
}

_IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes the POST safe to retry: a retry with the same key and body within 24 hours "
        "returns the first response (with `Idempotent-Replayed: true`); a retry while the "
        "first is still running is a 409. 1 to 255 printable ASCII characters."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^[\\x20-\\x7e]{{1,{MAX_KEY_LENGTH}}}$",
    },
}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Completes FastAPI's document in place (see the module docstring); returns it."""
    problem = ProblemModel.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    operations = {resource: _operations_on(schema, resource) for resource in _VERSIONED}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            _complete_operation(path, method, operation, operations)
    return schema


def _complete_operation(
    path: str,
    method: str,
    operation: dict[str, Any],
    operations: dict[_Versioned, list[dict[str, Any]]],
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    authenticated = (
        path not in _UNAUTHENTICATED and path not in CACHEABLE_PATHS and not needs_no_key(path)
    )
    has_body = "requestBody" in operation
    extra: list[int] = []
    if authenticated:
        extra += [401, 422, 503]
    if has_body:
        extra += [400, 413, 415]
    if method == "post":
        extra += [400, 409]
        operation.setdefault("parameters", []).append(dict(_IDEMPOTENCY_PARAMETER))
    for status, response in problem_responses(*sorted(set(extra))).items():
        responses.setdefault(str(status), response)
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            # Optional to the server only so that a missing header is a 428, not a 422.
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        _response_headers(status, response, headers, method, path, authenticated)
        resource = _resource_of(response)
        if resource is not None:
            response["links"] = {
                target["operationId"]: _link(target, resource) for target in operations[resource]
            }
        if not headers:
            del response["headers"]


def _response_headers(
    status: str,
    response: dict[str, Any],
    headers: dict[str, Any],
    method: str,
    path: str,
    authenticated: bool,
) -> None:
    def add(name: str) -> None:
        headers.setdefault(name, _HEADERS[name])

    resource = _resource_of(response)
    if (resource is not None and resource.has_etag) or (
        status == "304" and _is_resource_path(path)
    ):
        add("ETag")
    if "text/csv" in response.get("content", {}):
        add("Content-Disposition")
    if status == "201":
        add("Location")
    if status == "200" and "/events/" in path:
        add("Dry-Run")
    if status in ("409", "503"):
        add("Retry-After")
    if status == "401":
        add("WWW-Authenticate")
    if status == "412" and any(path.startswith(r.path) for r in _VERSIONED):
        add("ETag")
    if authenticated:
        add("Cache-Control")
    if method == "post" and not status.startswith("5"):
        add(REPLAYED_HEADER)


def _resource_of(response: dict[str, Any]) -> _Versioned | None:
    """The versioned resource a response's JSON is, if it is one."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return next((r for r in _VERSIONED if schema.get("$ref") == r.schema), None)


def _is_resource_path(path: str) -> bool:
    return any(path == resource.path for resource in _VERSIONED)


def _operations_on(schema: dict[str, Any], resource: _Versioned) -> list[dict[str, Any]]:
    """Every operation on one resource: its path starts with the resource's path."""
    found = []
    for path, methods in schema.get("paths", {}).items():
        if path == resource.path or path.startswith(resource.path + "/"):
            found.extend(methods.values())
    return found


def _link(target: dict[str, Any], resource: _Versioned) -> dict[str, Any]:
    parameters: dict[str, str] = {f"path.{resource.id_param}": "$response.body#/id"}
    for parameter in target.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            parameters[f"header.{parameter['name']}"] = "$response.header.ETag"
    return {"operationId": target["operationId"], "parameters": parameters}
