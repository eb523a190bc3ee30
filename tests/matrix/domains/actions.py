"""The learning domain's rows of the route matrices: agencies, recommendations, actions
and their progress notes. Who may write, sample bodies, the objects made for a case, the
fields the server controls, and edge values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from review_engine.actions.schemas import (
    ActionCreate,
    ActionPatch,
    ActionRead,
    PartnershipRecommendationCreate,
    ProgressNoteCreate,
    ProgressNoteRead,
    RecommendationCreate,
    RecommendationRead,
)
from review_engine.agencies.schemas import AgencyCreate, AgencyRead
from review_engine.calendar import Calendar
from review_engine.pagination import encode_cursor
from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import HOME

MISSING_ID = "00000000-0000-4000-8000-0000000000a1"
CALENDAR_START = f"{Calendar().first_year}-01-01"
CALENDAR_END = f"{Calendar().last_year}-12-31"
AGENCY = "Wessex Police"

WRITE_ROLES: dict[Route, str] = {
    ("POST", "/partnerships/{code}/agencies"): "manager",
    ("POST", "/cases/{case_id}/recommendations"): "member",
    ("POST", "/partnerships/{code}/recommendations"): "member",
    ("POST", "/recommendations/{recommendation_id}/actions"): "member",
    ("PATCH", "/actions/{action_id}"): "member",
    ("POST", "/actions/{action_id}/updates"): "member",
}

BODY_SAMPLES = {
    ("POST", "/partnerships/{code}/agencies"): lambda n: {"name": f"Sample Agency {n}"},
    ("POST", "/cases/{case_id}/recommendations"): lambda n: {
        "text": f"Share learning {n}",
        "number": str(n),
        "source": "lcspr",
    },
    ("POST", "/partnerships/{code}/recommendations"): lambda n: {
        "text": f"National learning {n}",
        "source": "national_review",
    },
    ("POST", "/recommendations/{recommendation_id}/actions"): lambda n: {
        "description": f"Audit {n} multi-agency referrals",
        "lead_agency": AGENCY,
        "due_on": "2027-03-31",
    },
    ("PATCH", "/actions/{action_id}"): lambda n: {"owner": f"Officer {n}"},
    ("POST", "/actions/{action_id}/updates"): lambda n: {
        "note": f"Progress {n}",
        "noted_on": "2026-06-02",
    },
}


def _make_objects(world: Any, case: dict[str, Any]) -> dict[str, str]:
    """An agency, a recommendation on the case, and an action on it."""
    admin = world.key()
    agency_id = world.agency(AGENCY)
    recommendation = world.api.post(
        f"/cases/{case['id']}/recommendations",
        json={"text": "Improve information sharing", "source": "lcspr"},
        headers=admin,
    )
    assert recommendation.status_code == 201, recommendation.text
    action = world.api.post(
        f"/recommendations/{recommendation.json()['id']}/actions",
        json={"description": "Run a practice audit", "lead_agency": AGENCY, "due_on": "2027-01-29"},
        headers=admin,
    )
    assert action.status_code == 201, action.text
    return {
        "agency_id": agency_id,
        "recommendation_id": recommendation.json()["id"],
        "action_id": action.json()["id"],
    }


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """Objects that do not exist, an agency listed already, an agency never listed."""
    yield Call("GET", f"/actions/{MISSING_ID}"), 404
    yield Call("PATCH", f"/actions/{MISSING_ID}", body={}, headers={"If-Match": "*"}), 404
    yield Call("GET", f"/recommendations/{MISSING_ID}"), 404
    yield Call("GET", f"/partnerships/{HOME}/agencies/{MISSING_ID}"), 404
    yield Call("POST", f"/partnerships/{HOME}/agencies", body={"name": AGENCY.upper()}), 409
    yield (
        Call(
            "POST",
            f"/partnerships/{HOME}/recommendations",
            body={"text": "From a rapid review", "source": "rapid_review"},
        ),
        422,
    )


def _server_fields(read: type, *written: type) -> tuple[str, ...]:
    accepted = set().union(*(set(model.model_fields) for model in written))
    return tuple(sorted(set(read.model_fields) - accepted))


SERVER_FIELDS: dict[Route, tuple[str, ...]] = {
    ("POST", "/partnerships/{code}/agencies"): _server_fields(AgencyRead, AgencyCreate),
    ("POST", "/cases/{case_id}/recommendations"): _server_fields(
        RecommendationRead, RecommendationCreate
    ),
    ("POST", "/partnerships/{code}/recommendations"): _server_fields(
        RecommendationRead, PartnershipRecommendationCreate
    ),
    ("POST", "/recommendations/{recommendation_id}/actions"): _server_fields(
        ActionRead, ActionCreate
    ),
    ("PATCH", "/actions/{action_id}"): _server_fields(ActionRead, ActionPatch),
    ("POST", "/actions/{action_id}/updates"): _server_fields(ProgressNoteRead, ProgressNoteCreate),
}

EDGES: dict[str, Edge] = {
    "nul-in-lead-agency-query": Edge("GET", "/actions", params={"lead_agency": "a\x00b"}),
    "overdue-actions-as-of-calendar-start": Edge(
        "GET", "/actions", params={"overdue": "true", "as_of": CALENDAR_START}
    ),
    "not-overdue-actions-as-of-calendar-end": Edge(
        "GET", "/actions", params={"overdue": "false", "as_of": CALENDAR_END}
    ),
    "actions-due-before-year-1": Edge("GET", "/actions", params={"due_before": "0001-01-01"}),
    "actions-cursor-with-a-number-for-an-id": Edge(
        "GET", "/actions", params={"cursor": encode_cursor(["2026-01-01", 5])}
    ),
    "nul-in-agency-name": Edge(
        "POST", f"/partnerships/{HOME}/agencies", body={"name": "Police\x00"}
    ),
    "recommendation-text-at-its-longest": Edge(
        "POST",
        "/cases/{case_id}/recommendations",
        body={"text": "x" * 5000, "source": "rapid_review"},
    ),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={
        "agency_id": MISSING_ID,
        "recommendation_id": MISSING_ID,
        "action_id": MISSING_ID,
    },
    missing_ids={"agency_id": MISSING_ID, "recommendation_id": MISSING_ID, "action_id": MISSING_ID},
    etag_params=frozenset({"action_id"}),
    no_if_match=frozenset(
        {("POST", "/cases/{case_id}/recommendations"), ("POST", "/actions/{action_id}/updates")}
    ),
    make_objects=_make_objects,
    object_reads={
        "action_id": "/actions/{action_id}",
        "recommendation_id": "/recommendations/{recommendation_id}",
    },
    server_fields=SERVER_FIELDS,
    bad_requests=_bad_requests,
    edges=EDGES,
)
