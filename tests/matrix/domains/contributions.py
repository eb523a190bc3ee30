"""The contributions domain's rows of the route matrices: who may write, sample bodies, the
contribution made for a case, the fields the server controls, and edge values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from review_engine.contributions.schemas import (
    ContributionCreate,
    ContributionPatch,
    ContributionRead,
)
from tests.matrix.tables import Call, DomainTable, Edge, Route

MISSING_ID = "00000000-0000-4000-8000-0000000000c1"
AGENCY = "Wessex Health"

WRITE_ROLES: dict[Route, str] = {
    ("POST", "/cases/{case_id}/contributions"): "member",
    ("PATCH", "/contributions/{contribution_id}"): "member",
}

BODY_SAMPLES = {
    # The first asks for the LCSPR stage; later ones are 409s (asked already), which the
    # matrices accept as answers past authorization.
    ("POST", "/cases/{case_id}/contributions"): lambda n: {
        "agency": AGENCY,
        "requested_on": "2026-06-02",
        "stage": "lcspr",
    },
    ("PATCH", "/contributions/{contribution_id}"): lambda n: {"due_on": "2026-06-30"},
}


def _make_objects(world: Any, case: dict[str, Any]) -> dict[str, str]:
    """The agency's contribution to the case's rapid review."""
    world.agency(AGENCY)
    response = world.api.post(
        f"/cases/{case['id']}/contributions",
        json={"agency": AGENCY, "requested_on": "2026-06-01"},
        headers=world.key(),
    )
    assert response.status_code == 201, response.text
    return {"contribution_id": response.json()["id"]}


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """A contribution that does not exist, an agency never listed, one asked twice."""
    yield Call("GET", f"/contributions/{MISSING_ID}"), 404
    yield Call("GET", f"/contributions/{MISSING_ID}/history"), 404
    yield (
        Call(
            "POST",
            f"/cases/{case['id']}/contributions",
            body={"agency": "Nobody Listed", "requested_on": "2026-06-01"},
        ),
        422,
    )
    yield (
        Call(
            "POST",
            f"/cases/{case['id']}/contributions",
            body={"agency": AGENCY.lower(), "requested_on": "2026-06-01"},
        ),
        409,
    )


EDGES: dict[str, Edge] = {
    "nul-in-agency-query": Edge("GET", "/contributions", params={"agency": "\x00"}),
    "overdue-contributions-as-of-year-1": Edge(
        "GET", "/contributions", params={"overdue": "true", "as_of": "0001-01-01"}
    ),
    "contribution-due-before-its-request": Edge(
        "POST",
        "/cases/{case_id}/contributions",
        body={"agency": AGENCY, "requested_on": "2026-06-01", "due_on": "2026-05-01"},
    ),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={"contribution_id": MISSING_ID},
    missing_ids={"contribution_id": MISSING_ID},
    etag_params=frozenset({"contribution_id"}),
    no_if_match=frozenset({("POST", "/cases/{case_id}/contributions")}),
    make_objects=_make_objects,
    object_reads={"contribution_id": "/contributions/{contribution_id}"},
    server_fields={
        ("POST", "/cases/{case_id}/contributions"): tuple(
            sorted(set(ContributionRead.model_fields) - set(ContributionCreate.model_fields))
        ),
        ("PATCH", "/contributions/{contribution_id}"): tuple(
            sorted(set(ContributionRead.model_fields) - set(ContributionPatch.model_fields))
        ),
    },
    bad_requests=_bad_requests,
    edges=EDGES,
)
