"""The delivery worker: claims due deliveries from the outbox, composes what each is to say
as things stand (`compose.py`: nothing when its deadline no longer runs, or a digest has
nothing left to list, or its subscription is disabled: then it is cancelled), sends it with
no transaction open, and records the attempt (a delivery that fails for good raises a
fallback email: `outbox.record_outcome`).

Several workers (in several processes) may run at once: each claims different deliveries
(see `outbox.claim_due`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from review_engine.alerts.compose import Composer
from review_engine.alerts.ladder import Ladder
from review_engine.alerts.mail import SmtpSettings, compose, send
from review_engine.alerts.messages import Message
from review_engine.alerts.models import Delivery, Subscription
from review_engine.alerts.outbox import claim_due, record_outcome
from review_engine.alerts.targets import internal_address
from review_engine.alerts.teams import post_card
from review_engine.alerts.webhooks import TIMEOUT, Outcome, post
from review_engine.calendar import Calendar

__all__ = ["Delivered", "WorkerSettings", "deliver_due"]


@dataclass(frozen=True)
class WorkerSettings:
    allow_private_targets: bool = False
    public_base_url: str = ""  # prefixed to each link; empty: links are paths
    smtp: SmtpSettings = SmtpSettings()
    ladder: Ladder = Ladder()  # what a digest lists


@dataclass
class Delivered:
    """What one pass of the worker did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    statuses: list[str] = field(default_factory=list)


def _secrets(subscription: Subscription, now: datetime) -> list[str]:
    secrets = [subscription.secret] if subscription.secret else []
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and until > now:
        secrets.append(subscription.previous_secret)
    return secrets


def _cancel(session: Session, delivery: Delivery) -> str:
    delivery.status = "cancelled"  # never sent stale
    session.add(delivery)
    session.commit()
    return "cancelled"


def _send_one(
    engine: Engine,
    delivery_id: uuid.UUID,
    *,
    client: httpx.Client,
    calendar: Calendar,
    now: datetime,
    today: date,
    settings: WorkerSettings,
) -> str:
    with Session(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return "gone"
        subscription = session.get(Subscription, delivery.subscription_id)
        assert subscription is not None  # foreign key
        composer = Composer(session, calendar, settings.ladder, today, settings.public_base_url)
        message: Message | None
        if delivery.kind == "fallback":
            # Sent even when the subscription is disabled: a 410 is one way to fail.
            message = composer.fallback(delivery, subscription)
            channel, target, secrets = "email", delivery.target or "", []
        else:
            message = composer.of(delivery, subscription) if subscription.enabled else None
            channel, target = subscription.channel, subscription.target
            secrets = _secrets(subscription, now)
        if message is None:
            return _cancel(session, delivery)
        subscription_id = subscription.id
        session.rollback()  # no transaction (or SQLite write lock) open while we send
        outcome = _attempt(client, channel, target, delivery_id, now, message, secrets, settings)
        delivery = session.get(Delivery, delivery_id)
        subscription = session.get(Subscription, subscription_id)
        assert delivery is not None
        assert subscription is not None
        record_outcome(session, delivery, subscription, outcome, now)
        return delivery.status if delivery.status != "pending" else "retrying"


def _attempt(
    client: httpx.Client,
    channel: str,
    target: str,
    delivery_id: uuid.UUID,
    now: datetime,
    message: Message,
    secrets: list[str],
    settings: WorkerSettings,
) -> Outcome:
    message_id = f"msg_{delivery_id.hex}"
    if channel == "email":
        mail = compose(message, to=target, sender=settings.smtp.sender, message_id=message_id)
        return send(settings.smtp, mail)
    if not settings.allow_private_targets:
        parts = urlsplit(target)
        if internal_address(parts.hostname or "", parts.port or 443) is not None:
            return Outcome(status_code=None, error="InternalAddress", latency_ms=0)
    if channel == "teams":
        return post_card(client, target, message, now)
    return post(
        client, target, message_id=message_id, sent_at=now, body=message.body(now), secrets=secrets
    )


def deliver_due(
    *,
    engine: Engine,
    calendar: Calendar,
    now: datetime,
    today: date,
    settings: WorkerSettings,
    client: httpx.Client | None = None,
    limit: int = 100,
) -> Delivered:
    """Sends up to `limit` deliveries due by `now`; returns what became of them."""
    with Session(engine) as session:
        claimed = claim_due(session, now=now, limit=limit)
    done = Delivered()
    with client or httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
        for delivery_id in claimed:
            status = _send_one(
                engine,
                delivery_id,
                client=http,
                calendar=calendar,
                now=now,
                today=today,
                settings=settings,
            )
            done.statuses.append(status)
            if status in ("delivered", "retrying", "failed", "cancelled"):
                setattr(done, status, getattr(done, status) + 1)
    return done
