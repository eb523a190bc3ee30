"""How the alert runner is doing, for `/readyz` and `review-engine alerts status`: its last
run, and the outbox's backlog. Counts and times only: nothing about any case."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from review_engine.alerts.models import LEASE_NAME, AlertRun, Delivery, RunnerLease
from review_engine.db import utcnow

__all__ = ["AlertsHealth", "alerts_health", "last_run"]


class AlertsHealth(BaseModel):
    """The alert runner's last run and the deliveries waiting or failed."""

    last_run_at: datetime | None = Field(description="When detection last finished.")
    last_run_as_of: date | None
    pending_deliveries: int = Field(description="In the outbox, not yet sent.")
    failed_deliveries: int = Field(description="Given up after about three days of retries.")
    runner: str | None = Field(
        description=(
            "The process that detects (host:pid:tag) while its lease runs; null when none "
            "holds it (no runner has run for two intervals)."
        )
    )


def last_run(session: Session) -> AlertRun | None:
    return session.exec(
        select(AlertRun).order_by(col(AlertRun.finished_at).desc(), col(AlertRun.id).desc())
    ).first()


def alerts_health(session: Session) -> AlertsHealth:
    run = last_run(session)
    counts = dict(
        session.exec(
            select(Delivery.status, func.count())
            .where(col(Delivery.status).in_(("pending", "failed")))
            .group_by(col(Delivery.status))
        ).all()
    )
    lease = session.get(RunnerLease, LEASE_NAME)
    return AlertsHealth(
        runner=lease.holder if lease is not None and lease.expires_at > utcnow() else None,
        last_run_at=run.finished_at if run else None,
        last_run_as_of=run.as_of if run else None,
        pending_deliveries=counts.get("pending", 0),
        failed_deliveries=counts.get("failed", 0),
    )
