"""The reports domain's rows of the route matrices: the yearly report is a read (every role,
scoped like cases); its bad requests and edge values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.matrix.tables import Call, DomainTable, Edge
from tests.matrix.world import HOME

ANNUAL = "/reports/annual"


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """A partnership that does not exist; a year outside the range; a suppression below 2."""
    yield Call("GET", ANNUAL, params={"partnership": "no-such-partnership", "year": "2026"}), 404
    yield Call("GET", ANNUAL, params={"partnership": HOME, "year": "1999"}), 422
    yield (
        Call("GET", ANNUAL, params={"partnership": HOME, "year": "2026", "suppress_below": "1"}),
        422,
    )


EDGES: dict[str, Edge] = {
    "annual-report-as-of-year-1": Edge(
        "GET", ANNUAL, params={"partnership": HOME, "year": "2026", "as_of": "0001-01-01"}
    ),
    "annual-report-csv-detail": Edge(
        "GET", ANNUAL, params={"partnership": HOME, "year": "2026", "detail": "true"}
    ),
}

TABLE = DomainTable(bad_requests=_bad_requests, edges=EDGES)
