"""The transactional outbox. Detection writes a delivery per matching subscription in the
transaction that raises the alert; workers claim due deliveries (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so workers in several processes never take the same one; SQLite
serialises writers), send them outside any transaction, and record each attempt.

A claim moves the delivery's next attempt a lease ahead, so a worker that dies between
sending and recording leaves it to be sent again after the lease, with the same message
id: at least once, and a receiver that keeps the ids it has seen gets it exactly once.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from review_engine.alerts.inserts import insert_new
from review_engine.alerts.models import Alert, Delivery, DeliveryAttempt, Subscription
from review_engine.alerts.webhooks import Outcome
from review_engine.partnerships.models import Partnership

__all__ = ["BACKOFF", "LEASE", "claim_due", "enqueue", "enqueue_digests", "record_outcome"]

LEASE = timedelta(minutes=5)
"""How long a claimed delivery is left to its worker before another may send it again."""

BACKOFF = tuple(
    timedelta(minutes=minutes)
    for minutes in (0.5, 2, 10, 30, 60, 120, 240, 480, 720, 720, 720, 720, 720)
)
"""The wait before each retry, about 3 days in all; then the delivery has failed."""


def enqueue(session: Session, alerts: Sequence[Alert]) -> int:
    """Adds a delivery of each raised alert to each enabled subscription that wants it (its
    partnership and rung; no digest). Runs in the caller's transaction."""
    if not alerts:
        return 0
    subscriptions = session.exec(
        select(Subscription).where(
            col(Subscription.enabled).is_(True),
            col(Subscription.digest) == "none",
        )
    ).all()
    if not subscriptions:
        return 0
    codes = dict(session.exec(select(Partnership.id, Partnership.code)).all())
    added = 0
    for alert in alerts:
        code = codes.get(alert.partnership_id)
        for subscription in subscriptions:
            if code in subscription.partnerships and alert.rung in subscription.alert_types:
                session.add(Delivery(alert_id=alert.id, subscription_id=subscription.id))
                added += 1
    return added


def _new_delivery(subscription_id: uuid.UUID, now: datetime, **kind: object) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "subscription_id": subscription_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        **kind,
    }


def enqueue_digests(
    session: Session,
    *,
    digest_on: date,
    reached: Callable[[], dict[uuid.UUID, set[str]]],
    now: datetime,
) -> int:
    """Adds the day's digest of each enabled daily-digest subscription for which something
    is at a rung it wants (`reached()`: the furthest rungs reached, by partnership id, worked
    out only when a subscription has no digest for the day yet). Once a day each:
    `uq_delivery_digest` decides. Runs in the caller's transaction."""
    queued = select(Delivery.subscription_id).where(col(Delivery.digest_on) == digest_on)
    subscriptions = session.exec(
        select(Subscription).where(
            col(Subscription.enabled).is_(True),
            col(Subscription.digest) == "daily",
            col(Subscription.id).not_in(queued),
        )
    ).all()
    if not subscriptions:
        return 0
    codes = dict(session.exec(select(Partnership.id, Partnership.code)).all())
    rungs_of = {codes.get(partnership_id): rungs for partnership_id, rungs in reached().items()}
    rows = [
        _new_delivery(subscription.id, now, kind="digest", digest_on=digest_on)
        for subscription in subscriptions
        if any(
            rungs_of.get(code, set()) & set(subscription.alert_types)
            for code in subscription.partnerships
        )
    ]
    return len(insert_new(session, Delivery, rows, ("subscription_id", "digest_on")))


def _enqueue_fallbacks(
    session: Session, delivery: Delivery, subscription: Subscription, now: datetime
) -> None:
    """A failed alert or digest: an email to the fallback address of each partnership it
    was about that has one (once per address: `uq_delivery_fallback`)."""
    if delivery.kind == "fallback":
        return  # a fallback that fails has no fallback of its own
    about = select(Partnership.alert_fallback_email).where(
        col(Partnership.alert_fallback_email).is_not(None)
    )
    if delivery.kind == "alert":
        alert = session.get(Alert, delivery.alert_id)
        assert alert is not None  # foreign key
        about = about.where(col(Partnership.id) == alert.partnership_id)
    else:
        about = about.where(col(Partnership.code).in_(subscription.partnerships))
    addresses = sorted({address for address in session.exec(about) if address})
    rows = [
        _new_delivery(subscription.id, now, kind="fallback", fallback_for=delivery.id, target=to)
        for to in addresses
    ]
    insert_new(session, Delivery, rows, ("fallback_for", "target"))


def claim_due(session: Session, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Claims up to `limit` deliveries due by `now` (their next attempt moves a lease
    ahead) and commits; returns their ids."""
    query = (
        select(Delivery)
        .where(col(Delivery.status) == "pending", col(Delivery.next_attempt_at) <= now)
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = list(session.exec(query))
    for delivery in claimed:
        delivery.next_attempt_at = now + LEASE
        session.add(delivery)
    session.commit()
    return [delivery.id for delivery in claimed]


def _retry_at(attempts: int, now: datetime, retry_after: float | None) -> datetime | None:
    """When to try again after `attempts` attempts (None: retries have run out)."""
    if attempts > len(BACKOFF):
        return None
    wait = BACKOFF[attempts - 1] * random.uniform(0.9, 1.1)  # jitter: no thundering herd
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, 86_400)))
    return now + wait


def record_outcome(
    session: Session,
    delivery: Delivery,
    subscription: Subscription,
    outcome: Outcome,
    now: datetime,
) -> None:
    """Records an attempt and what it means: delivered (2xx); the subscription disabled (410
    Gone); a retry later; or failed once retries run out. A delivery that fails raises a
    fallback email to its partnerships' fallback addresses. Commits."""
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
        )
    )
    code = outcome.status_code
    if outcome.accepted:
        delivery.status, delivery.delivered_at = "delivered", now
    elif code == 410:
        delivery.status = "failed"
        subscription.enabled = False
        subscription.disabled_reason = "the target answered 410 Gone"
        subscription.last_failure_at = now
    else:
        retry_at = _retry_at(delivery.attempts, now, outcome.retry_after)
        if retry_at is None:
            delivery.status = "failed"
            subscription.last_failure_at = now
        else:
            delivery.next_attempt_at = retry_at
    session.add(delivery)
    session.add(subscription)
    if delivery.status == "failed":
        session.flush()
        _enqueue_fallbacks(session, delivery, subscription, now)
    session.commit()
