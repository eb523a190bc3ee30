"""The alerts tables: each rung of each deadline's ladder recorded once, each run of
detection, the subscriptions alerts go to, and the outbox of deliveries with their attempts.

`uq_alert_rung` is what makes detection idempotent: a rung of a deadline due on a day is
one row, however many runs (or runners at once) find it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from review_engine.alerts.ladder import RUNGS
from review_engine.db import one_of, utcnow

AlertSubject = Literal["case", "action", "contribution"]
AlertState = Literal["raised", "skipped"]
SUBJECTS: tuple[str, ...] = get_args(AlertSubject)
STATES: tuple[str, ...] = get_args(AlertState)

ACTION_CLOCK = "action_due"
CONTRIBUTION_CLOCK = "contribution_due"
"""The clock names of an action's and a contribution's due date (a case's clocks are named
by `review_engine.clocks.CLOCKS`)."""


class Alert(SQLModel, table=True):
    """One rung of one deadline's ladder: raised (to be sent) or skipped (reached while
    nobody was looking: recorded, never sent late)."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint(
            "subject_type",
            "subject_id",
            "clock",
            "rung",
            "sequence",
            "due_on",
            name="uq_alert_rung",
        ),
        CheckConstraint(one_of("subject_type", SUBJECTS), name="subject_type"),
        CheckConstraint(one_of("rung", RUNGS), name="rung"),
        CheckConstraint(one_of("state", STATES), name="state"),
        Index("ix_alert_listing", "partnership_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subject_type: str = Field(max_length=20)
    subject_id: uuid.UUID
    clock: str = Field(max_length=40)
    rung: str = Field(max_length=20)
    sequence: int = 0  # reminders count from 1; other rungs are 0
    due_on: date
    starts_on: date  # the day the rung was reached
    state: str = Field(max_length=10)
    partnership_id: uuid.UUID = Field(foreign_key="partnership.id")
    case_id: uuid.UUID | None = Field(default=None, foreign_key="review_case.id")
    detected_on: date  # the `as_of` of the run that recorded it
    created_at: datetime = Field(default_factory=utcnow)


class AlertProgress(SQLModel, table=True):
    """How far detection has got with one deadline (subject, clock, due date): every rung
    starting before `next_on` is recorded. A run checks a deadline with no row, a row
    worked out on another ladder or calendar, or a `next_on` on or before its day, and no
    other: a run with nothing new reads no deadline. A row is only a shortcut (a missing
    one means "check"), so rows not checked for `PROGRESS_KEPT` are deleted."""

    __tablename__ = "alert_progress"

    subject_type: str = Field(primary_key=True, max_length=20)
    subject_id: uuid.UUID = Field(primary_key=True)
    clock: str = Field(primary_key=True, max_length=40)
    due_on: date = Field(primary_key=True)
    next_on: date | None  # None: no rung ever again (overdue, and no reminders)
    ladder: str = Field(max_length=16)  # `Ladder.fingerprint`: the rungs' days depend on it
    checked_on: date = Field(index=True)  # the `as_of` of the run that wrote it


class AlertRun(SQLModel, table=True):
    """One run of detection, for `alerts status`: when, as of what day, what it found."""

    __tablename__ = "alert_run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    started_at: datetime
    finished_at: datetime = Field(default_factory=utcnow, index=True)
    deadlines: int  # running deadlines whose ladder had begun
    raised: int
    skipped: int
    runner: str | None = Field(default=None, max_length=100)  # the lease holder that ran it


LEASE_NAME = "alert-detection"
"""The runner lease's row: whoever holds it detects (`runner.py`)."""


class RunnerLease(SQLModel, table=True):
    """Who runs detection: one holder at a time, until `expires_at` (renewed each round).
    A row, so it works on SQLite as well as PostgreSQL and across machines."""

    __tablename__ = "runner_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=100)
    expires_at: datetime


Channel = Literal["webhook", "teams", "email"]
Digest = Literal["none", "daily"]
DeliveryStatus = Literal["pending", "delivered", "failed", "cancelled"]
DeliveryKind = Literal["alert", "digest", "fallback"]
CHANNELS: tuple[str, ...] = get_args(Channel)
DIGESTS: tuple[str, ...] = get_args(Digest)
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)
DELIVERY_KINDS: tuple[str, ...] = get_args(DeliveryKind)

_subscription_version = Column("version", Integer, nullable=False)


class Subscription(SQLModel, table=True):
    """Where a partnership's alerts go: a webhook (signed, Standard Webhooks), a Teams
    channel or an email address."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("digest", DIGESTS), name="digest"),
    )
    __mapper_args__ = {"version_id_col": _subscription_version}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(default=1, sa_column=_subscription_version)
    channel: str = Field(max_length=10)
    target: str = Field(max_length=2000)
    partnerships: list[str] = Field(default_factory=list, sa_type=JSON)  # their codes
    alert_types: list[str] = Field(default_factory=list, sa_type=JSON)  # rung names
    digest: str = Field(default="none", max_length=10)
    # The signing secret (webhooks), and the one it replaced while both are sent.
    secret: str | None = Field(default=None, max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = None
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    last_failure_at: datetime | None = None
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """The outbox: one message to one subscription, sent by a worker. Its id is the message
    id a receiver sees on every attempt (`webhook-id`). A message is one of:

    - `alert`: one raised alert, written with the alert;
    - `digest`: a daily digest subscription's message for `digest_on` (what it lists is
      read when it is sent, so it is never stale);
    - `fallback`: an email to a partnership's fallback address (`target`) saying that the
      delivery `fallback_for` failed, with what it was to say.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "subscription_id", name="uq_delivery_alert"),
        UniqueConstraint("subscription_id", "digest_on", name="uq_delivery_digest"),
        UniqueConstraint("fallback_for", "target", name="uq_delivery_fallback"),
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(one_of("kind", DELIVERY_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'alert' AND alert_id IS NOT NULL AND digest_on IS NULL"
            " AND fallback_for IS NULL)"
            " OR (kind = 'digest' AND digest_on IS NOT NULL AND alert_id IS NULL"
            " AND fallback_for IS NULL)"
            " OR (kind = 'fallback' AND fallback_for IS NOT NULL AND target IS NOT NULL"
            " AND alert_id IS NULL AND digest_on IS NULL)",
            name="kind_fields",
        ),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_listing", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(default="alert", max_length=10)
    alert_id: uuid.UUID | None = Field(default=None, foreign_key="alert.id")
    digest_on: date | None = None
    fallback_for: uuid.UUID | None = Field(default=None, foreign_key="delivery.id")
    target: str | None = Field(default=None, max_length=320)  # a fallback's address
    subscription_id: uuid.UUID = Field(foreign_key="subscription.id", index=True)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=100)  # an error's class, no text
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DeliveryAttempt(SQLModel, table=True):
    """One attempt to send a delivery: when, the answer's status code or the error's class,
    and how long it took. Never the response body."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index("ix_delivery_attempt_delivery", "delivery_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="delivery.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=100)
    latency_ms: int
