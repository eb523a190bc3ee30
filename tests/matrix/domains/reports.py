"""The reports domain's rows of the route matrices: the yearly report and its charts are
reads (every role, scoped like cases); their bad requests and edge values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.matrix.tables import Call, DomainTable, Edge
from tests.matrix.world import HOME

ANNUAL = "/reports/annual"
CHART = "/reports/annual/charts/{chart}.svg"


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """A partnership that does not exist; a year outside the range; a suppression below 2."""
    yield Call("GET", ANNUAL, params={"partnership": "no-such-partnership", "year": "2026"}), 404
    yield Call("GET", ANNUAL, params={"partnership": HOME, "year": "1999"}), 422
    yield (
        Call("GET", ANNUAL, params={"partnership": HOME, "year": "2026", "suppress_below": "1"}),
        422,
    )
    year = {"partnership": HOME, "year": "2026"}
    yield Call("GET", CHART.format(chart="pie"), params=year), 422
    yield Call("GET", CHART.format(chart="themes"), params={**year, "partnership": "nowhere"}), 404


EDGES: dict[str, Edge] = {
    "annual-report-as-of-year-1": Edge(
        "GET", ANNUAL, params={"partnership": HOME, "year": "2026", "as_of": "0001-01-01"}
    ),
    "annual-report-csv-detail": Edge(
        "GET", ANNUAL, params={"partnership": HOME, "year": "2026", "detail": "true"}
    ),
    "annual-chart-suppressed": Edge(
        "GET",
        CHART.format(chart="timeliness"),
        params={"partnership": HOME, "year": "2026", "suppress_below": "100"},
    ),
}

TABLE = DomainTable(path_samples={"chart": "timeliness"}, bad_requests=_bad_requests, edges=EDGES)
