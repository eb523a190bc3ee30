"""Many clients at once against one server process (uvicorn, loopback): every request is
answered, none waits out the connection pool's timeout (see `review_engine.concurrency`).

Before requests were queued at the door, 200 clients found this: anyio's 40 threads all
waiting for a connection, the connections all held by requests waiting for a thread, 500s
after 30 s. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import httpx

from review_engine.concurrency import REQUESTS_IN_FLIGHT

CLIENTS = 150  # well past anyio's 40 threads and the pool's 20 connections


def test_a_hundred_and_fifty_clients_at_once_are_all_answered(
    demo_url: str, make_key: Callable[..., str]
) -> None:
    assert CLIENTS > 40 > REQUESTS_IN_FLIGHT
    headers = {"Authorization": f"Bearer {make_key(role='viewer')}"}
    listed = httpx.get(f"{demo_url}/cases", params={"limit": 1}, headers=headers)
    case_id = listed.json()["items"][0]["id"]
    statuses: Counter[int | str] = Counter()
    lock, start = threading.Lock(), threading.Barrier(CLIENTS)

    def client() -> None:
        with httpx.Client(base_url=demo_url, headers=headers, timeout=60) as http:
            start.wait()
            for path in (f"/cases/{case_id}", "/cases?limit=5", f"/cases/{case_id}"):
                try:
                    status: int | str = http.get(path).status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == {200: 3 * CLIENTS}
