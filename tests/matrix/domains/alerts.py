"""The alerts domain's rows of the route matrices: subscriptions and deliveries. Who may
write (managers), sample bodies, the objects made for a case (a subscription of HOME and a
delivered alert about the case), the fields the server controls, and edge values."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlmodel import Session, select

from review_engine.alerts.models import Alert, Delivery
from review_engine.alerts.schemas import (
    SubscriptionCreate,
    SubscriptionPatch,
    SubscriptionRead,
)
from review_engine.db import utcnow
from review_engine.partnerships.models import Partnership
from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import AWAY, HOME

MISSING_ID = "00000000-0000-4000-8000-0000000000e1"
# Nothing listens there: the matrices never run the delivery worker.
TARGET = "http://127.0.0.1:9/review-engine-alerts"

WRITE_ROLES: dict[Route, str] = {
    ("POST", "/subscriptions"): "manager",
    ("PATCH", "/subscriptions/{subscription_id}"): "manager",
    ("POST", "/subscriptions/{subscription_id}/rotate-secret"): "manager",
    ("POST", "/subscriptions/{subscription_id}/redeliver-failed"): "manager",
    ("POST", "/deliveries/{delivery_id}/redeliver"): "manager",
}

BODY_SAMPLES = {
    ("POST", "/subscriptions"): lambda n: {
        "channel": "webhook",
        "target": f"{TARGET}/{n}",
        "partnerships": [HOME],
    },
    ("PATCH", "/subscriptions/{subscription_id}"): lambda n: {"enabled": True},
}


def _make_objects(world: Any, case: dict[str, Any]) -> dict[str, str]:
    """A webhook subscription of HOME, and a delivered alert about the case's notification
    clock (written directly: the matrices run no detection)."""
    response = world.api.post(
        "/subscriptions",
        json={"channel": "webhook", "target": TARGET, "partnerships": [HOME]},
        headers=world.key(),
    )
    assert response.status_code == 201, response.text
    subscription_id = uuid.UUID(response.json()["id"])
    with Session(world.api.app.state.engine) as session:
        partnership = session.exec(select(Partnership).where(Partnership.code == HOME)).one()
        alert = Alert(
            subject_type="case",
            subject_id=uuid.UUID(case["id"]),
            clock="notification",
            rung="due_today",
            due_on=date(2026, 6, 8),
            starts_on=date(2026, 6, 8),
            state="raised",
            partnership_id=partnership.id,
            case_id=uuid.UUID(case["id"]),
            detected_on=date(2026, 6, 8),
        )
        delivery = Delivery(
            alert_id=alert.id,
            subscription_id=subscription_id,
            status="delivered",
            attempts=1,
            delivered_at=utcnow(),
        )
        session.add(alert)
        session.flush()
        session.add(delivery)
        session.commit()
        delivery_id = str(delivery.id)
    return {"subscription_id": str(subscription_id), "delivery_id": delivery_id}


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """Subscriptions that do not exist, email with no mail server, partnerships not seen."""
    yield Call("GET", f"/subscriptions/{MISSING_ID}"), 404
    yield Call("POST", f"/deliveries/{MISSING_ID}/redeliver"), 404
    for body in (
        {"channel": "email", "target": "alerts@example.org", "partnerships": [HOME]},
        {"channel": "webhook", "target": TARGET, "partnerships": ["nowhere"]},
        {"channel": "webhook", "target": "ftp://127.0.0.1/x", "partnerships": [HOME]},
        {"channel": "webhook", "target": TARGET, "partnerships": [HOME], "digest": "weekly"},
    ):
        yield Call("POST", "/subscriptions", body=body), 422


def _server_fields(read: type, written: type) -> tuple[str, ...]:
    return tuple(sorted(set(read.model_fields) - set(written.model_fields)))


EDGES: dict[str, Edge] = {
    "deliveries-since-without-an-offset": Edge(
        "GET", "/deliveries", params={"since": "2026-06-01T09:00:00"}
    ),
    "deliveries-since-year-1": Edge("GET", "/deliveries", params={"since": "0001-01-01T00:00:00Z"}),
    "subscription-to-another-partnership": Edge(
        "POST",
        "/subscriptions",
        body={"channel": "webhook", "target": TARGET, "partnerships": [HOME, AWAY]},
    ),
    "subscription-target-with-credentials": Edge(
        "POST",
        "/subscriptions",
        body={"channel": "webhook", "target": "http://u:p@127.0.0.1:9/", "partnerships": [HOME]},
    ),
}

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={"subscription_id": MISSING_ID, "delivery_id": MISSING_ID},
    missing_ids={"subscription_id": MISSING_ID, "delivery_id": MISSING_ID},
    etag_params=frozenset({"subscription_id"}),
    no_if_match=frozenset(
        {
            ("POST", "/subscriptions/{subscription_id}/rotate-secret"),
            ("POST", "/subscriptions/{subscription_id}/redeliver-failed"),
        }
    ),
    make_objects=_make_objects,
    object_reads={"subscription_id": "/subscriptions/{subscription_id}"},
    server_fields={
        ("POST", "/subscriptions"): _server_fields(SubscriptionRead, SubscriptionCreate),
        ("PATCH", "/subscriptions/{subscription_id}"): _server_fields(
            SubscriptionRead, SubscriptionPatch
        ),
    },
    bad_requests=_bad_requests,
    edges=EDGES,
)
