"""Compare review-engine with the bare floor (benchmarks/floor.py) in one run; print ratios.

    python benchmarks/compare.py                                  # SQLite (temporary files)
    python benchmarks/compare.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/compare.py --postgres URL --workers 2 --duration 20 --transitions 300
    python benchmarks/compare.py --idempotency-key       # every engine POST sends a new key

Each app gets a fresh database and its own uvicorn process (no GIL shared with the clients
here) on 127.0.0.1 with `--workers` processes: the engine as `review-engine serve` runs it in
production (alert runner off: REVIEW_ENGINE_SERVE_ALERTS=false), the floor with `python -m
uvicorn --factory`; both log access as uvicorn does by default. Both serve at once and are
measured in turns (floor, engine, engine, floor, ...), so a change in the machine's load
falls on both. After 60 warm-up requests each:

1. transition latency: one client fires `--transitions` events on fresh cases (4 each, the
   sequence of benchmarks/api.py), p50 and p99; 2. read latency (`GET /cases/{id}`), the same;
3. throughput: 20 clients, each with its own connection, take pre-created cases through the
   same events in 4 turns of `--duration`/4 seconds per app: completed 2xx per second, and
   errors (non-2xx or exceptions: must be 0). With `--idempotency-key` every POST to the engine
carries a new `Idempotency-Key`, as a careful client sends (the floor keeps no records).

Prints the command line, versions, CPU count and load average, then a table: measure |
floor | engine | engine/floor. Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi
import httpx
import sqlalchemy
import uvicorn
from api import EVENTS  # benchmarks/api.py, beside this script
from floor import FLOOR_DATABASE_URL, create_floor_tables
from support import database, migrated_with_admin_key

from review_engine.db import create_db_engine

HERE = Path(__file__).resolve().parent
CLIENTS = 20
TURNS = 4  # throughput turns per app
WARM_UP_CASES = 10  # 10 creations, 40 transitions, 10 reads
NEW_CASE = {"partnership": "bench", "incident_type": "serious_harm", "aware_on": "2026-06-01"}
LATENCIES = [
    (f"{what} {p} (ms)", f"{what}_{p}") for what in ("transition", "read") for p in ("p50", "p99")
]
Case = list[str]  # [id, ETag], the ETag replaced as events are fired


@dataclass
class App:
    """One server under test: how to start it, its clients' headers, and its figures."""

    name: str
    command: list[str]
    env: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    base: str = ""
    created: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    spent: dict[str, list[float]] = field(default_factory=lambda: {"transition": [], "read": []})
    done: int = 0
    elapsed: float = 0
    busy: float = 0  # this process's CPU seconds while its clients ran
    inline: int = 0  # cases its throughput clients had to create in the timed window
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    keyed: bool = False  # every POST sends a new Idempotency-Key

    def post_headers(self) -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())} if self.keyed else {}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=60)

    def new_case(self, http: httpx.Client) -> Case:
        with self.lock:
            self.created += 1
            reference = f"BENCH-{self.created}"
        response = http.post(
            "/cases", json={**NEW_CASE, "reference": reference}, headers=self.post_headers()
        )
        response.raise_for_status()
        return [response.json()["id"], response.headers["ETag"]]

    def fire(self, http: httpx.Client, case: Case, step: int) -> httpx.Response:
        event, payload = EVENTS[step]
        path = f"/cases/{case[0]}/events/{event}"
        response = http.post(
            path, json=payload, headers={"If-Match": case[1], **self.post_headers()}
        )
        if response.is_success:
            case[1] = response.headers["ETag"]
        return response


@contextmanager
def serving(app: App) -> Iterator[None]:
    """Start `app`'s server and wait until /healthz answers; stop it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*app.command, "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **app.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{app.name} did not start:\n{log.read()[-3000:]}")
                try:
                    if httpx.get(f"{app.base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield
        finally:
            process.terminate()  # uvicorn stops its workers on SIGTERM
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def in_turns(apps: list[App], turn: int) -> list[App]:
    return apps if turn % 2 == 0 else apps[::-1]  # ABBA: a steady drift falls on both


def sequential(apps: list[App], transitions: int) -> None:
    with ExitStack() as stack:
        https = {app.name: stack.enter_context(app.client()) for app in apps}
        for app in apps:
            for _ in range(WARM_UP_CASES):
                case = app.new_case(https[app.name])
                for step in range(len(EVENTS)):
                    app.fire(https[app.name], case, step).raise_for_status()
                https[app.name].get(f"/cases/{case[0]}").raise_for_status()
        count = math.ceil(transitions / len(EVENTS))
        cases = {app.name: [app.new_case(https[app.name]) for _ in range(count)] for app in apps}
        for index in range(2 * transitions):
            number, step = divmod(index % transitions, len(EVENTS))
            for app in in_turns(apps, index):
                case, http = cases[app.name][number], https[app.name]
                started = time.perf_counter()
                if index < transitions:
                    response = app.fire(http, case, step)
                else:
                    response = http.get(f"/cases/{case[0]}")
                app.spent["transition" if index < transitions else "read"].append(
                    time.perf_counter() - started
                )
                response.raise_for_status()


def in_parallel(app: App, work: Callable[[httpx.Client], None]) -> None:
    def client(_: int) -> None:
        with app.client() as http:
            work(http)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))


def fill(app: App, pool: collections.deque[Case], count: int) -> float:
    """Add `count` new cases to `pool`, created by CLIENTS clients; the rate they took."""
    remaining = iter(range(count))  # next() on a shared iterator is atomic under the GIL
    started = time.perf_counter()
    in_parallel(app, lambda http: pool.extend(app.new_case(http) for _ in remaining))
    return count / (time.perf_counter() - started)


def window(app: App, pool: collections.deque[Case], seconds: float) -> float:
    """CLIENTS clients take cases from `pool` through the events for `seconds`: the rate."""
    stop, before = time.perf_counter() + seconds, app.done

    def client(http: httpx.Client) -> None:
        while time.perf_counter() < stop:
            try:
                case = pool.popleft()
            except IndexError:
                with app.lock:
                    app.inline += 1
                case = app.new_case(http)
            for step in range(len(EVENTS)):
                if time.perf_counter() >= stop:
                    return
                try:
                    response = app.fire(http, case, step)
                    failure = "" if response.is_success else str(response.status_code)
                except httpx.HTTPError as exc:
                    failure = type(exc).__name__
                with app.lock:  # += is not atomic across threads
                    app.done += not failure
                    app.errors.update([failure] if failure else [])
                if failure:
                    break

    started, cpu = time.perf_counter(), time.process_time()
    in_parallel(app, client)
    elapsed = time.perf_counter() - started
    app.elapsed, app.busy = app.elapsed + elapsed, app.busy + time.process_time() - cpu
    return (app.done - before) / elapsed


def throughput(apps: list[App], duration: float) -> None:
    seconds = duration / TURNS
    pools = {app.name: collections.deque[Case]() for app in apps}
    rates: dict[str, float] = {}  # transitions/s to have fresh cases for, with a margin
    for app in apps:  # an untimed turn of 1 s: a warm-up, and a first rate (errors count)
        fill(app, pools[app.name], CLIENTS * 5)
        saved = app.done, app.elapsed, app.busy, app.inline
        rates[app.name] = 3 * window(app, pools[app.name], 1)
        app.done, app.elapsed, app.busy, app.inline = saved
    for turn in range(TURNS):
        for app in in_turns(apps, turn):
            pool = pools[app.name]
            wanted = math.ceil(rates[app.name] * seconds / len(EVENTS)) + CLIENTS
            if wanted > len(pool):
                fill(app, pool, wanted - len(pool))
            rates[app.name] = 3 * window(app, pool, seconds)


def engine_app(url: str, workers: int) -> App:
    key = migrated_with_admin_key(url)
    env = {
        "REVIEW_ENGINE_DATABASE_URL": url,
        "REVIEW_ENGINE_SERVE_ALERTS": "false",
        "REVIEW_ENGINE_DOCS_ENABLED": "false",
    }
    command = [str(Path(sys.executable).with_name("review-engine")), "serve"]
    headers = {"Authorization": f"Bearer {key}"}
    return App("engine", [*command, "--workers", str(workers)], env, headers)


def floor_app(url: str, workers: int) -> App:
    create_floor_tables(url)  # once, before several workers would race to
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--factory"]
    command += ["floor:served_floor", "--workers", str(workers)]
    return App("floor", command, {FLOOR_DATABASE_URL: url})


def describe(url: str) -> str:
    db = create_db_engine(url)
    sql = "SELECT sqlite_version()" if db.dialect.name == "sqlite" else "SHOW server_version"
    with db.connect() as connection:
        version = connection.exec_driver_sql(sql).scalar()
    db.dispose()
    return f"{db.dialect.name} {version}"


def figures(app: App) -> dict[str, Any]:
    cuts = {what: statistics.quantiles(spent, n=100) for what, spent in app.spent.items()}
    shown: dict[str, Any] = {f"{what}_p50": cut[49] * 1000 for what, cut in cuts.items()}
    shown.update({f"{what}_p99": cut[98] * 1000 for what, cut in cuts.items()})
    shown.update(rate=app.done / app.elapsed, busy=100 * app.busy / app.elapsed)
    return shown | {"errors": sum(app.errors.values()), "inline": app.inline}


def report(args: argparse.Namespace, backend: str, floor: App, engine: App, load: str) -> None:
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"database: {backend}; uvicorn workers: {args.workers}; clients: {CLIENTS}; "
        f"throughput: {TURNS} x {args.duration / TURNS:g} s per app; "
        f"transitions: {args.transitions}; Idempotency-Key: {args.idempotency_key}"
    )
    print(
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__}, FastAPI "
        f"{fastapi.__version__}, SQLAlchemy {sqlalchemy.__version__}; CPUs: {os.cpu_count()}; "
        f"load average before/after: {load}"
    )
    mine, theirs = figures(floor), figures(engine)
    print(f"{'measure':<30} {'floor':>9} {'engine':>9} {'engine/floor':>13}")
    for label, key in [*LATENCIES, (f"transitions/s, {CLIENTS} clients", "rate")]:
        ratio = theirs[key] / mine[key]
        print(f"{label:<30} {mine[key]:>9.1f} {theirs[key]:>9.1f} {ratio:>13.2f}")
    print(f"{'benchmark client CPU (%)':<30} {mine['busy']:>9.0f} {theirs['busy']:>9.0f}")
    for label, key in [("errors", "errors"), ("cases created in the window", "inline")]:
        print(f"{label:<30} {mine[key]:>9} {theirs[key]:>9}")
    for app in (floor, engine):
        if app.errors:
            print(f"{app.name} errors: {dict(app.errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per app")
    parser.add_argument("--duration", type=float, default=20, help="throughput seconds per app")
    parser.add_argument("--transitions", type=int, default=300, help="sequential transitions")
    parser.add_argument(
        "--idempotency-key", action="store_true", help="a new Idempotency-Key on every engine POST"
    )
    args = parser.parse_args()
    before = " ".join(f"{load:.1f}" for load in os.getloadavg())
    with database(args.postgres) as floor_url, database(args.postgres) as engine_url:
        backend = describe(floor_url)
        apps = [floor_app(floor_url, args.workers), engine_app(engine_url, args.workers)]
        apps[1].keyed = args.idempotency_key
        with serving(apps[0]), serving(apps[1]):
            with apps[1].client() as http:  # the engine's cases need their partnership
                http.post(
                    "/partnerships", json={"code": "bench", "name": "Bench"}
                ).raise_for_status()
            print(f"{backend}: latency ...", flush=True)
            sequential(apps, args.transitions)
            print(f"{backend}: throughput ...", flush=True)
            throughput(apps, args.duration)
    after = " ".join(f"{load:.1f}" for load in os.getloadavg())
    report(args, backend, apps[0], apps[1], f"{before} / {after}")
    if apps[0].errors or apps[1].errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
