"""A load run of the production topology: `review-engine serve --workers N` with its alert
runner off, one separate `review-engine alerts run`, and many scoped clients at once.

    python benchmarks/load.py                           # PostgreSQL, at the default URL below
    python benchmarks/load.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/load.py --sqlite --duration 20   # a quick run on a SQLite file
    python benchmarks/load.py --clients 200 --duration 60 --workers 2   # the defaults

A throwaway database (support.database), migrated, with an admin key, 135 partnerships made
by the service (scp-000 ...) and per partnership a member key scoped to it (member: the least
role that creates cases and fires events, MemberDep in cases/router.py and event_routes.py).
The server (REVIEW_ENGINE_SERVE_ALERTS=false) and the runner (a round every 15 s:
REVIEW_ENGINE_ALERT_INTERVAL_MINUTES=0.25) use 127.0.0.1 only, log to temporary files and
are stopped at the end, even on error. Before the timed window each partnership gets, through
the API, 8 cases aware 0 to 120 days ago, each taken 0 to 3 events along benchmarks/api.py's
EVENTS (dates moved with aware_on, none after yesterday): deadlines pending, due soon and
overdue for the runner. Then the runner starts and `--clients` clients (client i with
partnership i % 135's key, owning its share of that partnership's cases) loop for
`--duration` s over a mix: 50% GET /cases/{id}, 15% GET /cases?partnership=code&limit=50,
15% GET /cases?overdue=true&limit=50, 15% the next event of one of its cases (If-Match: its
ETag), 5% POST /cases; every POST with a new Idempotency-Key. A case has one owner, so a 412
cannot happen: it is an error, as is any exception or other non-2xx answer, an ERROR or
Traceback line in the server's log, or an alert runner that exits.

The clients are threads, one httpx.Client (one keep-alive connection) each, connected before
the window: here, with 200 clients, httpx's sync client spent ~0.7 ms of CPU a request and
httpx.AsyncClient on one event loop ~1.1 ms, and the 2 CPUs are shared by the clients, the
server and the database, so the client's CPU is taken from the server (it is printed).

Prints the command line, versions, the config, CPU count and load average before/after; a
table request kind | count | p50 ms | p99 ms | errors (the setup rows are not in the rate);
requests/s in the window; what the alert runner did (its rounds as it logged them, the
`alert_run` rows, the `alert` rows by rung and state, the deliveries, `alerts status`); then
each kind of error with its first answer, and the server log's first error and tail. Exits 1
on any error.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import random
import re
import shlex
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from api import EVENTS  # benchmarks/api.py, beside this script
from compare import App, describe, serving
from sqlalchemy import func
from sqlmodel import Session, col, select
from support import database, migrated_with_admin_key

from review_engine.alerts.models import Alert, AlertRun, Delivery
from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.db import create_db_engine
from review_engine.partnerships.schemas import PartnershipCreate
from review_engine.partnerships.service import create_partnership

PARTNERSHIPS = 135
CASES_EACH = 8  # made per partnership before the window
INTERVAL_MINUTES = "0.25"
MIX = {"read case": 50, "list partnership": 15, "list overdue": 15, "transition": 15}
MIX["create"] = 5
EVENTS_FROM = date(2026, 6, 1)  # the aware_on EVENTS' dates were written for
LATEST = date.today() - timedelta(days=1)  # no date after it (the server's today may lag)
COMMAND = str(Path(sys.executable).with_name("review-engine"))
SSL = ssl.create_default_context()  # unused (http), but httpx makes one a client: ~25 ms CPU
RAISED = re.compile(r"[\w.]+(Error|Exception):")  # an exception's last line in a traceback


@dataclass
class Case:
    id: str
    etag: str
    aware_on: date
    step: int = 0  # EVENTS fired so far


@dataclass
class Tally:
    """Every response: seconds by kind, failures by (kind, what), the first of each."""

    spent: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    first: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self, http: httpx.Client, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        """The response if it succeeded, else None (counted as an error)."""
        started, failure, detail, response = time.perf_counter(), "", "", None
        try:
            response = http.request(method, path, **kw)
            if not response.is_success:
                failure, detail = str(response.status_code), response.text[:600]
        except httpx.HTTPError as exc:
            failure, detail = type(exc).__name__, str(exc)[:600]
        spent = time.perf_counter() - started
        with self.lock:
            self.spent[kind].append(spent)
            if failure:
                self.errors[kind, failure] += 1
                when = time.strftime("%H:%M:%S", time.gmtime())  # UTC, as alert_run's times
                self.first.setdefault((kind, failure), f"{when} {method} {path}: {detail}")
        return None if failure else response


def create(
    tally: Tally, http: httpx.Client, kind: str, code: str, rng: random.Random
) -> Case | None:
    """A new case of partnership `code` (None if it failed)."""
    aware_on = LATEST - timedelta(days=rng.randint(0, 120))
    body = {"partnership": code, "reference": f"LOAD-{uuid.uuid4().hex[:12]}"}
    body |= {"incident_type": "serious_harm", "aware_on": str(aware_on)}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    made = tally.send(http, kind, "POST", "/cases", json=body, headers=headers)
    return None if made is None else Case(made.json()["id"], made.headers["ETag"], aware_on)


def advance(tally: Tally, http: httpx.Client, kind: str, case: Case) -> None:
    """Fires the case's next event, its dates moved with aware_on (none after LATEST)."""
    event, payload = EVENTS[case.step]
    shift = case.aware_on - EVENTS_FROM
    moved = {
        name: str(min(date.fromisoformat(value) + shift, LATEST)) if name.endswith("_on") else value
        for name, value in payload.items()
    }
    headers = {"If-Match": case.etag, "Idempotency-Key": str(uuid.uuid4())}
    path = f"/cases/{case.id}/events/{event}"
    done = tally.send(http, kind, "POST", path, json=moved, headers=headers)
    if done is not None:
        case.etag, case.step = done.headers["ETag"], case.step + 1


def prepare(url: str) -> list[str]:
    """Migrates, makes the admin key, the partnerships and each partnership's member key."""
    migrated_with_admin_key(url)
    engine, keys = create_db_engine(url), []
    with Session(engine) as session:
        for n in range(PARTNERSHIPS):
            data = PartnershipCreate(code=f"scp-{n:03d}", name=f"Partnership {n}")
            code = create_partnership(session=session, data=data).code
            made = create_api_key(
                session=session, name=f"load-{code}", role=Role.MEMBER, partnership_codes=[code]
            )
            keys.append(made[1])
    engine.dispose()
    return keys


def client(app: App, key: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=app.base, headers=auth, timeout=60, verify=SSL)


def seed(app: App, keys: list[str], tally: Tally) -> list[list[Case]]:
    """Each partnership's cases, made and moved on through the API by 20 clients at once."""

    def one(n: int) -> list[Case]:
        rng, code, made = random.Random(n), f"scp-{n:03d}", []
        with client(app, keys[n]) as http:
            for _ in range(CASES_EACH):
                if case := create(tally, http, "setup create", code, rng):
                    for _ in range(rng.randint(0, len(EVENTS) - 1)):
                        advance(tally, http, "setup transition", case)
                    made.append(case)
        return made

    with ThreadPoolExecutor(20) as pool:
        return list(pool.map(one, range(PARTNERSHIPS)))


def load(
    app: App, keys: list[str], cases: list[list[Case]], tally: Tally, clients: int, seconds: float
) -> float:
    """`clients` threads, connected first, for `seconds`; returns the window's length."""
    https = [client(app, keys[number % PARTNERSHIPS]) for number in range(clients)]
    kinds, weights, go, stop = list(MIX), list(MIX.values()), threading.Event(), [0.0]

    def run(number: int) -> None:
        n = number % PARTNERSHIPS
        sharing = len(range(n, clients, PARTNERSHIPS))  # the clients of partnership n
        mine = cases[n][number // PARTNERSHIPS :: sharing]
        rng, code = random.Random(number), f"scp-{n:03d}"
        go.wait()
        with https[number] as http:
            while time.perf_counter() < stop[0]:
                kind = rng.choices(kinds, weights)[0]
                running = [case for case in mine if case.step < len(EVENTS)]
                if kind == "create" or not mine or (kind == "transition" and not running):
                    if case := create(tally, http, "create", code, rng):
                        mine.append(case)
                elif kind == "transition":
                    advance(tally, http, kind, rng.choice(running))
                elif kind == "read case":
                    tally.send(http, kind, "GET", f"/cases/{rng.choice(mine).id}")
                else:
                    which = {"partnership": code} if kind == "list partnership" else {}
                    query = {**(which or {"overdue": "true"}), "limit": 50}
                    tally.send(http, kind, "GET", "/cases", params=query)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    stop[0] = started + seconds
    go.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process logging to `log`, stopped afterwards (SIGTERM, then SIGKILL)."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def alert_summary(url: str) -> list[str]:
    """What the runner left in the database: its runs, the alerts, the deliveries."""
    engine = create_db_engine(url)
    with Session(engine) as session:
        runs = session.exec(select(AlertRun).order_by(col(AlertRun.finished_at))).all()
        rungs = select(Alert.rung, Alert.state, func.count()).group_by(Alert.rung, Alert.state)
        alerts = sorted(session.exec(rungs).all())
        sent = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status))
        deliveries = ", ".join(f"{status} {count}" for status, count in sent)
    engine.dispose()
    lines = [f"alert_run rows: {len(runs)}"]
    for run in runs:
        lines.append(
            f"  {run.finished_at:%H:%M:%S} as of {run.as_of}: {run.deadlines} deadlines on the "
            f"ladder, {run.raised} raised, {run.skipped} skipped, in "
            f"{(run.finished_at - run.started_at).total_seconds():.2f} s"
        )
    counts = ", ".join(f"{rung} {state} {count}" for rung, state, count in alerts)
    lines.append(f"alert rows: {sum(count for *_, count in alerts)} ({counts})")
    return [*lines, f"delivery rows: {deliveries or 'none (no subscriptions)'}"]


def lines_of(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines() if log.exists() else []


def excerpt(logged: list[str]) -> list[str]:
    """A server log's first error (the engine's frames, the last two), then its tail."""
    start = next((n for n, line in enumerate(logged) if line.startswith("ERROR")), len(logged))
    end = next((n for n in range(start + 1, len(logged)) if logged[n].startswith("INFO")), start)
    shown = [line for line in logged[start:end] if line.strip(" ^~")]  # not the ^^^ marks
    ours = [n for n, line in enumerate(shown) if "/review_engine/" in line]
    first = [*shown[:2], *(line for n in ours for line in shown[n : n + 2]), "...", *shown[-4:]]
    return [*(first if shown else ["(no ERROR line)"]), "... the log's tail:", *logged[-12:]]


def ms(spent: list[float], cut: int) -> float:
    if not spent:
        return float("nan")
    return 1000 * (statistics.quantiles(spent, n=100)[cut - 1] if len(spent) > 1 else spent[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    args = parser.parse_args()
    tally, failures, loads = Tally(), [], [os.getloadavg()]
    logs = Path(tempfile.mkdtemp(prefix="review-engine-load-"))
    server_log, runner_log = logs / "server.log", logs / "alerts.log"
    with database(None if args.sqlite else args.postgres) as url:
        backend, keys = describe(url), prepare(url)
        env = {
            "REVIEW_ENGINE_DATABASE_URL": url,
            "REVIEW_ENGINE_SERVE_ALERTS": "false",
            "REVIEW_ENGINE_DOCS_ENABLED": "false",
            "REVIEW_ENGINE_ALERT_INTERVAL_MINUTES": INTERVAL_MINUTES,
        }
        # `serving` appends --host 127.0.0.1 --port P; the shell only sends the log to a file.
        to_log = ["sh", "-c", 'exec "$@" >>"$LOAD_SERVER_LOG" 2>&1', "sh"]
        serve = [COMMAND, "serve", "--workers", str(args.workers)]
        app = App("engine", to_log + serve, {**env, "LOAD_SERVER_LOG": str(server_log)})
        try:
            with serving(app):
                print(f"{backend}: seeding {PARTNERSHIPS * CASES_EACH} cases ...", flush=True)
                cases = seed(app, keys, tally)
                with running([COMMAND, "alerts", "run"], env, runner_log) as runner:
                    print(f"{args.clients} clients for {args.duration:g} s ...", flush=True)
                    cpu = time.process_time()
                    elapsed = load(app, keys, cases, tally, args.clients, args.duration)
                    cpu = time.process_time() - cpu
                    if runner.poll() is not None:
                        said = [line for line in lines_of(runner_log) if "error" in line]
                        failures.append(f"the alert runner exited ({runner.returncode}): {said}")
                    ask = [COMMAND, "alerts", "status"]
                    status = subprocess.run(
                        ask, env=os.environ | env, capture_output=True, text=True
                    )
        except BaseException:
            print(f"the server log ({server_log}):", *excerpt(lines_of(server_log)), sep="\n")
            raise
        summary = alert_summary(url)
    loads.append(os.getloadavg())
    logged = lines_of(server_log)
    raised = collections.Counter(line for line in logged if RAISED.match(line))
    errors = sum(line.startswith("ERROR") or "Traceback" in line for line in logged)
    failures += [f"server log: {errors} ERROR or Traceback lines"] if errors else []
    failures += [f"server log: {count} x {line}" for line, count in raised.items()]

    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"Python {platform.python_version()}, review-engine {version('review-engine')}, uvicorn "
        f"{version('uvicorn')}, FastAPI {version('fastapi')}, SQLAlchemy "
        f"{version('sqlalchemy')}, httpx {httpx.__version__}; {backend}"
    )
    print(
        f"config: {args.clients} clients (threads) over {PARTNERSHIPS} partnerships, "
        f"{args.workers} uvicorn workers + 1 alert runner (a round every {INTERVAL_MINUTES} "
        f"min), {args.duration:g} s, {PARTNERSHIPS * CASES_EACH} cases seeded; {backend}"
    )
    before, after = (" ".join(f"{n:.2f}" for n in load) for load in loads)
    print(f"CPUs: {os.cpu_count()}, shared by the clients, the server and the database")
    print(f"load average (1, 5, 15 min) before: {before}; after: {after}")
    print(f"{'request':<18} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind in ["setup create", "setup transition", *MIX]:
        spent = tally.spent.get(kind, [])
        failed = sum(n for (k, _), n in tally.errors.items() if k == kind)
        print(f"{kind:<18} {len(spent):>7} {ms(spent, 50):>8.1f} {ms(spent, 99):>8.1f} {failed:>7}")
    timed = sum(len(tally.spent.get(kind, [])) for kind in MIX)
    print(
        f"window: {timed} requests in {elapsed:.1f} s = {timed / elapsed:.0f} requests/s; "
        f"errors: {sum(tally.errors.values())}; client CPU {cpu:.1f} s "
        f"({100 * cpu / elapsed:.0f}% of one CPU)"
    )
    rounds = [line for line in lines_of(runner_log) if line.startswith("alerts as of")]
    print(f"alert runner: {len(rounds)} rounds logged", *rounds, sep="\n  ")
    print(*summary, sep="\n")
    print(f"alerts status (exit {status.returncode}): {(status.stdout + status.stderr).strip()}")
    for (kind, what), count in tally.errors.items():
        print(f"error: {kind} {what} x{count}; the first: {tally.first[kind, what]}")
    for failure in failures:
        print(f"error: {failure}")
    if tally.errors or failures:
        print(f"logs kept in {logs}; the server log's first error:", *excerpt(logged), sep="\n")
        sys.exit(1)
    shutil.rmtree(logs)


if __name__ == "__main__":
    main()
