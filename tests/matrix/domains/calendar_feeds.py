"""The calendar feeds domain's rows of the route matrices: managers make and revoke feeds;
the feed itself (`/calendar-feeds/{token}.ics`) needs no key, its URL being the credential
(in `core.PUBLIC_PATHS`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import HOME

MISSING_FEED = "00000000-0000-4000-8000-0000000000fe"
UNKNOWN_TOKEN = "cal_" + "A" * 43

WRITE_ROLES: dict[Route, str] = {
    ("POST", "/calendar-feeds"): "manager",
    ("DELETE", "/calendar-feeds/{feed_id}"): "manager",
}

BODY_SAMPLES = {("POST", "/calendar-feeds"): lambda n: {"partnerships": [HOME]}}


def _make_objects(world: Any, case: dict[str, Any]) -> dict[str, str]:
    """A feed of HOME's deadlines, made by an admin of HOME."""
    response = world.api.post("/calendar-feeds", json={"partnerships": [HOME]}, headers=world.key())
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    return {"feed_id": response.json()["id"], "token": url.rsplit("/", 1)[1].removesuffix(".ics")}


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """A feed that does not exist, a token never issued, partnerships that do not exist."""
    yield Call("GET", f"/calendar-feeds/{MISSING_FEED}"), 404
    yield Call("DELETE", f"/calendar-feeds/{MISSING_FEED}"), 404
    yield Call("GET", f"/calendar-feeds/{UNKNOWN_TOKEN}.ics"), 404
    yield Call("POST", "/calendar-feeds", body={"partnerships": ["nowhere"]}), 422


EDGES: dict[str, Edge] = {
    "calendar-feed-malformed-token": Edge("GET", "/calendar-feeds/cal_short.ics"),
    "calendar-feed-no-partnerships": Edge("POST", "/calendar-feeds", body={"partnerships": []}),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={"feed_id": MISSING_FEED, "token": UNKNOWN_TOKEN},
    missing_ids={"feed_id": MISSING_FEED},
    make_objects=_make_objects,
    bad_requests=_bad_requests,
    edges=EDGES,
)
