"""What clients send, generated from `app.routes` where it can be (reliability.md §3
API3/8; §7 scenarios 2, 15, 16, 17 and 23; see tests/matrix/ for the machinery and the
domains' tables).

* Mass assignment (API3): server-controlled fields in PATCH/POST bodies give 422 naming the
  field, and nothing changes.
* Errors (API8): a sweep of bad requests, all `application/problem+json`, never 5xx, with no
  tracebacks, SQL or file paths; wrong methods are 405 problems listing what is allowed.
* Edge values a validator could miss are refused as problems or served, never a 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from review_engine.body_limit import MAX_BODY_BYTES
from review_engine.partnerships.schemas import PartnershipCreate, PartnershipRead, PartnershipUpdate
from review_engine.workflow.events import PAYLOAD_SCHEMAS
from tests.cases_helpers import new_case
from tests.matrix.core import (
    BAD_QUERY_VALUES,
    BAD_REQUESTS,
    EDGES,
    SERVER_FIELDS,
    Call,
    Edge,
    Endpoint,
    changed_tables,
    documented_paths,
    edge_call,
    endpoints,
    error_fields,
    fill,
    object_urls,
    objects_for,
    offline_app,
    path_values,
    plausible,
    problem_issues,
    sample_call,
    send,
    snapshot,
)
from tests.matrix.domains.cases import (
    CREATE_SERVER_FIELDS,
    EVENT_PAYLOADS,
    NAMED_SERVER_FIELDS,
    PATCH_SERVER_FIELDS,
)
from tests.matrix.tables import Headers
from tests.matrix.world import HOME, World, world

__all__ = ["documented_paths", "offline_app", "world"]  # fixtures (pytest finds them here)

# --- mass assignment (API3) ---------------------------------------------------------------


def test_the_generated_server_field_lists_cover_the_named_fields() -> None:
    assert set(PATCH_SERVER_FIELDS) >= NAMED_SERVER_FIELDS
    assert set(CREATE_SERVER_FIELDS) >= NAMED_SERVER_FIELDS - {"partnership", "reference"}


def _refused_naming(response: httpx2.Response, *names: str) -> list[str]:
    """Issues unless `response` is a 422 problem whose errors name every one of `names`."""
    issues = problem_issues(response, 422)
    if not issues:
        unnamed = {f"body.{name}" for name in names} - error_fields(response.json())
        if unnamed:
            issues.append(f"errors do not name {sorted(unnamed)}: {response.json()['errors']}")
    return issues


def test_patching_a_server_controlled_field_is_refused_and_changes_nothing(
    world: World, session: Session
) -> None:
    case = world.new_case()
    shown, history = world.read(case["id"])
    before = snapshot(session)
    mismatches = []
    for name in PATCH_SERVER_FIELDS:
        # Smuggled in with a legitimate change, which must not apply either.
        response = world.api.patch(
            f"/cases/{case['id']}",
            json={"themes": ["smuggled"], name: plausible(name)},
            headers={**world.key(), "If-Match": case["_etag"]},
        )
        issues = _refused_naming(response, name)
        if issues:
            mismatches.append(f"PATCH themes+{name}: {issues}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []
    assert world.read(case["id"]) == (shown, history)


def test_creating_a_case_with_a_server_controlled_field_is_refused(
    world: World, session: Session
) -> None:
    """All of them at once: validation names every unknown field in one answer, so a field
    that became accepted shows up as one the errors no longer name."""
    body = new_case(reference="MA-1", partnership=HOME)
    body.update({name: plausible(name) for name in CREATE_SERVER_FIELDS})
    before = snapshot(session)
    response = world.api.post("/cases", json=body, headers=world.key("member"))
    assert _refused_naming(response, *CREATE_SERVER_FIELDS) == []
    assert changed_tables(before, snapshot(session)) == []


def test_an_event_payload_cannot_carry_server_controlled_fields(
    world: World, session: Session
) -> None:
    """notify_panel is allowed on a new case, so only the smuggled fields can refuse it (all
    at once, as for creation)."""
    case = world.new_case()
    smuggled = sorted(set(PATCH_SERVER_FIELDS) - set(PAYLOAD_SCHEMAS["notify_panel"].model_fields))
    before = snapshot(session)
    response = world.api.post(
        f"/cases/{case['id']}/events/notify_panel",
        json={**EVENT_PAYLOADS["notify_panel"], **{name: plausible(name) for name in smuggled}},
        headers={**world.key(), "If-Match": case["_etag"]},
    )
    assert _refused_naming(response, *smuggled) == []
    assert changed_tables(before, snapshot(session)) == []


def test_partnership_bodies_cannot_set_server_controlled_fields(
    world: World, session: Session
) -> None:
    """Fields a partnership shows but its create/update bodies do not take: 422, no change."""
    shown = set(PartnershipRead.model_fields)
    attempts = [
        ("POST", "/partnerships", {"code": "fresh", "name": "Fresh SCP"}, name)
        for name in sorted(shown - set(PartnershipCreate.model_fields))
    ] + [
        ("PATCH", f"/partnerships/{HOME}", {"name": "Renamed SCP"}, name)
        for name in sorted(shown - set(PartnershipUpdate.model_fields))
    ]
    assert {name for *_, name in attempts} >= {"id", "code", "created_at"}
    before = snapshot(session)
    mismatches = []
    for method, path, body, name in attempts:
        response = world.api.request(
            method, path, json={**body, name: plausible(name)}, headers=world.key()
        )
        issues = _refused_naming(response, name)
        if issues:
            mismatches.append(f"{method} {path} +{name}: {issues}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []


def test_bodies_of_other_domains_cannot_set_server_controlled_fields(
    world: World, session: Session
) -> None:
    """For every write route of the other domains (agencies, recommendations, actions,
    contributions): each field its object shows but its body does not take is a 422 naming
    it, smuggled in with a valid body, and nothing is written; the objects read as before."""
    case = world.new_case()
    objects = objects_for(world, case)
    assert SERVER_FIELDS
    assert all(SERVER_FIELDS.values())
    assert {"original_due_on", "overdue", "version"} <= set(
        SERVER_FIELDS[("PATCH", "/actions/{action_id}")]
    )
    reads = {url: world.api.get(url, headers=world.key()).json() for url in object_urls(objects)}
    before = snapshot(session)
    mismatches = []
    for (method, path), names in SERVER_FIELDS.items():
        call = sample_call(Endpoint(method, path, has_body=True), **objects)
        for name in names:
            body = {**(call.body or {}), name: plausible(name)}
            response = send(world.api, replace(call, body=body), world.key())
            issues = _refused_naming(response, name)
            if issues:
                mismatches.append(f"{method} {path} +{name}: {issues}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []
    assert {url: world.api.get(url, headers=world.key()).json() for url in reads} == reads


# --- errors (API8): every failure is a problem, never a 5xx -------------------------------


def _bad_values(schema: dict[str, Any]) -> list[str]:
    """Values the OpenAPI schema of a query or path parameter rules out."""
    options = schema.get("anyOf", [schema])
    schema = next(option for option in options if option.get("type") != "null")
    kind, bad = schema.get("type"), []
    if kind == "integer":
        bad += ["abc", "1.5"]
        if "minimum" in schema:
            bad.append(str(schema["minimum"] - 1))
        if "maximum" in schema:
            bad.append(str(schema["maximum"] + 1))
    elif kind == "boolean":
        bad.append("maybe")
    elif schema.get("format") == "date":
        bad += ["notadate", "2026-02-30"]
    elif schema.get("format") == "uuid":
        bad.append("not-a-uuid")
    elif kind == "string":
        if "maxLength" in schema:
            bad.append("x" * (schema["maxLength"] + 1))
        if "pattern" in schema and not re.search(schema["pattern"], "NOT A VALID VALUE!"):
            bad.append("NOT A VALID VALUE!")
    return bad


def _error_sweep(
    app: FastAPI, documented_paths: dict[str, Any], case: dict[str, Any], objects: dict[str, str]
) -> Iterator[tuple[Call, int | set[int]]]:
    """(request, the statuses it may get) for every kind of bad request on every route."""
    for endpoint in endpoints(app):
        valid = sample_call(endpoint, **objects)
        values = path_values(**objects)
        operation = documented_paths.get(endpoint.path, {}).get(endpoint.method.lower(), {})
        # Bad query and path parameters, from the documented schema.
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            bad = _bad_values(parameter["schema"])
            if where == "query":
                bad += BAD_QUERY_VALUES.get(name, [])
            for value in bad:
                if where == "query":
                    yield replace(valid, params={name: value}), 422
                elif where == "path":
                    url = valid.url.replace(values[name], value)
                    assert url != valid.url, f"no sample value for path parameter {name}"
                    yield replace(valid, url=url), 404 if name in endpoint.routed_params else 422
        # Bad bodies.
        if endpoint.has_body:
            for content, content_type, statuses in (
                (b'{"partnership": ', "application/json", {400, 422}),
                (b"[]", "application/json", {422}),
                (json.dumps(valid.body).encode(), "text/plain", {415, 422}),
                (b"{" + b" " * MAX_BODY_BYTES + b"}", "application/json", {413}),
            ):
                yield _raw(valid, content, content_type), statuses
        # Missing and unusable preconditions (scenario 2).
        if endpoint.takes_if_match:
            headers = {name: v for name, v in valid.headers.items() if name != "If-Match"}
            yield replace(valid, headers=headers), 428
            for tag in ('W/"v1-20260601"', '"v999-20260601"'):
                yield replace(valid, headers={**headers, "If-Match": tag}), 412
        if endpoint.method == "POST":
            headers = {**valid.headers, "Idempotency-Key": "k" * 300}
            yield replace(valid, headers=headers), 400
    # An unknown route; then the domains' own: unknown routes and objects, conflicts.
    yield Call("POST", "/nope", body={}), 404
    yield Call("GET", "/nope"), 404
    for bad_requests in BAD_REQUESTS:
        yield from bad_requests(case)


def _raw(call: Call, content: bytes, content_type: str) -> Call:
    return replace(call, body=(content, content_type))


def _send_any(api: TestClient, call: Call, headers: Headers) -> httpx2.Response:
    if isinstance(call.body, tuple):
        content, content_type = call.body
        return api.request(
            call.method,
            call.url,
            content=content,
            params=call.params or None,
            headers={**call.headers, **headers, "Content-Type": content_type},
        )
    return send(api, call, headers)


def test_bad_requests_are_problems_and_write_nothing(
    world: World, app: FastAPI, documented_paths: dict[str, Any], session: Session
) -> None:
    case = world.new_case()
    objects = objects_for(world, case)
    before = snapshot(session)
    mismatches, count = [], 0
    for call, statuses in _error_sweep(app, documented_paths, case, objects):
        count += 1
        response = _send_any(world.api, call, world.key())
        issues = problem_issues(response, statuses)
        if issues:
            mismatches.append(f"{call}: {issues}\n    {response.text[:300]}")
    assert not mismatches, f"{len(mismatches)} of {count}:\n" + "\n".join(mismatches)
    assert count > 150  # the sweep really is generated from the routes
    assert changed_tables(before, snapshot(session)) == []


def test_wrong_methods_are_405_problems_listing_what_the_path_allows(
    world: World, app: FastAPI
) -> None:
    allowed: dict[str, set[str]] = {}
    for endpoint in endpoints(app):
        allowed.setdefault(endpoint.path, set()).add(endpoint.method)
    mismatches = []
    for path, methods in sorted(allowed.items()):
        url = fill(path, path_values())
        # One unsupported method per path: Allow lists the path's methods whatever was tried.
        method = next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in methods)
        response = world.api.request(method, url, headers=world.key())
        issues = problem_issues(response, 405)
        header = response.headers.get("Allow", "")
        listed = {m.strip() for m in header.split(",") if m.strip()} - {"HEAD"}
        if listed != methods:
            issues.append(f"Allow {header!r}, expected {sorted(methods)}")
        if issues:
            mismatches.append(f"{method} {path}: {issues}")
    assert not mismatches, "\n".join(mismatches)


# --- edge values: refused as a problem or served, never a 5xx -----------------------------


def _check_edge(world: World, edge: Edge, case: dict[str, Any] | None = None) -> list[str]:
    if case is None or edge.journey:
        case = world.drive(edge.journey)  # listings need a case to list, too
    call = edge_call(edge, case_id=case["id"])
    response = _send_any(world.api, call, world.key())
    issues = problem_issues(response) if response.status_code >= 400 else []
    return [f"{call}: {issue}\n    {response.text[:300]}" for issue in issues]


def test_edge_values_never_cause_a_server_error(world: World) -> None:
    case = world.new_case()  # shared: these edges change nothing that matters to the others
    mismatches = [issue for edge in EDGES.values() for issue in _check_edge(world, edge, case)]
    assert not mismatches, "\n".join(mismatches)
