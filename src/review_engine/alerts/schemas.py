"""API shapes for subscriptions and deliveries. A subscription's webhook secret appears
once, in the answer that made (or rotated) it, in a field named `secret`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from review_engine.alerts.ladder import RungName
from review_engine.alerts.models import Channel, DeliveryKind, DeliveryStatus, Digest
from review_engine.optional import NotNull, no_default
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.text import NoNul

Target = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), NoNul
]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]


class SubscriptionCreate(BaseModel):
    """Send alerts of these partnerships to a target."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(
        description=(
            "webhook (signed, Standard Webhooks), teams (an Adaptive Card to a channel's "
            "Workflows URL) or email (needs the deployment's mail server)."
        )
    )
    target: Target = Field(
        description="An https URL (webhook, Teams Workflows URL) or an email address.",
        examples=["https://alerts.example.org/review-engine"],
    )
    partnerships: list[Code] = Field(min_length=1, max_length=50)
    alert_types: list[RungName] | None = Field(
        default=None, min_length=1, description="Which rungs of the ladder (all when left out)."
    )
    digest: Digest = Field(
        default="none",
        description=(
            "none: each alert as it is raised. daily: instead, one message each working day "
            "(from REVIEW_ENGINE_ALERT_DIGEST_HOUR) listing every deadline then due soon, due "
            "today or overdue at the rungs in alert_types; none on a day with nothing to list."
        ),
    )


class SubscriptionPatch(BaseModel):
    """Pause or resume a subscription, or change what it receives; null is refused."""

    model_config = ConfigDict(extra="forbid")

    enabled: Annotated[bool | SkipJsonSchema[None], NotNull] = Field(
        default=None, json_schema_extra=no_default
    )
    alert_types: Annotated[list[RungName] | SkipJsonSchema[None], NotNull] = Field(
        default=None, min_length=1, json_schema_extra=no_default
    )


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    version: int
    channel: Channel
    target: str = Field(description="Without a URL's path and query (they may hold a token).")
    partnerships: list[str]
    alert_types: list[RungName]
    digest: Digest
    enabled: bool
    disabled_reason: str | None
    last_failure_at: datetime | None
    previous_secret_until: datetime | None = Field(
        description="While a rotated secret still signs too (both signatures are sent)."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str | None = Field(
        description="The webhook signing secret (`whsec_…`): shown this once. Null for email."
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret, shown this once.")
    previous_secret_until: datetime = Field(
        description="Until then the old secret signs every message too."
    )


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AttemptRead(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None = Field(description="The kind of failure (e.g. ConnectError), no text.")
    latency_ms: int


class DeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Also the message id receivers see (`webhook-id`).")
    kind: DeliveryKind = Field(
        description=(
            "alert: one alert (alert_id). digest: a daily digest (digest_on). fallback: an "
            "email to a partnership's fallback address saying the delivery fallback_for failed."
        )
    )
    alert_id: uuid.UUID | None
    digest_on: date | None
    fallback_for: uuid.UUID | None
    fallback_to: str | None = Field(description="The address a fallback email went to.")
    subscription_id: uuid.UUID
    status: DeliveryStatus
    attempts: list[AttemptRead]
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class Redelivered(BaseModel):
    redelivering: int = Field(description="How many deliveries will be sent again.")
