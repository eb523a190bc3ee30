"""`review-engine alerts`: run detection and delivery now or on a schedule, and show how it
is doing.

`run` without `--once` runs a round every `REVIEW_ENGINE_ALERT_INTERVAL_MINUTES`, detecting
only while it holds the runner lease (`runner.py`), as `serve` does. Several runners at once
are safe: each rung is one row (a unique constraint). `status` exits 1 when the last run is
older than two intervals, so a monitor can page someone about a stuck runner.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated

import typer

from review_engine.alerts.health import alerts_health, last_run
from review_engine.alerts.runner import Round, holder_name, run_round
from review_engine.cli_support import EXIT_REFUSED, database_session, settings_or_exit
from review_engine.db import utcnow

alerts_app = typer.Typer(no_args_is_help=True, help="Overdue alerts: detection and its status.")


def _report(outcome: Round) -> None:
    found = outcome.detected
    if not outcome.detecting:
        typer.echo("another process holds the runner lease and detects; delivering only")
    elif found is None:
        typer.echo("another runner is detecting now; skipped this round")
    else:
        typer.echo(
            f"alerts as of {found.as_of.isoformat()}: {found.deadlines} deadline(s) on the "
            f"ladder, {found.raised} alert(s) raised, {found.skipped} rung(s) skipped, "
            f"{found.deliveries} delivery(ies) queued"
        )
    sent = outcome.delivered
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
    """Record the alerts every running deadline has reached and send them (once, or on a
    schedule). On a schedule it detects only while it holds the runner lease (so does each
    `serve` process, unless REVIEW_ENGINE_SERVE_ALERTS=false); `--once` detects regardless."""
    settings = settings_or_exit()
    day = as_of.date() if as_of is not None else None
    holder = None if once else holder_name()
    with database_session(settings) as session:
        engine = session.get_bind().engine
        while True:
            _report(run_round(engine, settings, holder=holder, as_of=day))
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
        typer.echo(
            "no detection run yet: is `review-engine serve` (or `alerts run`) running?", err=True
        )
        raise typer.Exit(code=EXIT_REFUSED)
    age = utcnow() - last.finished_at
    minutes = int(age.total_seconds() // 60)
    typer.echo(
        f"last run: {last.finished_at.isoformat(timespec='seconds')} ({minutes} min ago), "
        f"as of {last.as_of.isoformat()}: {last.deadlines} deadline(s) on the ladder, "
        f"{last.raised} raised, {last.skipped} skipped; deliveries: "
        f"{health.pending_deliveries} waiting, {health.failed_deliveries} failed; "
        f"detecting: {health.runner or 'no process holds the lease'}"
    )
    if age > timedelta(minutes=2 * settings.alert_interval_minutes):
        typer.echo(
            f"stale: no run in the last {2 * settings.alert_interval_minutes:g} minutes; "
            "is `review-engine serve` (or `alerts run`) running?",
            err=True,
        )
        raise typer.Exit(code=EXIT_REFUSED)
