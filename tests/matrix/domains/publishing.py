"""The publishing domain's rows of the route matrices: archiving a published review (a case
change, managers) and the public feed's edge values. The public routes themselves are in
`core.PUBLIC_PATHS`: they need no key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import HOME

ARCHIVE = "/cases/{case_id}/publication/archive"
FEED = f"/public/partnerships/{HOME}/reviews"

WRITE_ROLES: dict[Route, str] = {("POST", ARCHIVE): "manager"}

BODY_SAMPLES = {("POST", ARCHIVE): lambda n: {"archived_on": "2026-06-10"}}


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """Archiving a case never published, feeds of a partnership that does not exist, and a
    stylesheet from a site that is not the partnership's."""
    archive = Call("POST", ARCHIVE.format(case_id=case["id"]), body={"archived_on": "2026-06-10"})
    yield Call(archive.method, archive.url, archive.body, {"If-Match": case["_etag"]}), 409
    for suffix in ("", ".atom", ".rss", "/embed"):
        yield Call("GET", f"/public/partnerships/no-such-partnership/reviews{suffix}"), 404
    yield Call("GET", f"{FEED}/embed", params={"stylesheet": "https://evil.example/x.css"}), 422


EDGES: dict[str, Edge] = {
    "public-feed-garbage-cursor": Edge("GET", FEED, params={"cursor": "garbage"}),
    "public-feed-unknown-parameter": Edge("GET", FEED, params={"utm_source": "x"}),
    "public-atom-huge-limit": Edge("GET", f"{FEED}.atom", params={"limit": "100000"}),
    "embed-stylesheet-javascript": Edge(
        "GET", f"{FEED}/embed", params={"stylesheet": "javascript:alert(1)"}
    ),
    "archive-before-the-calendar": Edge("POST", ARCHIVE, body={"archived_on": "1066-10-14"}),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    bad_requests=_bad_requests,
    edges=EDGES,
)
