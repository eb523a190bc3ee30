"""The partnerships domain's rows of the route matrices: who may write, sample bodies, the
partnership the samples name, and edge values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import HOME

MISSING_CODE = "no-such-partnership"

WRITE_ROLES: dict[Route, str] = {
    ("PATCH", "/partnerships/{code}"): "manager",
    ("POST", "/partnerships"): "admin",
}

BODY_SAMPLES = {
    ("POST", "/partnerships"): lambda n: {"code": f"sample-{n}", "name": f"Sample {n} SCP"},
    ("PATCH", "/partnerships/{code}"): lambda n: {"name": f"Renamed {n} SCP"},
}


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """A partnership that does not exist, a code taken, a fallback email that is not an
    address or that the server (with no mail server) cannot send."""
    yield Call("GET", f"/partnerships/{MISSING_CODE}"), 404
    yield Call("POST", "/partnerships", body={"code": HOME, "name": "Again"}), 409
    for address in ("not an address", "business@wessex.example"):
        body = {"alert_fallback_email": address}
        yield Call("PATCH", f"/partnerships/{HOME}", body=body), 422


EDGES: dict[str, Edge] = {
    "nul-in-partnership-name": Edge(
        "POST", "/partnerships", body={"code": "nul-name", "name": "a\x00b"}
    ),
    "nul-in-partnership-path": Edge("GET", "/partnerships/%00"),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={"code": HOME},
    missing_ids={"code": MISSING_CODE},
    bad_requests=_bad_requests,
    edges=EDGES,
)
