"""What the action tests share: the server's pinned today (`clock`), an API client with
keys of each role (`api`), and problem checks. Used by tests/test_actions_api.py and
tests/test_actions_plan.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from review_engine import deadline_context
from tests.cases_helpers import create, fire
from tests.matrix.domains.cases import LCSPR_TO_CLOSED

Headers = dict[str, str]
Json = dict[str, Any]
Fields = tuple[str, ...]

PROBLEM = "application/problem+json"
TODAY = date(2026, 11, 27)  # a Friday, after the journey's publication on Mon 2 Nov 2026
TOMORROW = "2026-11-28"
POLICE, HEALTH, COUNCIL = "Wessex Police", "Wessex NHS Trust", "Wessex Council"
EVIDENCE = "EVIDENCE-CANARY-41c2: 30 referrals audited, all seen within a day"
IMPACT = "IMPACT-CANARY-9b0e: a re-audit shows the change held"
NOTE = "NOTE-CANARY-5d7a: audit half done"
SUBGROUP = "Learning and Improvement Subgroup"
OWN_RECOMMENDATIONS = "/partnerships/wessex/recommendations"
ASSURING: Json = {"status": "assured", "assured_on": "2026-11-27", "assured_by": SUBGROUP}
COMPLETING: Json = {"status": "completed", "evidence_of_completion": EVIDENCE}
CANCELLING: Json = {"status": "cancelled", "cancellation_reason": "superseded"}


@dataclass
class Clock:
    today: date


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's today is `clock.today` (set it to date what is recorded next)."""
    pinned = Clock(TODAY)
    monkeypatch.setattr(deadline_context, "today_in", lambda timezone: pinned.today)
    return pinned


def assert_problem(response: httpx2.Response, status: int, *fields: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: Json = response.json()
    assert problem["status"] == status
    if fields:
        assert sorted({error["field"] for error in problem["errors"]}) == sorted(fields)
    return problem


@dataclass(frozen=True)
class Api:
    """The client, and headers by who: admin, manager and member (of wessex), and away (a
    manager of kingsmere)."""

    client: TestClient
    keys: dict[str, Headers]

    def get(self, who: str, url: str, **params: str) -> httpx2.Response:
        return self.client.get(url, headers=self.keys[who], params=params)

    def post(self, who: str, url: str, body: Json) -> httpx2.Response:
        return self.client.post(url, json=body, headers=self.keys[who])

    def published_case(self) -> Json:
        """An LCSPR published on Mon 2 Nov 2026: in action_tracking."""
        case = create(self.client, self.keys["admin"])
        for event, payload, state in LCSPR_TO_CLOSED[:-1]:
            case = fire(self.client, self.keys["admin"], case, event, payload)
            assert case["state"] == state
        return case

    def recommend(self, who: str, url: str = OWN_RECOMMENDATIONS, **fields: Any) -> Json:
        body = {"text": "Share information at the front door", "source": "national_review"}
        response = self.post(who, url, {**body, **fields})
        assert response.status_code == 201, response.text
        assert response.headers["Location"] == f"/recommendations/{response.json()['id']}"
        return {**response.json()}

    def act(self, who: str, recommendation: Json, **fields: Any) -> Json:
        body = {"description": "Audit referrals", "lead_agency": POLICE, "due_on": "2027-03-31"}
        response = self.post(who, f"/recommendations/{recommendation['id']}/actions", body | fields)
        assert response.status_code == 201, response.text
        assert response.headers["Location"] == f"/actions/{response.json()['id']}"
        return {**response.json(), "_etag": response.headers["ETag"]}

    def read(self, who: str, action_id: str, **params: str) -> Json:
        response = self.get(who, f"/actions/{action_id}", **params)
        assert response.status_code == 200, response.text
        return {**response.json(), "_etag": response.headers["ETag"]}

    def patch(self, who: str, action_id: str, body: Json, if_match: str) -> httpx2.Response:
        headers = {**self.keys[who], "If-Match": if_match}
        return self.client.patch(f"/actions/{action_id}", json=body, headers=headers)

    def change(self, who: str, action: Json, **body: Any) -> Json:
        response = self.patch(who, action["id"], body, action["_etag"])
        assert response.status_code == 200, response.text
        assert response.json()["version"] == action["version"] + 1
        return {**response.json(), "_etag": response.headers["ETag"]}

    def refused(self, who: str, action_id: str, status: int, fields: Fields, body: Json) -> Json:
        """PATCHes with the current ETag: the problem is `status` naming `fields`, and the
        action (its version and ETag too) is as it was."""
        before = self.read(who, action_id)
        problem = assert_problem(self.patch(who, action_id, body, before["_etag"]), status, *fields)
        assert self.read(who, action_id) == before
        return problem

    def listed(self, who: str, **params: str) -> list[str]:
        response = self.get(who, "/actions", **params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def api(client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]) -> Api:
    """Partnerships wessex and kingsmere; wessex's manager lists its three agencies."""
    keys = {"admin": auth(make_key(role="admin", name="admin"))}
    for code in ("wessex", "kingsmere"):
        body = {"code": code, "name": f"{code.title()} SCP"}
        assert client.post("/partnerships", json=body, headers=keys["admin"]).status_code == 201
    for who, role, code in (
        ("manager", "manager", "wessex"),
        ("member", "member", "wessex"),
        ("away", "manager", "kingsmere"),
    ):
        keys[who] = auth(make_key(role=role, partnerships=[code], name=f"{code}-{role}"))
    made = Api(client, keys)
    for name in (POLICE, HEALTH, COUNCIL):
        added = made.post("manager", "/partnerships/wessex/agencies", {"name": name})
        assert added.status_code == 201, added.text
    return made
