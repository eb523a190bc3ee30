"""The closure gate holds under concurrent writers over real HTTP: a case is never closed
while it has an action that is not assured or cancelled, however `close` and new actions
race (the case's row is locked by both; SQLite serialises writers)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from tests.cases_helpers import create, fire
from tests.matrix.domains.cases import LCSPR_TO_CLOSED
from tests.test_cases_concurrency import live_url

__all__ = ["live_url"]  # the fixture (pytest finds it here)

Headers = dict[str, str]
ROUNDS, WRITERS = 3, 8


def _race(live_url: str, admin: Headers, case_id: str, recommendation_id: str) -> Counter[str]:
    """Half the writers close the case, half add an action to it, all at once."""
    barrier = threading.Barrier(WRITERS)

    def write(writer: int) -> str:
        with httpx.Client(base_url=live_url, timeout=30) as http:
            barrier.wait()
            if writer % 2:
                response = http.post(
                    f"/cases/{case_id}/events/close",
                    json={"closed_on": "2026-11-10"},
                    headers={**admin, "If-Match": "*"},
                )
                return f"close {response.status_code}"
            response = http.post(
                f"/recommendations/{recommendation_id}/actions",
                json={"description": "Audit", "lead_agency": "Police", "due_on": "2027-01-29"},
                headers=admin,
            )
            return f"action {response.status_code}"

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return Counter(pool.map(write, range(WRITERS)))


def test_close_and_new_actions_racing_never_leave_a_closed_case_with_open_actions(
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
    live_url: str,
) -> None:
    admin = auth(make_key(role="admin"))
    assert client.post("/partnerships", json={"code": "wessex", "name": "W"}, headers=admin)
    agency = client.post("/partnerships/wessex/agencies", json={"name": "Police"}, headers=admin)
    assert agency.status_code == 201, agency.text
    outcomes: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        case = create(client, admin, reference=f"RACE-{round_number}")
        for event, payload, _ in LCSPR_TO_CLOSED[:-1]:  # to action_tracking
            case = fire(client, admin, case, event, payload)
        recommendation = client.post(
            f"/cases/{case['id']}/recommendations",
            json={"text": "Share learning", "source": "lcspr"},
            headers=admin,
        ).json()
        results = _race(live_url, admin, case["id"], recommendation["id"])
        outcomes.update(results)
        assert set(results) <= {"close 200", "close 409", "action 201", "action 409"}, results
        read = client.get(f"/cases/{case['id']}", headers=admin).json()
        actions = client.get(f"/cases/{case['id']}/recommendations", headers=admin).json()
        made = [action["id"] for item in actions["items"] for action in item["actions"]]
        # Every action the API acknowledged exists; a closed case has none of them open.
        assert len(made) == results["action 201"]
        if read["state"] == "closed":
            assert made == [], f"closed with open actions: {results}"
            assert results["close 200"] == 1
        else:
            assert sorted(read["outstanding_actions"]) == sorted(made)
            assert results["close 200"] == 0
    assert outcomes["action 201"] + outcomes["close 200"] >= ROUNDS  # every round did something
