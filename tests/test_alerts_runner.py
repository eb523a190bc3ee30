"""The alert runner (`alerts/runner.py`): the runner lease, rounds of detection and delivery
by several runners at once (one detects, all deliver, each alert reaches its receiver once),
`serve` running the runner in its worker processes, `REVIEW_ENGINE_SERVE_ALERTS=false`, a
round that raises, and `alerts run` with and without `--once`. On SQLite and PostgreSQL.

Rounds run on the real clock: actions are due some weeks before today, so each has reached
one rung (raised; the earlier ones skipped) and each subscription gets one alert per action.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

import review_engine.alerts.cli as alerts_cli
import review_engine.alerts.runner as runner_module
from review_engine.alerts.detection import detect
from review_engine.alerts.models import Alert, AlertRun, Delivery, RunnerLease
from review_engine.alerts.runner import Scheduler, ladder_of, release_lease, take_lease
from review_engine.app import create_app, served_app
from review_engine.cli import app as cli
from review_engine.db import create_db_engine, utcnow
from review_engine.deadline_context import clock_context
from review_engine.settings import Settings, get_settings
from tests.cases_helpers import CANARY_NAME
from tests.test_alerts_delivery import Receiver
from tests.test_cli import free_port

Headers = dict[str, str]
T = TypeVar("T")
INTERVAL = 0.02  # minutes: a round every 1.2 s, the lease two intervals (2.4 s)


def wait_for(what: str, condition: Callable[[], T], timeout: float = 20.0) -> T:
    """Polls `condition` until it is truthy (liveness, not speed: the timeout is generous)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def read(session: Session, statement: Any) -> list[Any]:
    """The rows, detached: reading them later must not begin a transaction whose snapshot
    (SQLite) would hide the runners' later commits from the next read."""
    rows = list(session.exec(statement).all())
    session.expunge_all()
    session.rollback()
    return rows


def runs(session: Session) -> list[AlertRun]:
    return read(session, select(AlertRun).order_by(col(AlertRun.id)))


def lease(session: Session) -> RunnerLease:
    [row] = read(session, select(RunnerLease))
    return row


def assert_each_rung_once_and_each_delivery_once(
    session: Session, receiver: Receiver, actions: int
) -> None:
    alerts, deliveries = read(session, select(Alert)), read(session, select(Delivery))
    rungs = Counter((a.subject_id, a.clock, a.rung, a.sequence, a.due_on) for a in alerts)
    assert set(rungs.values()) == {1}
    assert sum(a.state == "raised" for a in alerts) == actions  # the furthest rung of each
    assert [d.status for d in deliveries] == ["delivered"] * actions
    ids = [request.message_id for request in receiver.requests]
    assert len(ids) == len(set(ids)) == actions  # every alert once, none twice
    assert all(request.verified for request in receiver.requests)
    assert set(ids) == {f"msg_{d.id.hex}" for d in deliveries}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    listening = Receiver()
    yield listening
    listening.stop()


@pytest.fixture
def today(settings: Settings) -> date:
    return clock_context(settings).today


@pytest.fixture
def plan(
    client: TestClient, wessex_admin: Headers, receiver: Receiver, today: date
) -> Callable[[int], dict[str, Any]]:
    """Subscribes the receiver to wessex's alerts; `plan(days)` makes an action due `days`
    before today (lead agency Wessex Police)."""

    def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(url, json=body, headers=wessex_admin)
        assert response.status_code == 201, response.text
        return dict(response.json())

    body = {"channel": "webhook", "target": receiver.url, "partnerships": ["wessex"]}
    receiver.secrets.append(post("/subscriptions", body)["secret"])
    post("/partnerships/wessex/agencies", {"name": "Wessex Police"})
    body = {"text": "Share information", "source": "panel_report"}
    recommendation = post("/partnerships/wessex/recommendations", body)

    def make(days: int) -> dict[str, Any]:
        due_on = (today - timedelta(days=days)).isoformat()
        body = {"description": "Audit", "lead_agency": "Wessex Police", "due_on": due_on}
        return post(f"/recommendations/{recommendation['id']}/actions", body)

    return make


@pytest.fixture
def engines(database_url: str) -> Iterator[Callable[[], Engine]]:
    """`engines()`: a new engine on the test database, as another process would have."""
    made: list[Engine] = []

    def make() -> Engine:
        made.append(create_db_engine(database_url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


# --- the lease ------------------------------------------------------------------------------


def test_the_lease_is_renewed_by_its_holder_taken_over_on_expiry_and_released(
    engines: Callable[[], Engine], session: Session
) -> None:
    engine, length, second = engines(), timedelta(seconds=10), timedelta(seconds=1)
    start = utcnow()
    assert take_lease(engine, holder="a", now=start, length=length)
    assert not take_lease(engine, holder="b", now=start + 5 * second, length=length)
    assert take_lease(engine, holder="a", now=start + 5 * second, length=length)  # until +15 s
    assert not take_lease(engine, holder="b", now=start + 12 * second, length=length)
    held = lease(session)
    assert (held.holder, held.expires_at) == ("a", start + 15 * second)

    assert take_lease(engine, holder="b", now=start + 15 * second, length=length)  # expired
    assert not take_lease(engine, holder="a", now=start + 16 * second, length=length)
    release_lease(engine, holder="a")  # not the holder's: no effect
    assert not take_lease(engine, holder="c", now=start + 16 * second, length=length)
    assert not take_lease(engine, holder="c", now=utcnow(), length=length)

    release_lease(engine, holder="b")
    assert take_lease(engine, holder="c", now=utcnow(), length=length)  # at once
    assert not take_lease(engine, holder="b", now=utcnow(), length=length)
    assert lease(session).holder == "c"


# --- several runners ------------------------------------------------------------------------


def test_one_of_three_schedulers_detects_all_deliver_and_another_takes_over_on_stop(
    settings: Settings,
    plan: Callable[[int], dict[str, Any]],
    receiver: Receiver,
    session: Session,
    engines: Callable[[], Engine],
    today: date,
) -> None:
    for days in (20, 30, 40):
        plan(days)
    with Session(engines()) as queue:  # queued before: every runner's first pass sees them
        found = detect(
            session=queue,
            calendar=clock_context(settings).calendar,
            ladder=ladder_of(settings),
            as_of=today,
            started_at=utcnow(),
        )
    assert found is not None
    assert found.deliveries == 3
    fast = settings.model_copy(update={"alert_interval_minutes": INTERVAL})
    schedulers = [Scheduler(engines(), fast) for _ in range(3)]  # each as its own process
    try:
        for scheduler in schedulers:
            scheduler.start()
        wait_for("three alerts", lambda: len(receiver.requests) >= 3)
        wait_for("three rounds by the runners", lambda: len(runs(session)) >= 1 + 3)
        plan(25)  # raised while the runners run
        wait_for("the fourth alert", lambda: len(receiver.requests) >= 4)
        before = len(runs(session))
        wait_for("two more rounds", lambda: len(runs(session)) >= before + 2)
        runners = {run.runner for run in runs(session)[1:]}  # the first was the one above
        assert len(runners) == 1, runners
        [holder] = runners
        [leader] = [scheduler for scheduler in schedulers if scheduler.holder == holder]
        assert lease(session).holder == holder
        leader.stop()
        assert lease(session).expires_at <= utcnow()  # released, not left to expire
        stopped_at = len(runs(session))
        wait_for("two rounds by another", lambda: len(runs(session)) >= stopped_at + 2)
        successors = {run.runner for run in runs(session)[stopped_at:]}
        assert holder not in successors
        assert len(successors) == 1
        assert successors <= {scheduler.holder for scheduler in schedulers}
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    assert_each_rung_once_and_each_delivery_once(session, receiver, actions=4)


# --- serve, in real worker processes ------------------------------------------------------


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_serve_runs_the_runner_in_its_workers_and_one_of_them_detects(
    database_url: str,
    plan: Callable[[int], dict[str, Any]],
    receiver: Receiver,
    session: Session,
    tmp_path: Path,
) -> None:
    plan(30)
    port = free_port()
    env = {name: value for name, value in os.environ.items() if "REVIEW_ENGINE" not in name}
    env |= {
        "REVIEW_ENGINE_DATABASE_URL": database_url,
        "REVIEW_ENGINE_ALERT_INTERVAL_MINUTES": str(INTERVAL),
        "REVIEW_ENGINE_ALLOW_PRIVATE_TARGETS": "true",
    }
    command = [str(Path(sys.executable).with_name("review-engine")), "serve", "--port", str(port)]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(  # its own process group: killed whole if the test fails
            [*command, "--workers", "2"],
            env=env,
            cwd=tmp_path,  # no stray .env
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def ready() -> dict[str, Any] | None:
            assert server.poll() is None, log_path.read_text()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            except httpx.TransportError:
                return None
            if answer.status_code != 200:
                return None
            alerts: dict[str, Any] = answer.json()["alerts"]
            return alerts if alerts["last_run_at"] else None

        alerts = wait_for("/readyz to show a run", ready, timeout=30)
        assert alerts["pending_deliveries"] in (0, 1)
        wait_for("the alert", lambda: receiver.requests, timeout=30)
        wait_for("four rounds", lambda: len(runs(session)) >= 4, timeout=30)
        runners = {run.runner for run in runs(session)}
        assert len(runners) == 1, runners  # both workers live: one detects
        [holder] = runners
        assert holder is not None
        worker = int(holder.split(":")[-2])
        assert worker not in (os.getpid(), server.pid)
        assert parent_of(worker) == server.pid  # a worker process of the server

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    log = log_path.read_text()
    for trouble in ("Traceback", "alert round failed", "locked", "ERROR"):
        assert trouble not in log, log
    assert lease(session).expires_at <= utcnow()  # the worker's shutdown released it
    assert_each_rung_once_and_each_delivery_once(session, receiver, actions=1)


# --- no runner in the app when told so ------------------------------------------------------


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> Iterator[pytest.MonkeyPatch]:
    """Settings from the environment only (REVIEW_ENGINE_DATABASE_URL is the test's)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_no_round_runs_when_serve_alerts_is_false_or_the_app_is_made_without_it(
    environment: pytest.MonkeyPatch, settings: Settings, session: Session
) -> None:
    environment.setenv("REVIEW_ENGINE_ALERT_INTERVAL_MINUTES", "0.005")  # 0.3 s
    environment.setenv("REVIEW_ENGINE_SERVE_ALERTS", "false")
    fast = settings.model_copy(update={"alert_interval_minutes": 0.005})
    for app in (served_app(), create_app(fast)):
        with TestClient(app) as client:
            time.sleep(1.5)  # five intervals
            assert client.get("/readyz").json()["alerts"]["last_run_at"] is None
    assert runs(session) == []
    assert read(session, select(RunnerLease)) == []

    environment.delenv("REVIEW_ENGINE_SERVE_ALERTS")  # the default: serve runs it
    get_settings.cache_clear()
    with TestClient(served_app()) as client:
        wait_for("a round", lambda: client.get("/readyz").json()["alerts"]["last_run_at"])
    assert len({run.runner for run in runs(session)}) == 1


# --- a round that fails ---------------------------------------------------------------------


class Broken(Exception):
    pass


def test_a_round_that_raises_is_logged_by_its_class_only_and_the_next_round_runs(
    settings: Settings,
    session: Session,
    engines: Callable[[], Engine],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[date] = []

    def fails_once(**kwargs: Any) -> Any:
        calls.append(kwargs["as_of"])
        if len(calls) == 1:
            raise Broken(f"the case of {CANARY_NAME}")
        return detect(**kwargs)  # the real one

    monkeypatch.setattr(runner_module, "detect", fails_once)
    caplog.set_level(logging.ERROR, logger=runner_module.__name__)
    scheduler = Scheduler(engines(), settings.model_copy(update={"alert_interval_minutes": 0.005}))
    scheduler.start()
    try:
        run = wait_for("a round after the failed one", lambda: runs(session))[0]
    finally:
        scheduler.stop()
    assert run.runner == scheduler.holder
    assert len(calls) >= 2
    [record] = [r for r in caplog.records if r.name == runner_module.__name__]
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "alert round failed: Broken")
    assert record.exc_info is None
    assert CANARY_NAME not in caplog.text


# --- alerts run -----------------------------------------------------------------------------


class Stop(Exception):
    pass


def test_alerts_run_on_a_schedule_respects_the_lease_and_once_ignores_it(
    environment: pytest.MonkeyPatch,
    engines: Callable[[], Engine],
    session: Session,
    today: date,
) -> None:
    engine, runner, elsewhere = engines(), CliRunner(), "elsewhere:1:cafe"
    assert take_lease(engine, holder=elsewhere, now=utcnow(), length=timedelta(hours=1))

    once = runner.invoke(cli, ["alerts", "run", "--once"])
    assert once.exit_code == 0, once.output
    assert once.stdout.startswith(f"alerts as of {today.isoformat()}: 0 deadline(s)")
    assert [run.runner for run in runs(session)] == [None]

    def stop(seconds: float) -> None:
        raise Stop(seconds)

    environment.setattr(alerts_cli, "time", SimpleNamespace(sleep=stop))  # after one round
    looped = runner.invoke(cli, ["alerts", "run"])
    assert isinstance(looped.exception, Stop), looped.output
    assert looped.stdout.splitlines()[0] == (
        "another process holds the runner lease and detects; delivering only"
    )
    assert len(runs(session)) == 1
    assert lease(session).holder == elsewhere

    release_lease(engine, holder=elsewhere)
    looped = runner.invoke(cli, ["alerts", "run"])
    assert isinstance(looped.exception, Stop), looped.output
    assert looped.stdout.startswith(f"alerts as of {today.isoformat()}")
    assert runs(session)[-1].runner == lease(session).holder != elsewhere
