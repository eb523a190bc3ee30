"""The shapes a domain's route-matrix table is written in (see tests/matrix/domains/).

This module knows no domain and imports nothing of the matrix, so that the domain tables
and the machinery (`core.py`, which reads them) can both import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Headers = dict[str, str]
# A route, as (method, path template), e.g. ("PATCH", "/cases/{case_id}").
Route = tuple[str, str]
# One step of a journey through the API: (event, payload, state after).
Step = tuple[str, dict[str, Any], str]


@dataclass(frozen=True)
class Call:
    """A concrete request: method, URL, and what to send."""

    method: str
    url: str
    body: Any = None
    headers: Headers = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        query = "&".join(f"{name}={value}" for name, value in self.params.items())
        return f"{self.method} {self.url}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Edge:
    """An edge value a validator could miss: it must be refused as a problem or served,
    never a 5xx."""

    method: str
    url: str  # may hold {case_id}: the case the test made
    body: Any = None  # JSON, or (raw text, content type)
    params: dict[str, str] = field(default_factory=dict)
    # Fired on a fresh case first; with none, the edge is sent about the test's shared case.
    journey: list[Step] = field(default_factory=list)
    # It changes the shared case: sent after every other edge.
    moves_the_case: bool = False


# Further bad requests for the error sweep, given the case the sweep made:
# (request, the statuses it may get).
BadRequests = Callable[[dict[str, Any]], Iterable[tuple[Call, int | set[int]]]]


def _no_bad_requests(case: dict[str, Any]) -> Iterable[tuple[Call, int | set[int]]]:
    return ()


@dataclass(frozen=True)
class DomainTable:
    """What the route matrices need to know about one domain's routes. Every field may be
    left empty; `core.py` merges the tables of all domains, and fails on a row (a route, a
    parameter, a field, an edge) that two domains both give."""

    # The lowest role that may call each write route; reads are open to every role.
    write_roles: dict[Route, str] = field(default_factory=dict)
    # A valid body for each route that takes one; the argument makes codes and references
    # unique.
    bodies: dict[Route, Callable[[int], dict[str, Any]]] = field(default_factory=dict)
    # The value a path parameter takes when a test names no object of its own.
    path_samples: dict[str, str] = field(default_factory=dict)
    # Path parameters that name an object, with a value that names none (BOLA's control).
    missing_ids: dict[str, str] = field(default_factory=dict)
    # Path parameters naming an object with an ETag: writes to its routes take If-Match...
    etag_params: frozenset[str] = frozenset()
    # ...except these, which add something under the object rather than change it.
    no_if_match: frozenset[Route] = frozenset()
    # Makes this domain's objects belonging to a case the test made (given the World and
    # the case), once per case; returns their path values, e.g. {"action_id": ...}.
    make_objects: Callable[[Any, dict[str, Any]], dict[str, str]] | None = None
    # Where each object named by a path parameter is read, by parameter name.
    object_reads: dict[str, str] = field(default_factory=dict)
    # Fields the server controls on each write route's object: sent, each is a 422 naming it.
    server_fields: dict[Route, tuple[str, ...]] = field(default_factory=dict)
    # Query values no schema rules out but the API must still refuse, by parameter name.
    bad_query_values: dict[str, list[str]] = field(default_factory=dict)
    # Requests the error sweep adds: unknown routes and objects, conflicts.
    bad_requests: BadRequests = _no_bad_requests
    # Edge values, by name.
    edges: dict[str, Edge] = field(default_factory=dict)
    # What a client might really try to set a server-controlled field to, by field name.
    plausible_values: dict[str, Any] = field(default_factory=dict)
    # Checks of the table itself (e.g. every event has a payload), run by the coverage test.
    checks: tuple[Callable[[], None], ...] = ()
