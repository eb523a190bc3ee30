"""`review-engine alerts`: run detection and delivery now or on a schedule, and show how it
is doing.

`run` without `--once` detects every `REVIEW_ENGINE_ALERT_INTERVAL_MINUTES`. Several runners
at once are safe: each rung is one row (a unique constraint), and on PostgreSQL a runner
that finds another detecting skips that round (an advisory lock); SQLite serialises them.
`status` exits 1 when the last run is older than two intervals, so a monitor can page
someone about a stuck runner.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Annotated

import typer

from review_engine.alerts.deliver import WorkerSettings, deliver_due
from review_engine.alerts.detection import detect
from review_engine.alerts.health import alerts_health, last_run
from review_engine.alerts.ladder import Ladder
from review_engine.alerts.mail import SmtpSettings
from review_engine.cli_support import EXIT_REFUSED, database_session, settings_or_exit
from review_engine.db import utcnow
from review_engine.deadline_context import clock_context
from review_engine.settings import Settings

alerts_app = typer.Typer(no_args_is_help=True, help="Overdue alerts: detection and its status.")


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
    )


def _run_once(settings: Settings, as_of: date | None) -> None:
    """Detection, then a pass of the delivery worker over the outbox."""
    context = clock_context(settings)
    with database_session(settings) as session:
        found = detect(
            session=session,
            calendar=context.calendar,
            ladder=ladder_of(settings),
            as_of=as_of or context.today,
            started_at=utcnow(),
        )
        engine = session.get_bind().engine
        if found is None:
            typer.echo("another runner is detecting now; skipped this round")
        else:
            typer.echo(
                f"alerts as of {found.as_of.isoformat()}: {found.deadlines} deadline(s) on the "
                f"ladder, {found.raised} alert(s) raised, {found.skipped} rung(s) skipped"
            )
        sent = deliver_due(
            engine=engine,
            calendar=context.calendar,
            now=utcnow(),
            today=context.today,
            settings=worker_settings(settings),
        )
    typer.echo(
        f"deliveries: {sent.delivered} delivered, {sent.retrying} to retry, "
        f"{sent.failed} failed, {sent.cancelled} cancelled (no longer due)"
    )


@alerts_app.command("run")
def alerts_run(
    once: Annotated[bool, typer.Option("--once", help="Detect once and exit.")] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            formats=["%Y-%m-%d"],
            help="Detect as of this day (default: today in REVIEW_ENGINE_TIMEZONE).",
        ),
    ] = None,
) -> None:
    """Record the alerts every running deadline has reached (once, or on a schedule)."""
    settings = settings_or_exit()
    day = as_of.date() if as_of is not None else None
    while True:
        _run_once(settings, day)
        if once:
            return
        time.sleep(settings.alert_interval_minutes * 60)


@alerts_app.command("status")
def alerts_status() -> None:
    """The last detection run; exit 1 if it is older than two intervals (a stuck runner)."""
    settings = settings_or_exit()
    with database_session(settings) as session:
        last = last_run(session)
        health = alerts_health(session)
    if last is None:
        typer.echo("no detection run yet: start `review-engine alerts run`", err=True)
        raise typer.Exit(code=EXIT_REFUSED)
    age = utcnow() - last.finished_at
    minutes = int(age.total_seconds() // 60)
    typer.echo(
        f"last run: {last.finished_at.isoformat(timespec='seconds')} ({minutes} min ago), "
        f"as of {last.as_of.isoformat()}: {last.deadlines} deadline(s) on the ladder, "
        f"{last.raised} raised, {last.skipped} skipped; deliveries: "
        f"{health.pending_deliveries} waiting, {health.failed_deliveries} failed"
    )
    if age > timedelta(minutes=2 * settings.alert_interval_minutes):
        typer.echo(
            f"stale: no run in the last {2 * settings.alert_interval_minutes} minutes; "
            "is `review-engine alerts run` running?",
            err=True,
        )
        raise typer.Exit(code=EXIT_REFUSED)
