"""Subscription operations (managers): make one, pause or change it, rotate its secret,
resend its failed deliveries; and the reads. A key sees a subscription only when every
partnership it covers is one the key may see (404 otherwise, as for cases)."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select
from starlette.responses import Response

from review_engine.alerts.ladder import RUNGS
from review_engine.alerts.models import Delivery, Subscription
from review_engine.alerts.schemas import SubscriptionCreate, SubscriptionPatch
from review_engine.alerts.targets import check_target
from review_engine.auth.models import Principal
from review_engine.change_request import ChangeRequest, changed_meanwhile, check_version
from review_engine.db import utcnow
from review_engine.errors import FieldError, NotFound, UnprocessableContent
from review_engine.idempotency import Claim, commit_answer
from review_engine.partnerships.service import all_visible

SubscriptionChange = ChangeRequest[Subscription]

ROTATION_OVERLAP = timedelta(hours=24)
"""How long a rotated secret keeps signing alongside the new one."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def visible(principal: Principal, subscription: Subscription) -> bool:
    return all(principal.can_access(code) for code in subscription.partnerships)


def create_subscription(
    *,
    session: Session,
    principal: Principal,
    body: SubscriptionCreate,
    allow_private_targets: bool,
    email_configured: bool,
    render: Callable[[Subscription], Response],
    claim: Claim | None,
) -> Response:
    errors: list[FieldError] = []
    codes = list(dict.fromkeys(body.partnerships))
    if not all_visible(session=session, principal=principal, codes=codes):
        errors.append(FieldError(field="body.partnerships", message="unknown partnership code"))
    if body.channel == "email" and not email_configured:
        errors.append(
            FieldError(
                field="body.channel",
                message="email needs a mail server: set REVIEW_ENGINE_SMTP_HOST",
            )
        )
    if not errors:
        errors += check_target(body.channel, body.target, allow_private=allow_private_targets)
    if errors:
        raise UnprocessableContent("The subscription cannot be made like this.", errors=errors)
    subscription = Subscription(
        channel=body.channel,
        target=body.target,
        partnerships=codes,
        alert_types=list(dict.fromkeys(body.alert_types or RUNGS)),
        digest=body.digest,
        secret=new_secret() if body.channel == "webhook" else None,
        created_by=principal.key_name,
    )
    session.add(subscription)
    session.flush()
    answer = render(subscription)
    commit_answer(session=session, answer=answer, claim=claim)
    return answer


def get_subscription(
    *, session: Session, principal: Principal, subscription_id: uuid.UUID, for_update: bool = False
) -> Subscription:
    query = select(Subscription).where(col(Subscription.id) == subscription_id)
    if for_update:
        query = query.with_for_update()
    subscription = session.exec(query).first()
    if subscription is None or not visible(principal, subscription):
        raise NotFound(f"No subscription with id {subscription_id}.")
    return subscription


def list_subscriptions(*, session: Session, principal: Principal) -> list[Subscription]:
    """Every subscription the key may see, oldest first (there are few)."""
    rows = session.exec(
        select(Subscription).order_by(col(Subscription.created_at), col(Subscription.id))
    )
    return [subscription for subscription in rows if visible(principal, subscription)]


def patch_subscription(
    *,
    session: Session,
    change: SubscriptionChange,
    subscription_id: uuid.UUID,
    patch: SubscriptionPatch,
) -> Response:
    subscription = get_subscription(
        session=session,
        principal=change.principal,
        subscription_id=subscription_id,
        for_update=True,
    )
    check_version(
        version=subscription.version,
        accepted_versions=change.accepted_versions,
        etag=change.etag(subscription.version),
        what="subscription",
    )
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return change.render(subscription)
    if "alert_types" in changes:
        subscription.alert_types = list(dict.fromkeys(changes["alert_types"]))
    if "enabled" in changes:
        subscription.enabled = changes["enabled"]
        subscription.disabled_reason = None if subscription.enabled else "paused by a manager"
    subscription.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise changed_meanwhile(
            what="subscription", etag=change.etag(subscription.version)
        ) from None
    answer = change.render(subscription)
    commit_answer(session=session, answer=answer, claim=change.claim)
    return answer


def rotate_secret(
    *,
    session: Session,
    principal: Principal,
    subscription_id: uuid.UUID,
    now: datetime,
    render: Callable[[str, datetime], Response],
    claim: Claim | None,
) -> Response:
    """A new signing secret; the old one signs too for `ROTATION_OVERLAP`."""
    subscription = get_subscription(
        session=session, principal=principal, subscription_id=subscription_id, for_update=True
    )
    if subscription.channel != "webhook":
        raise UnprocessableContent("Only a webhook subscription has a signing secret.")
    until = now + ROTATION_OVERLAP
    subscription.previous_secret, subscription.previous_secret_until = subscription.secret, until
    subscription.secret = new_secret()
    subscription.updated_at = utcnow()
    session.add(subscription)
    session.flush()
    answer = render(subscription.secret, until)
    commit_answer(session=session, answer=answer, claim=claim)
    return answer


def redeliver(
    *,
    session: Session,
    principal: Principal,
    now: datetime,
    render: Callable[[int], Response],
    claim: Claim | None,
    subscription_id: uuid.UUID | None = None,
    delivery_id: uuid.UUID | None = None,
) -> Response:
    """Sends again one delivery (any status but pending), or every failed delivery of a
    subscription: they go back to the outbox, due now, with their message ids unchanged."""
    if delivery_id is not None:
        delivery = session.get(Delivery, delivery_id)
        subscription = session.get(Subscription, delivery.subscription_id) if delivery else None
        if delivery is None or subscription is None or not visible(principal, subscription):
            raise NotFound(f"No delivery with id {delivery_id}.")
        deliveries = [delivery] if delivery.status != "pending" else []
    else:
        assert subscription_id is not None
        get_subscription(session=session, principal=principal, subscription_id=subscription_id)
        deliveries = list(
            session.exec(
                select(Delivery).where(
                    col(Delivery.subscription_id) == subscription_id,
                    col(Delivery.status) == "failed",
                )
            )
        )
    for delivery in deliveries:
        delivery.status, delivery.next_attempt_at, delivery.attempts = "pending", now, 0
        session.add(delivery)
    session.flush()
    answer = render(len(deliveries))
    commit_answer(session=session, answer=answer, claim=claim)
    return answer
