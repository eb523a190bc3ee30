"""`null` sent to every field of every write route: refused with a 422 naming the field
wherever the field cannot be null, never a 5xx, and whatever the answer, the case, the
partnership and the objects written to still read afterwards (nothing corrupt was stored).

The routes and their fields come from the OpenAPI document, so a new route or field is
covered without editing this file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI

from review_engine import workflow
from tests.matrix.core import Endpoint, endpoints, object_urls, objects_for, sample_call, send
from tests.matrix.domains.cases import EVENT_PAYLOADS, LCSPR_TO_CLOSED, event_of
from tests.matrix.world import HOME, World, world

__all__ = ["world"]  # the fixture, shared with the route matrices

# A journey to a state where each event is allowed, as (event, payload, state after).
_REFERRED: list[tuple[str, dict[str, Any], str]] = []
_NOT_NOTIFIED = [("decide_not_to_notify", EVENT_PAYLOADS["decide_not_to_notify"], "not_notified")]
_NATIONAL = [
    ("notify_panel", EVENT_PAYLOADS["notify_panel"], "rapid_review"),
    ("submit_rapid_review", EVENT_PAYLOADS["submit_rapid_review"], "awaiting_panel"),
    (
        "record_panel_response",
        {"received_on": "2026-07-01", "outcome": "national_review"},
        "national_review",
    ),
]
_LEARNING = [
    *_NOT_NOTIFIED,
    ("start_learning_review", {"started_on": "2026-06-10"}, "learning_review"),
]


def _journey_to_allow(event: str) -> list[tuple[str, dict[str, Any], str]]:
    """A journey after which `event` is allowed: the LCSPR journey up to it (its guards
    then hold, e.g. copies sent before publishing), else one reaching a state it leaves."""
    lcspr_events = [step[0] for step in LCSPR_TO_CLOSED]
    if event in lcspr_events:
        return LCSPR_TO_CLOSED[: lcspr_events.index(event)]
    sources = {
        transition["source"]
        for described in workflow.describe()["events"]
        if described["name"] == event
        for transition in described["transitions"]
    }
    journeys = [_REFERRED, _NOT_NOTIFIED, _LEARNING, _NATIONAL] + [
        LCSPR_TO_CLOSED[:n] for n in range(1, len(LCSPR_TO_CLOSED))
    ]
    for journey in journeys:
        if (journey[-1][2] if journey else "referred") in sources:
            return journey
    pytest.fail(f"no journey reaches a state that allows {event}")


def _schema(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _nullable(openapi: dict[str, Any], prop: dict[str, Any]) -> bool:
    prop = _schema(openapi, prop)
    if prop.get("type") == "null" or "null" in (prop.get("type") or []):
        return True
    return any(_nullable(openapi, option) for option in prop.get("anyOf", []))


def _write_fields(app: FastAPI) -> list[tuple[Endpoint, str, bool]]:
    openapi = app.openapi()
    found = []
    for endpoint in endpoints(app):
        operation = openapi["paths"].get(endpoint.path, {}).get(endpoint.method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        body = _schema(openapi, content["application/json"]["schema"])
        for name, prop in body.get("properties", {}).items():
            found.append((endpoint, name, _nullable(openapi, prop)))
    return found


def test_every_write_route_and_field_is_covered(app: FastAPI) -> None:
    fields = _write_fields(app)
    routes = {str(endpoint) for endpoint, _, _ in fields}
    # + cases (3), partnerships (2), agencies, recommendations (2), actions (3), contributions
    # (2), subscriptions (2)
    assert len(routes) == len(workflow.EVENTS) + 17, sorted(routes)
    assert ("PATCH /cases/{case_id}", "children", False) in {
        (str(e), name, nullable) for e, name, nullable in fields
    }


def test_null_in_any_field_is_refused_or_harmless_and_everything_still_reads(
    app: FastAPI, world: World
) -> None:
    problems = []
    for endpoint, name, nullable in _write_fields(app):
        event = event_of(endpoint)
        journey = _journey_to_allow(event) if event else _REFERRED
        case = world.drive(journey) if journey else world.new_case()
        # Objects to write to (an action, a contribution…) where the route takes no event.
        values = {"case_id": case["id"]} if event else objects_for(world, case)
        call = sample_call(endpoint, **values, if_match=case["_etag"])
        body = {**(call.body or {}), name: None}
        response = send(world.api, replace(call, body=body), world.key("admin"))
        errors = response.json().get("errors", []) if response.status_code >= 400 else []
        fields = [error.get("field") for error in errors]
        if response.status_code >= 500:
            problems.append(f"{endpoint} {name}=null: {response.status_code}")
        elif not nullable and (response.status_code != 422 or f"body.{name}" not in fields):
            problems.append(f"{endpoint} {name}=null: {response.status_code} {fields}")
        for url in (f"/cases/{case['id']}", f"/partnerships/{HOME}", *object_urls(values)):
            read = world.api.get(url, headers=world.key("admin"))
            if read.status_code != 200:
                problems.append(f"after {endpoint} {name}=null, {url} reads {read.status_code}")
    assert not problems, "\n".join(problems)
