"""Benchmark the cases API over real HTTP and print figures (no pass/fail thresholds).

    python benchmarks/api.py                                   # SQLite (a temporary file)
    python benchmarks/api.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Measures, against one uvicorn server in this process:
1. conflicting writers: W concurrent clients fire the same event with the same ETag, R times;
   prints the outcome counts (expected: exactly one 200, the rest 412) and latencies;
2. event throughput: C cases each taken through 4 events by W concurrent clients;
3. reads: single-case reads and `GET /cases?overdue=true` pages.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from sqlalchemy.engine import make_url
from support import database, migrated_with_admin_key  # benchmarks/support.py

from review_engine.app import create_app
from review_engine.settings import Settings

EVENTS = [
    ("inform_partners", {"partners_informed_on": "2026-06-02"}),
    ("notify_panel", {"notified_on": "2026-06-03"}),
    ("submit_rapid_review", {"submitted_on": "2026-06-19", "recommendation": "lcspr"}),
    ("record_panel_response", {"received_on": "2026-07-01", "outcome": "agreed"}),
]


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    app = create_app(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms"
    )


def timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.perf_counter()
    response = call()
    return response.status_code, time.perf_counter() - started


def new_case(http: httpx.Client, reference: str) -> dict[str, Any]:
    response = http.post(
        "/cases",
        json={
            "partnership": "bench",
            "reference": reference,
            "incident_type": "serious_harm",
            "aware_on": "2026-06-01",
        },
    )
    response.raise_for_status()
    return {"id": response.json()["id"], "etag": response.headers["ETag"]}


def run(database_url: str, *, writers: int, rounds: int, cases: int) -> None:
    key = migrated_with_admin_key(database_url)
    headers = {"Authorization": f"Bearer {key}"}
    with serve(database_url) as base, httpx.Client(base_url=base, headers=headers) as http:
        http.post("/partnerships", json={"code": "bench", "name": "Bench"}).raise_for_status()

        outcomes: Counter[int] = Counter()
        latencies: list[float] = []
        for round_number in range(rounds):
            case = new_case(http, f"CONFLICT-{round_number}")
            barrier = threading.Barrier(writers)

            def conflicting(
                _: int, case: dict[str, Any] = case, barrier: threading.Barrier = barrier
            ) -> tuple[int, float]:
                with httpx.Client(base_url=base, headers=headers, timeout=60) as own:
                    barrier.wait()
                    return timed(
                        lambda: own.post(
                            f"/cases/{case['id']}/events/notify_panel",
                            json={"notified_on": "2026-06-03"},
                            headers={"If-Match": case["etag"]},
                        )
                    )

            with ThreadPoolExecutor(writers) as pool:
                for status, elapsed in pool.map(conflicting, range(writers)):
                    outcomes[status] += 1
                    latencies.append(elapsed)
        print(
            f"conflicting writers: {rounds} rounds x {writers} clients, same ETag -> "
            f"{dict(sorted(outcomes.items()))}; {percentiles(latencies)}"
        )

        created = [new_case(http, f"FLOW-{number}") for number in range(cases)]

        def take_through(case: dict[str, Any]) -> list[float]:
            spent, etag = [], case["etag"]
            with httpx.Client(base_url=base, headers=headers, timeout=60) as own:
                for event, payload in EVENTS:
                    started = time.perf_counter()
                    response = own.post(
                        f"/cases/{case['id']}/events/{event}",
                        json=payload,
                        headers={"If-Match": etag},
                    )
                    spent.append(time.perf_counter() - started)
                    response.raise_for_status()
                    etag = response.headers["ETag"]
            return spent

        started = time.perf_counter()
        with ThreadPoolExecutor(writers) as pool:
            event_latencies = [x for spent in pool.map(take_through, created) for x in spent]
        elapsed = time.perf_counter() - started
        print(
            f"events: {len(event_latencies)} transitions by {writers} clients in {elapsed:.2f} s "
            f"= {len(event_latencies) / elapsed:.0f}/s; {percentiles(event_latencies)}"
        )

        reads = [timed(lambda c=c: http.get(f"/cases/{c['id']}"))[1] for c in created]
        print(f"single-case reads: {len(reads)} sequential; {percentiles(reads)}")
        pages = [
            timed(lambda: http.get("/cases", params={"overdue": "true", "limit": 50}))[1]
            for _ in range(50)
        ]
        print(f"overdue list (50 per page, {cases + rounds} cases): {percentiles(pages)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    with database(args.postgres) as url:
        print(f"database: {make_url(url).get_backend_name()}")
        run(url, writers=args.writers, rounds=args.rounds, cases=args.cases)


if __name__ == "__main__":
    main()
