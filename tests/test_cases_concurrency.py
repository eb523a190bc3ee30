"""Concurrent writers over real HTTP: one wins, the rest get 412, nothing is half-written."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from review_engine.cases.models import CaseHistoryEntry
from tests.cases_helpers import create

Headers = dict[str, str]
WRITERS = 20


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn server on a free loopback port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_same_etag_from_20_writers_one_wins(
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
    live_url: str,
    session: Session,
) -> None:
    admin = auth(make_key(role="admin"))
    assert (
        client.post(
            "/partnerships", json={"code": "wessex", "name": "W"}, headers=admin
        ).status_code
        == 201
    )
    member = auth(make_key(role="member"))
    case = create(client, member)
    barrier = threading.Barrier(WRITERS)

    def notify(writer: int) -> int:
        with httpx.Client(base_url=live_url, timeout=30) as http:
            barrier.wait()
            response = http.post(
                f"/cases/{case['id']}/events/notify_panel",
                json={"notified_on": "2026-06-03"},
                headers={**member, "If-Match": case["_etag"]},
            )
            return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = Counter(pool.map(notify, range(WRITERS)))
    time.perf_counter() - started
    assert statuses == Counter({200: 1, 412: WRITERS - 1})
    entries = session.execute(
        select(func.count())
        .select_from(CaseHistoryEntry)
        .where(CaseHistoryEntry.case_id == uuid.UUID(case["id"]))
    ).scalar_one()
    session.rollback()  # end the read transaction
    assert entries == 2  # create + the one event
    read = client.get(f"/cases/{case['id']}", headers=member).json()
    assert (read["state"], read["version"]) == ("rapid_review", 2)
