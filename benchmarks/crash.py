"""Crash test: kill -9 the server again and again under writing clients, then check that
no acknowledged write was lost, that the stored data is whole, and that retries of cut
requests were answered from the idempotency store or ran once, never twice.

    python benchmarks/crash.py                                # SQLite (a temporary file)
    python benchmarks/crash.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/crash.py --kills 32 --clients 8 --workers 2

Each client owns one case and records timescale waivers on it, one after another: every
waiver is a change (a new version and history entry) sent with `If-Match` and a fresh
`Idempotency-Key`. A request cut by a kill is retried with the same key and the same
`If-Match` until it gets an answer. With one writer per case, a retry whose first attempt
had committed can only get the stored answer (`Idempotent-Replayed: true`): a 412 there
would mean the store lost the answer to a change that was made. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from support import database  # benchmarks/support.py, beside this script

from review_engine.db import create_db_engine

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-c", "from review_engine.cli import app; app()", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


class Server:
    """`review-engine serve` as a process group we can kill -9 and start again."""

    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-c", "from review_engine.cli import app; app()", "serve"]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@dataclass
class Tally:
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)  # case, version, reason
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


def writer(base: str, key: str, case_id: str, stop: threading.Event, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    etag = ""
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while not stop.is_set():
            if not etag:
                try:
                    etag = client.get(f"/cases/{case_id}").headers["ETag"]
                except (httpx.HTTPError, KeyError):
                    time.sleep(0.1)
                    continue
            reason = f"waiver {uuid.uuid4().hex[:12]}"
            request_headers = {"If-Match": etag, "Idempotency-Key": f"crash-{uuid.uuid4()}"}
            body = {"clock": "notification", "reason": reason}
            cut = False
            while True:  # one logical change: retried until it has an answer
                try:
                    response = client.post(
                        f"/cases/{case_id}/waivers", json=body, headers=request_headers
                    )
                except httpx.TransportError:
                    if not cut:
                        tally.count("requests cut by a kill")
                    cut = True
                    time.sleep(0.1)
                    continue
                if response.status_code in (409, 503):  # still in flight / busy: wait
                    tally.count(f"{response.status_code} answers (key held or busy), retried")
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                break
            if response.is_success:
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                if cut:
                    tally.count("retry answered from the store" if replayed else "retry ran once")
                etag = response.headers["ETag"]
                with tally.lock:
                    tally.acknowledged.append((case_id, response.json()["version"], reason))
            else:
                tally.count(f"{response.status_code} {'after a cut' if cut else ''}".strip())
                etag = ""


def check(database_url: str, tally: Tally) -> dict[str, int]:
    """What is stored, against what the clients were told."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            history = connection.execute(
                text("SELECT case_id, version, details FROM case_history ORDER BY case_id, version")
            ).all()
            cases = connection.execute(text("SELECT id, version FROM review_case")).all()
    finally:
        engine.dispose()
    stored: dict[tuple[uuid.UUID, int], str] = {}
    by_case: dict[uuid.UUID, list[int]] = {}
    for case_id, version, details in history:
        case = uuid.UUID(str(case_id))
        details = details if isinstance(details, dict) else json.loads(details)
        stored[(case, version)] = str(details.get("reason", ""))
        by_case.setdefault(case, []).append(version)
    lost = sum(
        stored.get((uuid.UUID(case), version)) != reason
        for case, version, reason in tally.acknowledged
    )
    broken = sum(
        versions_seen != list(range(1, len(versions_seen) + 1))
        for versions_seen in by_case.values()
    )
    mismatched = sum(
        by_case.get(uuid.UUID(str(case_id)), [0])[-1] != version for case_id, version in cases
    )
    reasons = [stored_reason for stored_reason in stored.values() if stored_reason]
    return {
        "acknowledged writes": len(tally.acknowledged),
        "acknowledged writes lost": lost,
        "cases whose history versions are not 1..n": broken,
        "cases whose version is not their last history entry": mismatched,
        "changes applied twice (a reason stored twice)": len(reasons) - len(set(reasons)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--kills", type=int, default=16)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--between", type=float, default=1.5, help="mean seconds between kills")
    options = parser.parse_args()
    with database(options.postgres) as database_url, tempfile.TemporaryDirectory() as cwd:
        env = {
            **os.environ,
            "REVIEW_ENGINE_DATABASE_URL": database_url,
            # A cut request's key is held this long before a retry may run it (default
            # 60 s); short here so the run takes minutes, not hours. The rule is the same.
            "REVIEW_ENGINE_IDEMPOTENCY_IN_FLIGHT_SECONDS": "2",
        }
        os.chdir(cwd)
        cli(env, "db", "upgrade")
        cli(env, "partnerships", "create", "--code", "crash", "--name", "Crash SCP")
        key = cli(env, "keys", "create", "--name", "crash", "--role", "admin").splitlines()[-1]
        server = Server(env, free_port(), options.workers)
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        auth = {"Authorization": f"Bearer {key}"}
        case_ids = []
        for number in range(options.clients):
            body = {
                "partnership": "crash",
                "reference": f"CRASH-{number}",
                "incident_type": "serious_harm",
                "aware_on": "2026-06-01",
            }
            case_ids.append(httpx.post(f"{base}/cases", json=body, headers=auth).json()["id"])
        tally, stop = Tally(), threading.Event()
        threads = [
            threading.Thread(target=writer, args=(base, key, case_id, stop, tally))
            for case_id in case_ids
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for _ in range(options.kills):
            time.sleep(random.uniform(0.3, 2 * options.between - 0.3))
            server.kill()
            server.start()
        time.sleep(3)  # let every cut request get its answer
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        server.kill()
        elapsed = time.monotonic() - started
        figures = check(database_url, tally)
    backend = "PostgreSQL" if options.postgres else "SQLite"
    print(
        f"crash test on {backend}: {options.kills} kills of {options.workers} worker(s) "
        f"under {options.clients} writing clients, {elapsed:.0f} s"
    )
    for name, value in {**figures, **dict(sorted(tally.outcomes.items()))}.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
