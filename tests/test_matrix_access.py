"""Who may call what, generated from `app.routes` (reliability.md §3 API1/5/9; see
tests/matrix/ for the machinery and the domains' tables).

* Inventory (API9): the sweeps see every documented operation; every route is in the
  permission table and has samples. Unauthenticated calls get 401 with a challenge, except
  on an allow-list; with docs turned off (API8) only the probes answer.
* BFLA (API5): each role × each route matches the permission table: 403 exactly where the
  role is too low.
* BOLA (API1): a key limited to another partnership cannot tell a case or partnership from
  one that does not exist (404, byte-identical apart from the id), and changes nothing.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from review_engine import workflow
from review_engine.app import create_app
from review_engine.settings import Settings
from tests.matrix.core import (
    BODY_SAMPLES,
    CHECKS,
    MISSING_IDS,
    NO_KEY_PATHS,
    PUBLIC_PATHS,
    PUBLIC_PATHS_WITHOUT_DOCS,
    ROLES,
    Endpoint,
    assert_problem,
    changed_tables,
    documented_paths,
    endpoints,
    objects_for,
    offline_app,
    path_values,
    problem_issues,
    required_role,
    role_allows,
    sample_call,
    send,
    snapshot,
)
from tests.matrix.domains.cases import event_of
from tests.matrix.tables import Headers
from tests.matrix.world import AWAY, HOME, World, world

__all__ = ["documented_paths", "offline_app", "world"]  # fixtures (pytest finds them here)

# --- inventory (API9) ---------------------------------------------------------------------


def test_the_route_table_includes_every_documented_operation(
    offline_app: FastAPI, documented_paths: dict[str, Any]
) -> None:
    """The sweeps see every operation OpenAPI documents (nothing hides in a sub-router)."""
    seen = {(endpoint.method, endpoint.path) for endpoint in endpoints(offline_app)}
    documented = {
        (method.upper(), path)
        for path, operations in documented_paths.items()
        for method in operations
    }
    assert documented <= seen, sorted(documented - seen)
    assert {e.path for e in endpoints(offline_app) if event_of(e)} == {
        f"/cases/{{case_id}}/events/{event}" for event in workflow.EVENTS
    }


def test_every_route_is_in_the_permission_table_and_has_samples(offline_app: FastAPI) -> None:
    for endpoint in endpoints(offline_app):
        required_role(endpoint)  # fails naming a route missing from the table
        sample_call(endpoint)  # fails naming a path parameter with no sample
        if endpoint.has_body:
            assert (endpoint.method, endpoint.path) in BODY_SAMPLES, f"{endpoint}: no sample body"
    assert CHECKS  # e.g. every event has a payload, which is well-formed
    for check in CHECKS:
        check()


def test_without_docs_only_the_probes_answer_without_credentials(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """The same inventory with docs turned off (API8): only the probes answer. (Only
    /readyz reaches the database here, so one migrated SQLite copy is enough.)"""
    database = tmp_path / "no-docs.db"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{database}", docs_enabled=False)
    app = create_app(settings)
    answered = set()
    with TestClient(app, raise_server_exceptions=False) as api:
        for endpoint in endpoints(app):
            response = send(api, sample_call(endpoint))
            assert response.status_code < 500, f"{endpoint}: {response.text}"
            if response.status_code != 401:
                answered.add(endpoint.path)
        for path in PUBLIC_PATHS - PUBLIC_PATHS_WITHOUT_DOCS:
            assert_problem(api.get(path), 404)
    assert answered == PUBLIC_PATHS_WITHOUT_DOCS


# Credentials that must all be refused: none (another scheme, e.g. Basic, is read as none),
# a malformed token, and a well-formed key that was never issued.
BAD_CREDENTIALS: dict[str, Headers] = {
    "none": {},
    "malformed-token": {"Authorization": "Bearer not-a-key"},
    "unknown-key": {"Authorization": f"Bearer re_0123456789ab_{'x' * 43}"},
}


def test_only_the_allow_list_answers_without_valid_credentials(
    world: World, app: FastAPI, session: Session
) -> None:
    """Every route outside PUBLIC_PATHS answers every bad credential with a 401 problem and a
    Bearer challenge, writing nothing; so the routes that answer without valid credentials
    are exactly PUBLIC_PATHS."""
    case = world.new_case()
    objects = objects_for(world, case)
    before = snapshot(session)
    mismatches, answered = [], set()
    for (credentials, headers), endpoint in itertools.product(
        BAD_CREDENTIALS.items(), endpoints(app)
    ):
        call = sample_call(endpoint, **objects, if_match=case["_etag"])
        if endpoint.path in PUBLIC_PATHS:
            if not headers:
                response = send(world.api, call)
                assert response.status_code < 500, f"{call}: {response.text}"
                if response.status_code != 401:
                    answered.add(endpoint.path)
            continue
        response = send(world.api, call, headers)
        if response.status_code != 401:
            answered.add(endpoint.path)
        issues = problem_issues(response, 401)
        if not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
            issues.append(f"WWW-Authenticate {response.headers.get('WWW-Authenticate')!r}")
        if issues:
            mismatches.append(f"{credentials}: {call}: {issues}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []
    assert answered == PUBLIC_PATHS


# --- BFLA (API5): roles × routes = the permission table ----------------------------------


def test_role_matrix_matches_the_permission_table(
    world: World, app: FastAPI, session: Session
) -> None:
    """Every role × every route, with keys that may see every partnership: a 403 problem
    exactly where the role is too low (writing nothing), and where it is enough an answer
    past authorization (not 401/403, not 404 for the case that exists, not 5xx)."""
    case = world.new_case()
    objects = objects_for(world, case)
    matrix = list(itertools.product(ROLES, endpoints(app)))
    mismatches = []

    before = snapshot(session)
    for role, endpoint in matrix:
        if role_allows(role, endpoint):
            continue
        call = sample_call(endpoint, **objects, if_match=case["_etag"])
        response = send(world.api, call, world.key(role))
        issues = problem_issues(response, 403)
        if not issues and response.json()["type"] != "/problems/forbidden":
            issues.append(f"type {response.json()['type']}")
        if issues:
            mismatches.append(f"{role} {call}: {issues}")
    writes = changed_tables(before, snapshot(session))

    for role, endpoint in matrix:
        if not role_allows(role, endpoint):
            continue
        call = sample_call(endpoint, **objects)
        response = send(world.api, call, world.key(role))
        if response.status_code in (401, 403, 404, 405) or response.status_code >= 500:
            mismatches.append(f"{role} {call}: {response.status_code} {response.text[:200]}")

    assert not mismatches, "\n".join(mismatches)
    assert writes == [], f"refused requests wrote: {writes}"
    refused = sum(not role_allows(role, endpoint) for role, endpoint in matrix)
    assert 0 < refused < len(matrix)


# --- BOLA (API1): another partnership's key sees nothing ---------------------------------


def _without(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "<id>")
    return text


def test_keys_of_another_partnership_cannot_see_or_change_anything(
    world: World, app: FastAPI, session: Session
) -> None:
    """Every route with an object id in its path × keys limited to AWAY (one per distinct
    set of permitted routes): the answer for HOME's object is the answer for an object that
    does not exist (404 where the role may use the route), and nothing is written."""
    case = world.new_case()
    objects = objects_for(world, case)
    # The public feed is everyone's by design (no key, allow-listed fields), and a calendar
    # feed's URL is its own credential: neither is an object a key reaches.
    # A clock and a chart are names, not objects: a route with nothing else in its path
    # names no object (the yearly report's charts are scoped by their query, as the report).
    names = {"clock", "chart"}
    targeted = [e for e in endpoints(app) if set(e.params) - names and e.path not in NO_KEY_PATHS]
    assert {name for e in targeted for name in e.params} <= set(objects) | {"code", *names}
    roles: dict[frozenset[Endpoint], str] = {}
    for role in ROLES:
        roles.setdefault(frozenset(e for e in targeted if role_allows(role, e)), role)
    outsiders = {role: world.key(role, scope=AWAY) for role in roles.values()}
    # HOME's objects (the case made above, HOME itself) against objects that do not exist.
    owned = path_values(**objects, code=HOME)
    mismatches = []

    before = snapshot(session)
    for role, endpoint in itertools.product(roles.values(), targeted):
        outsider = outsiders[role]
        real = sample_call(endpoint, **owned, if_match=case["_etag"])
        missing = sample_call(endpoint, **MISSING_IDS)
        response = send(world.api, real, outsider)
        control = send(world.api, missing, outsider)
        expected = 404 if role_allows(role, endpoint) else {403, 404}
        issues = problem_issues(response, expected)
        if response.status_code != control.status_code or _without(
            response.text, *(owned[name] for name in MISSING_IDS)
        ) != _without(control.text, *MISSING_IDS.values()):
            issues.append(f"differs from a missing object: {control.status_code} {control.text}")
        if issues:
            mismatches.append(f"{role}@{AWAY} {real}: {issues}\n    {response.text[:300]}")
    writes = changed_tables(before, snapshot(session))

    # The same requests from HOME's own admin do reach the case (so the 404s above are
    # about scope, not a malformed request).
    owner = world.key("admin", scope=HOME)
    for endpoint in targeted:
        call = sample_call(endpoint, **objects, code=HOME)
        response = send(world.api, call, owner)
        if response.status_code in (403, 404) or response.status_code >= 500:
            mismatches.append(f"owner {call}: {response.status_code} {response.text[:200]}")

    assert not mismatches, "\n".join(mismatches)
    assert writes == [], f"cross-partnership requests wrote: {writes}"
