"""The route matrices' machinery, which knows no domain: the route table generated from
`app.routes`, the permission table and sample requests read from the domains' tables
(tests/matrix/domains/, discovered here), the problem checks, and table snapshots.

"Nothing changed" is checked on a full snapshot of every table except `api_key`, whose
`last_used_at` moves whenever a key authenticates.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from string import Formatter
from typing import Any, TypeVar

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Table, select
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel

from review_engine.app import create_app
from review_engine.settings import Settings
from tests.matrix import domains
from tests.matrix.tables import BadRequests, Call, DomainTable, Edge, Headers, Route

Snapshot = dict[str, list[str]]

PROBLEM = "application/problem+json"
ROLES = ("viewer", "member", "manager", "admin")

# --- the permission table (what the issue specifies; never read from src/) ----------------

# Routes anyone may call. /docs/oauth2-redirect is the static helper page FastAPI serves
# next to /docs (it exists only while docs are enabled).
# The public feed: a partnership's published reviews, open to anyone (allow-listed fields).
PUBLIC_FEED_PATHS = frozenset(
    f"/public/partnerships/{{code}}/reviews{suffix}" for suffix in ("", ".atom", ".rss", "/embed")
)
# Routes whose URL is the credential: a calendar client cannot send a key.
TOKEN_PATHS = frozenset({"/calendar-feeds/{token}.ics"})
NO_KEY_PATHS = PUBLIC_FEED_PATHS | TOKEN_PATHS
PUBLIC_PATHS = frozenset(
    {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json", *NO_KEY_PATHS}
)
# With docs turned off (production, API8) only the probes, the public feed and the calendar
# feeds remain.
PUBLIC_PATHS_WITHOUT_DOCS = frozenset({"/healthz", "/readyz", *NO_KEY_PATHS})

# --- the domains' tables --------------------------------------------------------------------


def _discover() -> dict[str, DomainTable]:
    """The TABLE of every module in tests/matrix/domains/, by module name."""
    found: dict[str, DomainTable] = {}
    for module_info in sorted(pkgutil.iter_modules(domains.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{domains.__name__}.{module_info.name}")
        table = getattr(module, "TABLE", None)
        if not isinstance(table, DomainTable):
            raise TypeError(f"{module.__name__} must define TABLE = DomainTable(...)")
        found[module_info.name] = table
    return found


DOMAINS: dict[str, DomainTable] = _discover()

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


def _merged(what: str, rows: Callable[[DomainTable], Mapping[_Key, _Value]]) -> dict[_Key, _Value]:
    """One domain-wide table from every domain's rows; a row two domains give is an error."""
    merged: dict[_Key, _Value] = {}
    owners: dict[_Key, str] = {}
    for domain, table in DOMAINS.items():
        for key, value in rows(table).items():
            if key in owners:
                raise ValueError(f"{what}: {key!r} is in the tables of {owners[key]} and {domain}")
            merged[key], owners[key] = value, domain
    return merged


WRITE_ROLES: dict[Route, str] = _merged("write_roles", lambda t: t.write_roles)
BODY_SAMPLES: dict[Route, Callable[[int], dict[str, Any]]] = _merged("bodies", lambda t: t.bodies)
PATH_SAMPLES: dict[str, str] = _merged("path_samples", lambda t: t.path_samples)
MISSING_IDS: dict[str, str] = _merged("missing_ids", lambda t: t.missing_ids)
ETAG_PARAMS: frozenset[str] = frozenset().union(*(t.etag_params for t in DOMAINS.values()))
NO_IF_MATCH: frozenset[Route] = frozenset().union(*(t.no_if_match for t in DOMAINS.values()))
OBJECT_READS: dict[str, str] = _merged("object_reads", lambda t: t.object_reads)
SERVER_FIELDS: dict[Route, tuple[str, ...]] = _merged("server_fields", lambda t: t.server_fields)
BAD_QUERY_VALUES: dict[str, list[str]] = _merged("bad_query_values", lambda t: t.bad_query_values)
BAD_REQUESTS: list[BadRequests] = [table.bad_requests for table in DOMAINS.values()]
# The edges that move the shared case on come last (a stable sort keeps the rest in order).
EDGES: dict[str, Edge] = dict(
    sorted(_merged("edges", lambda t: t.edges).items(), key=lambda item: item[1].moves_the_case)
)
PLAUSIBLE_VALUES: dict[str, Any] = _merged("plausible_values", lambda t: t.plausible_values)
CHECKS: list[Callable[[], None]] = [check for t in DOMAINS.values() for check in t.checks]

# --- the route table ----------------------------------------------------------------------

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, as `app.routes` declares it."""

    method: str
    path: str  # the template, e.g. /cases/{case_id}
    has_body: bool
    # Path parameters the router itself types (`{feed_id:uuid}`): a value of another shape
    # matches no route, so it is a 404, not a 422.
    routed_params: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def takes_if_match(self) -> bool:
        if self.method == "GET" or (self.method, self.path) in NO_IF_MATCH:
            return False
        return any(name in ETAG_PARAMS for name in self.params)


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app serves, routes of included routers too.

    `iter_route_contexts` flattens FastAPI's included routers (`app.routes` holds one entry
    per `include_router` call, not the routes themselves).
    """
    found: list[Endpoint] = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        path, methods = route.path, route.methods
        assert path is not None, f"a route with no path: {original!r}"
        routed = frozenset(re.findall(r"\{(\w+):\w+\}", path))
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # `{feed_id:uuid}` as OpenAPI has it
        assert methods, f"a route with no methods: {original!r}"
        api_route = original if isinstance(original, APIRoute) else None
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue  # Starlette's implicit HEAD for GET
            found.append(
                Endpoint(
                    method=method,
                    path=path,
                    has_body=api_route is not None and api_route.body_field is not None,
                    routed_params=routed,
                )
            )
    return found


def required_role(endpoint: Endpoint) -> str | None:
    """The lowest role the permission table allows on `endpoint`; None for public routes."""
    if endpoint.path in PUBLIC_PATHS:
        return None
    if endpoint.method == "GET":
        return "viewer"
    role = WRITE_ROLES.get((endpoint.method, endpoint.path))
    if role is None:
        pytest.fail(
            f"{endpoint} is not in the permission table: add it to the write_roles of its"
            " domain's table (tests/matrix/domains/)"
        )
    return role


def role_allows(role: str, endpoint: Endpoint) -> bool:
    needed = required_role(endpoint)
    return needed is None or ROLES.index(role) >= ROLES.index(needed)


# --- sample requests ----------------------------------------------------------------------

_numbers = itertools.count(1)


def sample_body(endpoint: Endpoint) -> dict[str, Any]:
    make = BODY_SAMPLES.get((endpoint.method, endpoint.path))
    return make(next(_numbers)) if make is not None else {}


def path_values(**values: str) -> dict[str, str]:
    """A value for every path parameter: `values` where given, else the domains' samples."""
    return {**PATH_SAMPLES, **values}


def fill(path: str, values: Mapping[str, str]) -> str:
    """The path template `path` with its parameters replaced by `values`."""
    return _PARAM.sub(lambda match: values[match.group(1)], path)


def objects_for(world: Any, case: dict[str, Any]) -> dict[str, str]:
    """Path values naming `case` and the objects every domain makes for it (an agency, a
    recommendation, an action, a contribution…), made once per case. The case must be
    able to take them (not closed or withdrawn)."""
    made: dict[str, dict[str, str]] = world.objects
    if case["id"] not in made:
        values = {"case_id": case["id"]}
        for table in DOMAINS.values():
            if table.make_objects is not None:
                values.update(table.make_objects(world, case))
        made[case["id"]] = values
    return made[case["id"]]


def object_urls(values: Mapping[str, str]) -> list[str]:
    """Where each object named in `values` is read."""
    return [fill(url, values) for name, url in OBJECT_READS.items() if name in values]


def sample_call(endpoint: Endpoint, *, if_match: str = "*", **values: str) -> Call:
    """A valid request to `endpoint` about the objects named in `values` (e.g. `case_id=`,
    `code=`); other path parameters take their samples (a case that does not exist, HOME)."""
    values = path_values(**values)
    unknown = [name for name in endpoint.params if name not in values]
    if unknown:
        pytest.fail(
            f"{endpoint}: no sample value for path parameter(s) {unknown}: add them to the"
            " path_samples of its domain's table (tests/matrix/domains/)"
        )
    headers = {"If-Match": if_match} if endpoint.takes_if_match else {}
    body = sample_body(endpoint) if endpoint.has_body else None
    return Call(endpoint.method, fill(endpoint.path, values), body=body, headers=headers)


def edge_call(edge: Edge, **values: str) -> Call:
    """`edge` as a request about the objects in `values` (If-Match: * when its URL names an
    object with an ETag)."""
    named = {name for _, name, _, _ in Formatter().parse(edge.url) if name}
    body = edge.body
    if isinstance(body, tuple):
        body = (body[0].encode(), body[1])
    return Call(
        edge.method,
        edge.url.format(**values),
        body=body,
        headers={"If-Match": "*"} if named & ETAG_PARAMS else {},
        params=edge.params,
    )


def send(api: TestClient, call: Call, headers: Headers | None = None) -> httpx2.Response:
    return api.request(
        call.method,
        call.url,
        json=call.body,
        params=call.params or None,
        headers={**call.headers, **(headers or {})},
    )


def plausible(name: str) -> Any:
    """A value a client might really try to set the field `name` to."""
    if name in PLAUSIBLE_VALUES:
        return PLAUSIBLE_VALUES[name]
    if name.endswith("_on") or name == "as_of":
        return "2026-06-02"
    if name.endswith("_at"):
        return "2026-06-02T09:00:00Z"
    return "set by the client"


# --- checks -------------------------------------------------------------------------------

_LEAKS = re.compile(
    r"Traceback|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bDELETE FROM\b|sqlalchemy|psycopg|sqlite3"
    r"|/work/|site-packages|\.py\b"
)


def problem_issues(response: httpx2.Response, status: int | set[int] | None = None) -> list[str]:
    """What is wrong with `response` as an RFC 9457 problem (empty when nothing is)."""
    issues: list[str] = []
    wanted = {status} if isinstance(status, int) else status
    if wanted is not None and response.status_code not in wanted:
        issues.append(f"status {response.status_code}, expected {sorted(wanted)}")
    if response.status_code >= 500:
        issues.append(f"server error {response.status_code}")
    if response.headers.get("content-type") != PROBLEM:
        issues.append(f"content-type {response.headers.get('content-type')!r}")
        return issues
    body = response.json()
    if not isinstance(body, dict):
        return [*issues, "body is not a JSON object"]
    for member in ("type", "title", "detail"):
        if not isinstance(body.get(member), str) or not body[member]:
            issues.append(f"member {member!r} missing or empty")
    if body.get("status") != response.status_code:
        issues.append(f"member status {body.get('status')!r} != {response.status_code}")
    if _LEAKS.search(response.text):
        issues.append(f"leaks internals: {_LEAKS.search(response.text)!r}")
    return issues


def assert_problem(
    response: httpx2.Response, status: int | set[int] | None = None
) -> dict[str, Any]:
    issues = problem_issues(response, status)
    assert not issues, (
        f"{response.request.method} {response.request.url}: {issues}\n{response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {str(error.get("field")) for error in body.get("errors") or []}


_tables_by_database: dict[str, list[Table]] = {}


def snapshot(session: Session) -> Snapshot:
    """Every row of every table (bar `api_key`), as sortable text; ends the read transaction
    so that SQLite's writers are not held up."""
    bind = session.get_bind()
    url = bind.engine.url.render_as_string()
    if url not in _tables_by_database:
        present = set(sa_inspect(bind).get_table_names())
        _tables_by_database[url] = [
            table
            for table in SQLModel.metadata.sorted_tables
            if table.name in present and table.name != "api_key"
        ]
    rows: Snapshot = {
        table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
        for table in _tables_by_database[url]
    }
    session.rollback()
    return rows


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return [
        f"{name}: {len(before.get(name, []))} -> {len(after.get(name, []))} rows"
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


# --- the app with no database ---------------------------------------------------------------


@pytest.fixture(scope="module")
def offline_app() -> Iterator[FastAPI]:
    """The app with no database behind it, for what depends on its code alone (its route
    table and OpenAPI document), so that those are built once, not per database."""
    app = create_app(Settings(_env_file=None, database_url="sqlite://"))
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def documented_paths(offline_app: FastAPI) -> dict[str, Any]:
    paths: dict[str, Any] = offline_app.openapi()["paths"]
    return paths
