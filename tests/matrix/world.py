"""The world the route matrices run in: partnerships, keys and cases, made through the API.

HOME is the partnership the cases live in; keys limited to AWAY must not see them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.cases_helpers import new_case
from tests.matrix.tables import Headers, Step

HOME = "wessex"  # where the cases live
AWAY = "kingsmere"  # the other partnership: its keys must not see HOME's cases

_numbers = itertools.count(1)


@dataclass
class World:
    """The test's API client and what it made: keys by (role, scope), partnerships."""

    api: TestClient
    make_key: Callable[..., str]
    keys: dict[tuple[str, str | None], Headers] = field(default_factory=dict)
    partnerships: set[str] = field(default_factory=set)
    # Objects made for each case (see `core.objects_for`), by case id.
    objects: dict[str, dict[str, str]] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)  # HOME's agencies: name -> id

    def agency(self, name: str = "Wessex Police") -> str:
        """The id of HOME's agency `name`, added to its list on first use."""
        if name not in self.agencies:
            response = self.api.post(
                f"/partnerships/{HOME}/agencies", json={"name": name}, headers=self.key()
            )
            assert response.status_code == 201, response.text
            self.agencies[name] = response.json()["id"]
        return self.agencies[name]

    def key(self, role: str = "admin", scope: str | None = None) -> Headers:
        """Headers for a key with `role`, limited to partnership `scope` (None: all); the
        partnership is created on first use."""
        if scope is not None and scope not in self.partnerships:
            self.add_partnership(scope)
        if (role, scope) not in self.keys:
            raw = self.make_key(role=role, partnerships=[scope] if scope else None)
            self.keys[(role, scope)] = {"Authorization": f"Bearer {raw}"}
        return self.keys[(role, scope)]

    def add_partnership(self, code: str) -> None:
        response = self.api.post(
            "/partnerships", json={"code": code, "name": f"{code.title()} SCP"}, headers=self.key()
        )
        assert response.status_code == 201, response.text
        self.partnerships.add(code)

    def new_case(self, **fields: Any) -> dict[str, Any]:
        body = new_case(reference=f"MX-{next(_numbers)}", partnership=HOME, **fields)
        response = self.api.post("/cases", json=body, headers=self.key())
        assert response.status_code == 201, response.text
        case: dict[str, Any] = response.json()
        case["_etag"] = response.headers["ETag"]
        return case

    def fire(self, case: dict[str, Any], event: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self.api.post(
            f"/cases/{case['id']}/events/{event}",
            json=payload,
            headers={**self.key(), "If-Match": case["_etag"]},
        )
        assert response.status_code == 200, f"{event}: {response.text}"
        fired: dict[str, Any] = response.json()
        fired["_etag"] = response.headers["ETag"]
        return fired

    def drive(self, journey: list[Step]) -> dict[str, Any]:
        # A looked-after child's death: every journey is open to it, including the one
        # that needs no rapid review.
        case = self.new_case(incident_type="death", looked_after=True)
        for event, payload, state in journey:
            case = self.fire(case, event, payload)
            assert case["state"] == state, f"{event} led to {case['state']}, not {state}"
        return case

    def read(self, case_id: str) -> tuple[dict[str, Any], int]:
        """The case as the API shows it, and the length of its history."""
        response = self.api.get(f"/cases/{case_id}", headers=self.key())
        assert response.status_code == 200, response.text
        history = self.api.get(f"/cases/{case_id}/history", headers=self.key())
        assert history.status_code == 200, history.text
        case: dict[str, Any] = response.json()
        return case, len(history.json()["items"])


@pytest.fixture
def world(app: FastAPI, make_key: Callable[..., str]) -> Iterator[World]:
    """HOME and an admin key; other partnerships appear when a key is scoped to them."""
    # raise_server_exceptions=False: a 5xx must come back as a response the test can check.
    with TestClient(app, raise_server_exceptions=False) as api:
        created = World(api=api, make_key=make_key)
        created.add_partnership(HOME)
        yield created
