"""The alert runner: a round is detection, by whichever process holds the runner lease, then
a pass of the delivery worker, by every process (they share the outbox: `outbox.claim_due`).

The lease is a row (`runner_lease`), so exactly one process detects at a time across
processes and machines, on SQLite as on PostgreSQL: the holder renews it each round; when
the holder stops renewing (it died), another takes over once the lease has expired (two
intervals). On PostgreSQL detection also takes an advisory transaction lock, so a manual
`review-engine alerts run --once` (which ignores the lease) never detects alongside it; in
any case each rung is one row (`uq_alert_rung`).

`serve` runs rounds in a background thread of each server process (`Scheduler`);
`review-engine alerts run` runs them in the foreground.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from review_engine.alerts.deliver import Delivered, WorkerSettings, deliver_due
from review_engine.alerts.detection import Detected, detect
from review_engine.alerts.ladder import Ladder
from review_engine.alerts.mail import SmtpSettings
from review_engine.alerts.models import LEASE_NAME, RunnerLease
from review_engine.db import utcnow
from review_engine.deadline_context import clock_context
from review_engine.settings import Settings

__all__ = [
    "Round",
    "Scheduler",
    "holder_name",
    "ladder_of",
    "release_lease",
    "run_round",
    "take_lease",
    "worker_settings",
]

log = logging.getLogger(__name__)


def holder_name() -> str:
    """This process, as the lease names it: host, process id and a random tag."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def ladder_of(settings: Settings) -> Ladder:
    return Ladder(
        due_soon_working_days=settings.due_soon_working_days,
        reminder_every_working_days=settings.alert_reminder_working_days,
    )


def worker_settings(settings: Settings) -> WorkerSettings:
    return WorkerSettings(
        allow_private_targets=settings.allow_private_targets,
        public_base_url=settings.public_base_url,
        smtp=SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            sender=settings.smtp_from,
        ),
        ladder=ladder_of(settings),
    )


def lease_length(settings: Settings) -> timedelta:
    """Two intervals: one slow round does not lose the lease; a dead holder's is taken over
    within two intervals."""
    return timedelta(minutes=2 * settings.alert_interval_minutes)


def take_lease(engine: Engine, *, holder: str, now: datetime, length: timedelta) -> bool:
    """Takes or renews the runner lease for `holder`; False while another holds it."""
    until = now + length
    with Session(engine) as session:
        renewed = session.execute(
            update(RunnerLease)
            .where(
                col(RunnerLease.name) == LEASE_NAME,
                or_(col(RunnerLease.holder) == holder, col(RunnerLease.expires_at) <= now),
            )
            .values(holder=holder, expires_at=until)
        )
        if renewed.rowcount == 1:  # type: ignore[attr-defined]
            session.commit()
            return True
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        first = session.execute(
            dialect.insert(RunnerLease)
            .values(name=LEASE_NAME, holder=holder, expires_at=until)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(col(RunnerLease.name))
        ).first()
        session.commit()
        return first is not None


def release_lease(engine: Engine, *, holder: str) -> None:
    with Session(engine) as session:
        session.execute(
            update(RunnerLease)
            .where(col(RunnerLease.name) == LEASE_NAME, col(RunnerLease.holder) == holder)
            .values(expires_at=utcnow())
        )
        session.commit()


@dataclass(frozen=True)
class Round:
    """One round: what detection found (None: another process detects; or it was skipped
    for another runner at that moment), and what delivery did."""

    detected: Detected | None
    delivered: Delivered
    detecting: bool  # this process held the lease (or ignored it)


def digests_due(settings: Settings, as_of: date, now: datetime) -> bool:
    """Whether the day's digests may go out: from `alert_digest_hour` on the day itself;
    at any time for a day given explicitly that is not today."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    return as_of != local.date() or local.hour >= settings.alert_digest_hour


def run_round(
    engine: Engine, settings: Settings, *, holder: str | None, as_of: date | None = None
) -> Round:
    """Detection (if `holder` takes the lease; with no holder, regardless of it), then a
    delivery pass."""
    context = clock_context(settings)
    day = as_of or context.today
    now = utcnow()
    detecting = holder is None or take_lease(
        engine, holder=holder, now=now, length=lease_length(settings)
    )
    found = None
    if detecting:
        with Session(engine) as session:
            found = detect(
                session=session,
                calendar=context.calendar,
                ladder=ladder_of(settings),
                as_of=day,
                started_at=now,
                digests=digests_due(settings, day, now),
                runner=holder,
            )
    sent = deliver_due(
        engine=engine,
        calendar=context.calendar,
        now=utcnow(),
        today=context.today,
        settings=worker_settings(settings),
    )
    return Round(detected=found, delivered=sent, detecting=detecting)


class Scheduler:
    """Rounds every `alert_interval_minutes` in a daemon thread, until `stop()`. An error
    in a round is logged (its class only: no case data) and the next round runs."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.holder = holder_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ends the thread after its round, and gives up the lease so another process
        takes over detection at its next round rather than after the lease expires."""
        self._stop.set()
        self._thread.join(timeout)
        release_lease(self.engine, holder=self.holder)

    def _run(self) -> None:
        interval = self.settings.alert_interval_minutes * 60
        while not self._stop.is_set():
            try:
                run_round(self.engine, self.settings, holder=self.holder)
            except Exception as exc:  # noqa: BLE001  -- the runner must outlive one bad round
                log.error("alert round failed: %s", type(exc).__name__)
            self._stop.wait(interval)
