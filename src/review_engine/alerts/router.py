"""Routes for subscriptions and deliveries. Thin: parse, call the service, shape."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from review_engine.alerts import subscriptions as service
from review_engine.alerts.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from review_engine.alerts.schemas import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    Redelivered,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionPatch,
    SubscriptionRead,
)
from review_engine.alerts.targets import redacted
from review_engine.auth.dependencies import ManagerDep, ViewerDep
from review_engine.dates import OffsetDateTime
from review_engine.db import SessionDep, utcnow
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.etags import etag, if_match_description, parse_if_match
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    decode_cursor,
    encode_cursor,
    page_size,
    time_and_id,
)

router = APIRouter(tags=["alerts"], responses=problem_responses(401, 422))

SubscriptionIfMatch = Annotated[
    str | None, Header(description=if_match_description("subscription"))
]


def _read(subscription: Subscription) -> SubscriptionRead:
    return SubscriptionRead(
        id=subscription.id,
        version=subscription.version,
        channel=subscription.channel,
        target=redacted(subscription.target),
        partnerships=subscription.partnerships,
        alert_types=subscription.alert_types,
        digest=subscription.digest,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        last_failure_at=subscription.last_failure_at,
        previous_secret_until=subscription.previous_secret_until,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )


def _answer(
    body: SubscriptionRead, version: int, day: date, status_code: int = 200
) -> JSONResponse:
    headers = {"ETag": etag(version, day)}
    if status_code == 201:
        headers["Location"] = f"/subscriptions/{body.id}"
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionCreated,
    summary="Send a partnership's alerts to a webhook (managers); the secret is shown once",
    responses=problem_responses(403),
)
def create_subscription(
    request: Request,
    body: SubscriptionCreate,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    claim: IdempotencyClaimDep,
) -> Response:
    def created(subscription: Subscription) -> Response:
        read = SubscriptionCreated(**_read(subscription).model_dump(), secret=subscription.secret)
        return _answer(read, subscription.version, context.today, status_code=201)

    return service.create_subscription(
        session=session,
        principal=principal,
        body=body,
        allow_private_targets=request.app.state.settings.allow_private_targets,
        email_configured=bool(request.app.state.settings.smtp_host),
        render=created,
        claim=claim,
    )


@router.get("/subscriptions", summary="The subscriptions of the key's partnerships, oldest first")
def list_subscriptions(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SubscriptionPage:
    rows = service.list_subscriptions(session=session, principal=principal)
    if cursor is not None:
        after = decode_cursor(cursor, time_and_id)
        rows = [row for row in rows if (row.created_at, row.id) > after]
    size = page_size(request, limit)
    page = rows[:size]
    next_cursor = None
    if len(rows) > size:
        next_cursor = encode_cursor([page[-1].created_at.isoformat(), str(page[-1].id)])
    return SubscriptionPage(items=[_read(row) for row in page], next_cursor=next_cursor)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionRead,
    summary="One subscription",
    responses=problem_responses(404),
)
def read_subscription(
    subscription_id: uuid.UUID, principal: ViewerDep, session: SessionDep, context: ClockContextDep
) -> Response:
    subscription = service.get_subscription(
        session=session, principal=principal, subscription_id=subscription_id
    )
    return _answer(_read(subscription), subscription.version, context.today)


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionRead,
    summary="Pause or resume a subscription, or change the alerts it receives (managers)",
    responses=problem_responses(403, 404, 412, 428),
)
def patch_subscription(
    subscription_id: uuid.UUID,
    patch: SubscriptionPatch,
    principal: ManagerDep,
    session: SessionDep,
    context: ClockContextDep,
    if_match: SubscriptionIfMatch = None,
) -> Response:
    today = context.today
    change = service.SubscriptionChange(
        principal=principal,
        accepted_versions=parse_if_match(if_match, "subscription"),
        context=context,
        etag=lambda version: etag(version, today),
        render=lambda subscription: _answer(_read(subscription), subscription.version, today),
    )
    return service.patch_subscription(
        session=session, change=change, subscription_id=subscription_id, patch=patch
    )


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    response_model=SecretRotated,
    summary="A new signing secret, shown once; the old one also signs for 24 hours (managers)",
    responses=problem_responses(403, 404),
)
def rotate_secret(
    subscription_id: uuid.UUID,
    principal: ManagerDep,
    session: SessionDep,
    claim: IdempotencyClaimDep,
) -> Response:
    def rotated(secret: str, until: datetime) -> Response:
        body = SecretRotated(secret=secret, previous_secret_until=until)
        return JSONResponse(body.model_dump(mode="json"))

    return service.rotate_secret(
        session=session,
        principal=principal,
        subscription_id=subscription_id,
        now=utcnow(),
        render=rotated,
        claim=claim,
    )


def _redelivered(count: int) -> Response:
    return JSONResponse(Redelivered(redelivering=count).model_dump(mode="json"))


@router.post(
    "/subscriptions/{subscription_id}/redeliver-failed",
    response_model=Redelivered,
    summary="Send every failed delivery of the subscription again (managers)",
    responses=problem_responses(403, 404),
)
def redeliver_failed(
    subscription_id: uuid.UUID,
    principal: ManagerDep,
    session: SessionDep,
    claim: IdempotencyClaimDep,
) -> Response:
    return service.redeliver(
        session=session,
        principal=principal,
        now=utcnow(),
        render=_redelivered,
        claim=claim,
        subscription_id=subscription_id,
    )


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=Redelivered,
    summary="Send one delivery again, with the same message id (managers)",
    responses=problem_responses(403, 404),
)
def redeliver(
    delivery_id: uuid.UUID, principal: ManagerDep, session: SessionDep, claim: IdempotencyClaimDep
) -> Response:
    return service.redeliver(
        session=session,
        principal=principal,
        now=utcnow(),
        render=_redelivered,
        claim=claim,
        delivery_id=delivery_id,
    )


@router.get("/deliveries", summary="Deliveries and every attempt at them, newest first")
def list_deliveries(
    request: Request,
    principal: ViewerDep,
    session: SessionDep,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    subscription: Annotated[uuid.UUID | None, Query()] = None,
    since: Annotated[
        OffsetDateTime | None,
        Query(description="Only those made at or after this time (with its UTC offset)."),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DeliveryPage:
    visible = [s.id for s in service.list_subscriptions(session=session, principal=principal)]
    query = select(Delivery).where(col(Delivery.subscription_id).in_(visible))
    if delivery_status is not None:
        query = query.where(col(Delivery.status) == delivery_status)
    if subscription is not None:
        query = query.where(col(Delivery.subscription_id) == subscription)
    if since is not None:
        query = query.where(col(Delivery.created_at) >= since)
    if cursor is not None:
        created_at, after_id = decode_cursor(cursor, time_and_id)
        query = query.where(
            (col(Delivery.created_at) < created_at)
            | ((col(Delivery.created_at) == created_at) & (col(Delivery.id) < after_id))
        )
    size = page_size(request, limit)
    rows = list(
        session.exec(
            query.order_by(col(Delivery.created_at).desc(), col(Delivery.id).desc()).limit(size + 1)
        )
    )
    page = rows[:size]
    next_cursor = None
    if len(rows) > size:
        next_cursor = encode_cursor([page[-1].created_at.isoformat(), str(page[-1].id)])
    return DeliveryPage(items=_delivery_reads(session, page), next_cursor=next_cursor)


def _delivery_reads(session: Session, deliveries: list[Delivery]) -> list[DeliveryRead]:
    attempts: dict[uuid.UUID, list[AttemptRead]] = {}
    for attempt in session.exec(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_([d.id for d in deliveries]))
        .order_by(col(DeliveryAttempt.id))
    ):
        attempts.setdefault(attempt.delivery_id, []).append(
            AttemptRead(
                at=attempt.at,
                status_code=attempt.status_code,
                error=attempt.error,
                latency_ms=attempt.latency_ms,
            )
        )
    return [
        DeliveryRead(
            id=delivery.id,
            kind=delivery.kind,
            alert_id=delivery.alert_id,
            digest_on=delivery.digest_on,
            fallback_for=delivery.fallback_for,
            fallback_to=delivery.target,
            subscription_id=delivery.subscription_id,
            status=delivery.status,
            attempts=attempts.get(delivery.id, []),
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
        )
        for delivery in deliveries
    ]
