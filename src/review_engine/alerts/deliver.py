"""The delivery worker: claims due deliveries from the outbox, checks each is still worth
sending (its deadline still runs, with the same due date; its subscription still enabled),
sends it with no transaction open, and records the attempt.

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
from sqlmodel import Session, col, select

from review_engine.actions.models import Action, running_action
from review_engine.alerts.mail import SmtpSettings, compose, send
from review_engine.alerts.models import Alert, Delivery, Subscription
from review_engine.alerts.outbox import claim_due, record_outcome
from review_engine.alerts.targets import internal_address
from review_engine.alerts.teams import post_card
from review_engine.alerts.webhooks import TIMEOUT, AlertMessage, Outcome, post
from review_engine.calendar import Calendar
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.contributions.models import Contribution, outstanding_contribution
from review_engine.partnerships.models import Partnership

__all__ = ["Delivered", "WorkerSettings", "deliver_due"]

_LINKS = {"case": "/cases/{id}", "action": "/actions/{id}", "contribution": "/contributions/{id}"}


@dataclass(frozen=True)
class WorkerSettings:
    allow_private_targets: bool = False
    public_base_url: str = ""  # prefixed to each link; empty: links are paths
    smtp: SmtpSettings = SmtpSettings()


@dataclass
class Delivered:
    """What one pass of the worker did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    statuses: list[str] = field(default_factory=list)


def _still_due(session: Session, alert: Alert) -> bool:
    """Whether the deadline the alert is about still runs, due on the same day."""
    if alert.subject_type == "case":
        deadline = select(CaseDeadline.id).where(
            running_deadline(),
            col(CaseDeadline.case_id) == alert.subject_id,
            col(CaseDeadline.name) == alert.clock,
            col(CaseDeadline.due_on) == alert.due_on,
        )
        return session.exec(deadline).first() is not None
    if alert.subject_type == "action":
        action = select(Action.id).where(
            running_action(), col(Action.id) == alert.subject_id, col(Action.due_on) == alert.due_on
        )
        return session.exec(action).first() is not None
    contribution = select(Contribution.id).where(
        outstanding_contribution(),
        col(Contribution.id) == alert.subject_id,
        col(Contribution.due_on) == alert.due_on,
    )
    return session.exec(contribution).first() is not None


def _message(
    session: Session, alert: Alert, calendar: Calendar, today: date, base_url: str
) -> AlertMessage:
    partnership = session.get(Partnership, alert.partnership_id)
    case = session.get(Case, alert.case_id) if alert.case_id else None
    overdue = calendar.working_days_between(alert.due_on, today) if today > alert.due_on else 0
    return AlertMessage(
        alert_id=str(alert.id),
        rung=alert.rung,
        sequence=alert.sequence,
        partnership=partnership.code if partnership else "",
        subject=alert.subject_type,
        subject_id=str(alert.subject_id),
        case_reference=case.reference if case else None,
        clock=alert.clock,
        due_on=alert.due_on,
        working_days_overdue=overdue,
        link=base_url.rstrip("/") + _LINKS[alert.subject_type].format(id=alert.subject_id),
    )


def _secrets(subscription: Subscription, now: datetime) -> list[str]:
    secrets = [subscription.secret] if subscription.secret else []
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and until > now:
        secrets.append(subscription.previous_secret)
    return secrets


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
        alert = session.get(Alert, delivery.alert_id)
        subscription = session.get(Subscription, delivery.subscription_id)
        assert alert is not None  # foreign keys
        assert subscription is not None
        if not subscription.enabled or not _still_due(session, alert):
            delivery.status = "cancelled"  # never sent stale
            session.add(delivery)
            session.commit()
            return "cancelled"
        message = _message(session, alert, calendar, today, settings.public_base_url)
        channel, target, secrets = (
            subscription.channel,
            subscription.target,
            _secrets(subscription, now),
        )
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
    message: AlertMessage,
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
