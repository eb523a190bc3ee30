"""Security matrices generated from `app.routes` (reliability.md §3 API1/3/5/8/9; §7 scenarios
2, 5, 15, 16, 17 and 23).

Every test below walks the app's own route table, so a route added later is swept
automatically. Where a sweep needs to know something about a route (who may call it, what body
it takes), it looks it up in a table here and fails by name when the route is missing from it.

* BOLA (API1): a key limited to another partnership cannot tell a case or partnership from one
  that does not exist (404, byte-identical apart from the id), and changes nothing.
* BFLA (API5): each role × each route matches the permission table: 403 exactly where the
  role is too low. Unauthenticated calls get 401 with a challenge, except on an allow-list
  (API9 inventory).
* Mass assignment (API3): server-controlled fields in PATCH/POST bodies give 422 naming the
  field, and nothing changes.
* Errors (API8): a sweep of bad requests, all `application/problem+json`, never 5xx, with no
  tracebacks, SQL or file paths.
* Terminal states: `closed` and `withdrawn` cases refuse every event (409, no writes).

"Nothing changed" is checked on a full snapshot of every table except `api_key`, whose
`last_used_at` moves whenever a key authenticates.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Table, select
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel

from review_engine import workflow
from review_engine.app import create_app
from review_engine.body_limit import MAX_BODY_BYTES
from review_engine.calendar import Calendar
from review_engine.cases.models import Case
from review_engine.cases.schemas import CaseCreate, CasePatch, CaseRead
from review_engine.partnerships.schemas import PartnershipCreate, PartnershipRead, PartnershipUpdate
from review_engine.settings import Settings
from review_engine.timeline import CaseTimeline
from review_engine.workflow.events import PAYLOAD_SCHEMAS
from tests.cases_helpers import new_case

Headers = dict[str, str]
Snapshot = dict[str, list[str]]

PROBLEM = "application/problem+json"
ROLES = ("viewer", "member", "manager", "admin")
HOME = "wessex"  # where the cases live
AWAY = "kingsmere"  # the other partnership: its keys must not see HOME's cases
MISSING_CASE = "00000000-0000-4000-8000-000000000000"
MISSING_CODE = "no-such-partnership"

# --- the permission table (what the issue specifies; never read from src/) ----------------

# Routes anyone may call. /docs/oauth2-redirect is the static helper page FastAPI serves
# next to /docs (it exists only while docs are enabled).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
# With docs turned off (production, API8) only the probes remain.
PUBLIC_PATHS_WITHOUT_DOCS = frozenset({"/healthz", "/readyz"})

PUBLICATION_EVENTS = workflow.PUBLICATION_EVENTS

# Writes that are not workflow events, by (method, path template).
WRITE_ROLES: dict[tuple[str, str], str] = {
    ("POST", "/cases"): "member",
    ("PATCH", "/cases/{case_id}"): "member",
    ("PATCH", "/partnerships/{code}"): "manager",
    ("POST", "/partnerships"): "admin",
    ("POST", "/cases/{case_id}/waivers"): "manager",
    ("DELETE", "/cases/{case_id}/waivers/{clock}"): "manager",
}

# --- request samples: a valid request for every route -----------------------------------

# A well-formed payload for every event (valid against its schema; whether the event is
# allowed depends on the case). Dates are in 2026, before today.
EVENT_PAYLOADS: dict[str, dict[str, Any]] = {
    "notify_panel": {"notified_on": "2026-06-03"},
    "inform_partners": {"partners_informed_on": "2026-06-04"},
    "decide_not_to_notify": {"decided_on": "2026-06-03", "reason": "criteria not met"},
    "submit_rapid_review": {"submitted_on": "2026-06-19", "recommendation": "lcspr"},
    "record_panel_response": {"received_on": "2026-07-01", "outcome": "agreed"},
    "pause": {
        "started_on": "2026-07-06",
        "reason": "criminal trial",
        "panel_informed_on": "2026-07-07",
    },
    "resume": {"resumed_on": "2026-07-13"},
    "escalate_to_national_review": {"decided_on": "2026-07-14"},
    "approve_final_report": {"approved_on": "2026-10-01", "planned_publication_on": "2026-11-20"},
    "send_advance_copies": {"sent_on": "2026-10-05"},
    "reschedule_publication": {
        "rescheduled_on": "2026-10-06",
        "planned_publication_on": "2026-11-04",
        "reason": "inquest",
    },
    "publish": {
        "published_on": "2026-11-02",
        "mode": "redacted",
        "url": "https://example.org/reviews/child-t",
        "title": "Child T",
    },
    "withhold_publication": {
        "reason": "would identify a sibling",
        "panel_informed_on": "2026-11-02",
    },
    "start_learning_review": {"started_on": "2026-06-10"},
    "complete_learning_review": {"completed_on": "2026-09-01"},
    "complete_national_review": {"completed_on": "2026-09-01"},
    "withdraw": {"reason": "not a serious incident after all", "withdrawn_on": "2026-06-25"},
    "close": {"closed_on": "2026-11-10"},
}

# Bodies for the other routes that take one, by (method, path template); the argument makes
# codes and references unique.
BODY_SAMPLES: dict[tuple[str, str], Callable[[int], dict[str, Any]]] = {
    ("POST", "/partnerships"): lambda n: {"code": f"sample-{n}", "name": f"Sample {n} SCP"},
    ("PATCH", "/partnerships/{code}"): lambda n: {"name": f"Renamed {n} SCP"},
    ("POST", "/cases"): lambda n: new_case(reference=f"SAMPLE-{n}", partnership=HOME),
    ("PATCH", "/cases/{case_id}"): lambda n: {"themes": ["neglect", f"sample-{n}"]},
    ("POST", "/cases/{case_id}/waivers"): lambda n: {"clock": "notification", "reason": f"r{n}"},
}

# Journeys through the API to each final state, as (event, payload, state after).
LCSPR_TO_CLOSED: list[tuple[str, dict[str, Any], str]] = [
    ("notify_panel", EVENT_PAYLOADS["notify_panel"], "rapid_review"),
    ("inform_partners", EVENT_PAYLOADS["inform_partners"], "rapid_review"),
    ("submit_rapid_review", EVENT_PAYLOADS["submit_rapid_review"], "awaiting_panel"),
    ("record_panel_response", EVENT_PAYLOADS["record_panel_response"], "lcspr"),
    ("pause", EVENT_PAYLOADS["pause"], "lcspr_paused"),
    ("resume", EVENT_PAYLOADS["resume"], "lcspr"),
    ("approve_final_report", EVENT_PAYLOADS["approve_final_report"], "pre_publication"),
    ("send_advance_copies", EVENT_PAYLOADS["send_advance_copies"], "pre_publication"),
    ("reschedule_publication", EVENT_PAYLOADS["reschedule_publication"], "pre_publication"),
    ("publish", EVENT_PAYLOADS["publish"], "action_tracking"),
    ("close", EVENT_PAYLOADS["close"], "closed"),
]


def journey_to(state: str) -> list[tuple[str, dict[str, Any], str]]:
    """The start of the LCSPR journey, up to the first step that reaches `state`."""
    if state == "referred":
        return []
    reached = [step[2] for step in LCSPR_TO_CLOSED].index(state)
    return LCSPR_TO_CLOSED[: reached + 1]


TERMINAL_JOURNEYS: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "closed-after-published-lcspr": LCSPR_TO_CLOSED,
    "closed-at-notification": [
        ("notify_panel", {"notified_on": "2026-06-03", "rapid_review_required": False}, "closed")
    ],
    "withdrawn-awaiting-panel": [
        ("notify_panel", EVENT_PAYLOADS["notify_panel"], "rapid_review"),
        ("submit_rapid_review", EVENT_PAYLOADS["submit_rapid_review"], "awaiting_panel"),
        ("withdraw", EVENT_PAYLOADS["withdraw"], "withdrawn"),
    ],
}


# --- the route table ----------------------------------------------------------------------

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_EVENT_PATH = re.compile(r"^/cases/\{case_id\}/events/(\w+)$")


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, as `app.routes` declares it."""

    method: str
    path: str  # the template, e.g. /cases/{case_id}
    has_body: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def event(self) -> str | None:
        match = _EVENT_PATH.match(self.path)
        return match.group(1) if match and self.method == "POST" else None

    @property
    def takes_if_match(self) -> bool:
        return "case_id" in self.params and self.method != "GET"


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app serves, routes of included routers too.

    `iter_route_contexts` flattens FastAPI's included routers (`app.routes` holds one entry
    per `include_router` call, not the routes themselves).
    """
    found: list[Endpoint] = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        path, methods = route.path, route.methods
        assert path is not None, f"a route with no path: {original!r}"
        assert methods, f"a route with no methods: {original!r}"
        api_route = original if isinstance(original, APIRoute) else None
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue  # Starlette's implicit HEAD for GET
            found.append(
                Endpoint(
                    method=method,
                    path=path,
                    has_body=api_route is not None and api_route.body_field is not None,
                )
            )
    return found


def required_role(endpoint: Endpoint) -> str | None:
    """The lowest role the permission table allows on `endpoint`; None for public routes."""
    if endpoint.path in PUBLIC_PATHS:
        return None
    if endpoint.method == "GET":
        return "viewer"
    if endpoint.event is not None:
        return "manager" if endpoint.event in PUBLICATION_EVENTS else "member"
    role = WRITE_ROLES.get((endpoint.method, endpoint.path))
    if role is None:
        pytest.fail(f"{endpoint} is not in the permission table: add it to WRITE_ROLES")
    return role


def role_allows(role: str, endpoint: Endpoint) -> bool:
    needed = required_role(endpoint)
    return needed is None or ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Call:
    """A concrete request: method, URL, and what to send."""

    method: str
    url: str
    body: Any = None
    headers: Headers = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        query = "&".join(f"{name}={value}" for name, value in self.params.items())
        return f"{self.method} {self.url}" + (f"?{query}" if query else "")


_numbers = itertools.count(1)


def sample_body(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.event is not None:
        return dict(EVENT_PAYLOADS.get(endpoint.event, {}))
    make = BODY_SAMPLES.get((endpoint.method, endpoint.path))
    return make(next(_numbers)) if make is not None else {}


def sample_call(
    endpoint: Endpoint,
    *,
    case_id: str = MISSING_CASE,
    code: str = HOME,
    if_match: str = "*",
) -> Call:
    """A valid request to `endpoint` about the case `case_id` / partnership `code`."""
    values = {"case_id": case_id, "code": code, "clock": "notification"}
    unknown = [name for name in endpoint.params if name not in values]
    if unknown:
        pytest.fail(f"{endpoint}: no sample value for path parameter(s) {unknown}")
    url = _PARAM.sub(lambda match: values[match.group(1)], endpoint.path)
    headers = {"If-Match": if_match} if endpoint.takes_if_match else {}
    body = sample_body(endpoint) if endpoint.has_body else None
    return Call(endpoint.method, url, body=body, headers=headers)


def send(api: TestClient, call: Call, headers: Headers | None = None) -> httpx2.Response:
    return api.request(
        call.method,
        call.url,
        json=call.body,
        params=call.params or None,
        headers={**call.headers, **(headers or {})},
    )


# --- checks -------------------------------------------------------------------------------

_LEAKS = re.compile(
    r"Traceback|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bDELETE FROM\b|sqlalchemy|psycopg|sqlite3"
    r"|/work/|site-packages|\.py\b"
)


def problem_issues(response: httpx2.Response, status: int | set[int] | None = None) -> list[str]:
    """What is wrong with `response` as an RFC 9457 problem (empty when nothing is)."""
    issues: list[str] = []
    wanted = {status} if isinstance(status, int) else status
    if wanted is not None and response.status_code not in wanted:
        issues.append(f"status {response.status_code}, expected {sorted(wanted)}")
    if response.status_code >= 500:
        issues.append(f"server error {response.status_code}")
    if response.headers.get("content-type") != PROBLEM:
        issues.append(f"content-type {response.headers.get('content-type')!r}")
        return issues
    body = response.json()
    if not isinstance(body, dict):
        return [*issues, "body is not a JSON object"]
    for member in ("type", "title", "detail"):
        if not isinstance(body.get(member), str) or not body[member]:
            issues.append(f"member {member!r} missing or empty")
    if body.get("status") != response.status_code:
        issues.append(f"member status {body.get('status')!r} != {response.status_code}")
    if _LEAKS.search(response.text):
        issues.append(f"leaks internals: {_LEAKS.search(response.text)!r}")
    return issues


def assert_problem(
    response: httpx2.Response, status: int | set[int] | None = None
) -> dict[str, Any]:
    issues = problem_issues(response, status)
    assert not issues, (
        f"{response.request.method} {response.request.url}: {issues}\n{response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {str(error.get("field")) for error in body.get("errors") or []}


_tables_by_database: dict[str, list[Table]] = {}


def snapshot(session: Session) -> Snapshot:
    """Every row of every table (bar `api_key`), as sortable text; ends the read transaction
    so that SQLite's writers are not held up."""
    bind = session.get_bind()
    url = bind.engine.url.render_as_string()
    if url not in _tables_by_database:
        present = set(sa_inspect(bind).get_table_names())
        _tables_by_database[url] = [
            table
            for table in SQLModel.metadata.sorted_tables
            if table.name in present and table.name != "api_key"
        ]
    rows: Snapshot = {
        table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
        for table in _tables_by_database[url]
    }
    session.rollback()
    return rows


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return [
        f"{name}: {len(before.get(name, []))} -> {len(after.get(name, []))} rows"
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


# --- the world: partnerships, keys and cases, made through the API -----------------------


@dataclass
class World:
    api: TestClient
    make_key: Callable[..., str]
    keys: dict[tuple[str, str | None], Headers] = field(default_factory=dict)
    partnerships: set[str] = field(default_factory=set)

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

    def drive(self, journey: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
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


# --- inventory (API9) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline_app() -> Iterator[FastAPI]:
    """The app with no database behind it, for what depends on its code alone (its route
    table and OpenAPI document), so that those are built once, not per database."""
    app = create_app(Settings(_env_file=None, database_url="sqlite://"))
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def documented_paths(offline_app: FastAPI) -> dict[str, Any]:
    paths: dict[str, Any] = offline_app.openapi()["paths"]
    return paths


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
    assert {e.path for e in endpoints(offline_app) if e.event} == {
        f"/cases/{{case_id}}/events/{event}" for event in workflow.EVENTS
    }


def test_every_route_is_in_the_permission_table_and_has_samples(offline_app: FastAPI) -> None:
    for endpoint in endpoints(offline_app):
        required_role(endpoint)  # fails naming a route missing from the table
        sample_call(endpoint)  # fails naming a path parameter with no sample
        if endpoint.has_body and endpoint.event is None:
            assert (endpoint.method, endpoint.path) in BODY_SAMPLES, f"{endpoint}: no sample body"
    assert set(EVENT_PAYLOADS) == set(workflow.EVENTS)
    for event, payload in EVENT_PAYLOADS.items():
        PAYLOAD_SCHEMAS[event].model_validate(payload)  # the samples are well-formed


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
    before = snapshot(session)
    mismatches, answered = [], set()
    for (credentials, headers), endpoint in itertools.product(
        BAD_CREDENTIALS.items(), endpoints(app)
    ):
        call = sample_call(endpoint, case_id=case["id"], if_match=case["_etag"])
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
    matrix = list(itertools.product(ROLES, endpoints(app)))
    mismatches = []

    before = snapshot(session)
    for role, endpoint in matrix:
        if role_allows(role, endpoint):
            continue
        call = sample_call(endpoint, case_id=case["id"], if_match=case["_etag"])
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
        call = sample_call(endpoint, case_id=case["id"])
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
    targeted = [e for e in endpoints(app) if e.params]
    assert any("case_id" in e.params for e in targeted)
    roles: dict[frozenset[Endpoint], str] = {}
    for role in ROLES:
        roles.setdefault(frozenset(e for e in targeted if role_allows(role, e)), role)
    outsiders = {role: world.key(role, scope=AWAY) for role in roles.values()}
    mismatches = []

    before = snapshot(session)
    for role, endpoint in itertools.product(roles.values(), targeted):
        outsider = outsiders[role]
        real = sample_call(endpoint, case_id=case["id"], code=HOME, if_match=case["_etag"])
        missing = sample_call(endpoint, case_id=MISSING_CASE, code=MISSING_CODE)
        response = send(world.api, real, outsider)
        control = send(world.api, missing, outsider)
        expected = 404 if role_allows(role, endpoint) else {403, 404}
        issues = problem_issues(response, expected)
        if response.status_code != control.status_code or _without(
            response.text, case["id"], HOME
        ) != _without(control.text, MISSING_CASE, MISSING_CODE):
            issues.append(f"differs from a missing object: {control.status_code} {control.text}")
        if issues:
            mismatches.append(f"{role}@{AWAY} {real}: {issues}\n    {response.text[:300]}")
    writes = changed_tables(before, snapshot(session))

    # The same requests from HOME's own admin do reach the case (so the 404s above are
    # about scope, not a malformed request).
    owner = world.key("admin", scope=HOME)
    for endpoint in targeted:
        call = sample_call(endpoint, case_id=case["id"], code=HOME)
        response = send(world.api, call, owner)
        if response.status_code in (403, 404) or response.status_code >= 500:
            mismatches.append(f"owner {call}: {response.status_code} {response.text[:200]}")

    assert not mismatches, "\n".join(mismatches)
    assert writes == [], f"cross-partnership requests wrote: {writes}"


# --- mass assignment (API3) ---------------------------------------------------------------

# What the issue names as server-controlled; the generated set below must include them all.
NAMED_SERVER_FIELDS = frozenset(
    {
        "state",
        "version",
        "deadlines",
        "allowed_events",
        "timeline",
        "id",
        "partnership",
        "reference",
        "created_at",
        "updated_at",
        "notified_on",
        "submitted_on",
        "decided_on",
        "published_on",
    }
)


def _all_case_fields() -> set[str]:
    """Every field name a case has or an event records."""
    names = set(CaseRead.model_fields) | set(CaseCreate.model_fields) | set(Case.model_fields)
    names |= set(CaseTimeline.model_fields)
    for schema in PAYLOAD_SCHEMAS.values():
        names |= set(schema.model_fields)
    return names


def _plausible(name: str) -> Any:
    """A value a client might really try to set `name` to."""
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "partnership_id": str(uuid.uuid4()),
        "partnership": AWAY,
        "reference": "HIJACKED-1",
        "state": "closed",
        "version": 99,
        "incident_type": "death",
        "deadlines": [],
        "allowed_events": ["publish"],
        "timeline": {"aware_on": "2026-06-01", "closed_on": "2026-06-02"},
        "pauses": [],
        "waivers": {"rapid_review": "national relaxation"},
        "rapid_review_required": False,
        "recommendation": "no_further_review",
        "outcome": "agreed",
        "panel_outcome": "agreed",
        "review_route": "no_further_review",
        "mode": "full",
        "publication_mode": "full",
        "url": "https://example.org/x",
        "publication_url": "https://example.org/x",
    }
    if name in values:
        return values[name]
    if name.endswith("_on") or name == "as_of":
        return "2026-06-02"
    if name.endswith("_at"):
        return "2026-06-02T09:00:00Z"
    return "set by the client"


PATCH_SERVER_FIELDS = sorted(_all_case_fields() - set(CasePatch.model_fields))
CREATE_SERVER_FIELDS = sorted(_all_case_fields() - set(CaseCreate.model_fields))


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
            json={"themes": ["smuggled"], name: _plausible(name)},
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
    body.update({name: _plausible(name) for name in CREATE_SERVER_FIELDS})
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
        json={**EVENT_PAYLOADS["notify_panel"], **{name: _plausible(name) for name in smuggled}},
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
            method, path, json={**body, name: _plausible(name)}, headers=world.key()
        )
        issues = _refused_naming(response, name)
        if issues:
            mismatches.append(f"{method} {path} +{name}: {issues}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []


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
        if "pattern" in schema:
            bad.append("NOT A VALID VALUE!")
    return bad


# Values no schema can rule out but the API must still refuse, by parameter name.
_HAND_WRITTEN_BAD_QUERY = {
    "cursor": ["garbage", base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode()],
    "state": ["bogus"],
}


def _error_sweep(
    app: FastAPI, documented_paths: dict[str, Any], case: dict[str, Any]
) -> Iterator[tuple[Call, int | set[int]]]:
    """(request, the statuses it may get) for every kind of bad request on every route."""
    for endpoint in endpoints(app):
        valid = sample_call(endpoint, case_id=case["id"])
        operation = documented_paths.get(endpoint.path, {}).get(endpoint.method.lower(), {})
        # Bad query and path parameters, from the documented schema.
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            bad = _bad_values(parameter["schema"])
            if where == "query":
                bad += _HAND_WRITTEN_BAD_QUERY.get(name, [])
            for value in bad:
                if where == "query":
                    yield replace(valid, params={name: value}), 422
                elif where == "path":
                    sample = case["id"] if name == "case_id" else HOME
                    url = valid.url.replace(sample, value)
                    assert url != valid.url, f"no sample value for path parameter {name}"
                    yield replace(valid, url=url), 422
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
    # Unknown routes.
    for url in ("/nope", f"/cases/{case['id']}/nope", f"/cases/{case['id']}/events/explode"):
        yield Call("POST", url, body={}), 404
        yield Call("GET", url), 404
    yield Call("GET", f"/cases/{MISSING_CASE}"), 404
    yield Call("GET", f"/partnerships/{MISSING_CODE}"), 404
    # Conflicts.
    yield Call("POST", "/partnerships", body={"code": HOME, "name": "Again"}), 409
    yield Call("POST", "/cases", body=new_case(reference=case["reference"])), 409


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
    before = snapshot(session)
    mismatches, count = [], 0
    for call, statuses in _error_sweep(app, documented_paths, case):
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
        url = _PARAM.sub(lambda match: MISSING_CASE if match.group(1) == "case_id" else HOME, path)
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


# Edge values a validator could miss: each must be refused as a problem or served, never a
# 5xx. The later ones were 500s once: a cursor without a UTC offset, dates outside the bank
# holiday calendar's years, and NUL characters (which PostgreSQL text cannot hold).
@dataclass(frozen=True)
class Edge:
    method: str
    url: str  # may hold {case_id}
    body: Any = None  # JSON, or (raw text, content type)
    params: dict[str, str] = field(default_factory=dict)
    state: str = "referred"  # the state the case must be in first

    def call(self, case_id: str) -> Call:
        body = self.body
        if isinstance(body, tuple):
            body = (body[0].encode(), body[1])
        return Call(
            self.method,
            self.url.format(case_id=case_id),
            body=body,
            headers={"If-Match": "*"} if "{case_id}" in self.url else {},
            params=self.params,
        )


# The years the bank-holiday calendar covers (1872-2100 with holidays 0.109).
_FIRST_YEAR, _LAST_YEAR = Calendar().first_year, Calendar().last_year
BEFORE_CALENDAR = f"{_FIRST_YEAR - 1}-12-31"
AFTER_CALENDAR = f"{_LAST_YEAR + 1}-06-01"


def _cursor(position: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


EDGES: dict[str, Edge] = {
    "cursor-with-offset": Edge(
        "GET", "/cases", params={"cursor": _cursor(["2026-01-01T00:00:00+00:00", MISSING_CASE])}
    ),
    "list-as-of-calendar-start": Edge("GET", "/cases", params={"as_of": f"{_FIRST_YEAR}-01-01"}),
    "list-as-of-after-calendar": Edge("GET", "/cases", params={"as_of": AFTER_CALENDAR}),
    "due-before-year-1": Edge("GET", "/cases", params={"due_before": "0001-01-01"}),
    "lone-surrogate-in-summary": Edge(
        "PATCH", "/cases/{case_id}", body=('{"summary": "a\\ud800b"}', "application/json")
    ),
    "deeply-nested-json": Edge(
        "POST", "/cases", body=("[" * 5000 + "]" * 5000, "application/json")
    ),
    "cursor-without-offset": Edge(
        "GET", "/cases", params={"cursor": _cursor(["2026-01-01T00:00:00", MISSING_CASE])}
    ),
    "list-as-of-before-calendar": Edge("GET", "/cases", params={"as_of": BEFORE_CALENDAR}),
    "case-as-of-year-1": Edge("GET", "/cases/{case_id}", params={"as_of": "0001-01-01"}),
    "aware-on-before-calendar": Edge(
        "POST",
        "/cases",
        body=new_case(reference="OLD-1", aware_on=BEFORE_CALENDAR, incident_on=None),
    ),
    "planned-publication-after-calendar": Edge(
        "POST",
        "/cases/{case_id}/events/approve_final_report",
        body={"approved_on": "2026-10-01", "planned_publication_on": AFTER_CALENDAR},
        state="lcspr",
    ),
    "rescheduled-to-year-9999": Edge(
        "POST",
        "/cases/{case_id}/events/reschedule_publication",
        body={
            "rescheduled_on": "2026-10-06",
            "planned_publication_on": "9999-12-31",
            "reason": "indefinitely",
        },
        state="pre_publication",
    ),
    "nul-in-summary": Edge("POST", "/cases", body=new_case(reference="NUL-1", summary="a\x00b")),
    "nul-in-patched-summary": Edge("PATCH", "/cases/{case_id}", body={"summary": "a\x00b"}),
    "nul-in-partnership-name": Edge(
        "POST", "/partnerships", body={"code": "nul-name", "name": "a\x00b"}
    ),
    "nul-in-theme-query": Edge("GET", "/cases", params={"theme": "\x00"}),
    "nul-in-partnership-query": Edge("GET", "/cases", params={"partnership": "\x00"}),
    "nul-in-partnership-path": Edge("GET", "/partnerships/%00"),
    # Last: it moves the shared case on.
    "nul-in-event-reason": Edge(
        "POST",
        "/cases/{case_id}/events/decide_not_to_notify",
        body={"decided_on": "2026-06-03", "reason": "a\x00b"},
    ),
}


def _check_edge(world: World, edge: Edge, case: dict[str, Any] | None = None) -> list[str]:
    if case is None or case["state"] != edge.state:
        case = world.drive(journey_to(edge.state))  # listings need a case to list, too
    call = edge.call(case["id"])
    response = _send_any(world.api, call, world.key())
    issues = problem_issues(response) if response.status_code >= 400 else []
    return [f"{call}: {issue}\n    {response.text[:300]}" for issue in issues]


def test_edge_values_never_cause_a_server_error(world: World) -> None:
    case = world.new_case()  # shared: these edges change nothing that matters to the others
    mismatches = [issue for edge in EDGES.values() for issue in _check_edge(world, edge, case)]
    assert not mismatches, "\n".join(mismatches)


# --- terminal states accept nothing (scenario 5) ------------------------------------------


def test_every_final_state_has_a_journey() -> None:
    reached = {journey[-1][2] for journey in TERMINAL_JOURNEYS.values()}
    assert reached == set(workflow.FINAL_STATES) == {"closed", "withdrawn"}


# The first journey to each final state also tries a dry run with no payload and no
# If-Match. (Refusal depends on the state alone: a final state has no transitions.)
_DRY_RUN_JOURNEYS = {"closed-after-published-lcspr", "withdrawn-awaiting-panel"}


@pytest.mark.parametrize("journey", list(TERMINAL_JOURNEYS))
def test_a_case_in_a_final_state_refuses_every_event(
    world: World, app: FastAPI, session: Session, journey: str
) -> None:
    case = world.drive(TERMINAL_JOURNEYS[journey])
    final = case["state"]
    assert final in workflow.FINAL_STATES
    assert case["allowed_events"] == []
    shown, history = world.read(case["id"])
    events = [e for e in endpoints(app) if e.event is not None]
    before = snapshot(session)
    mismatches = []
    for endpoint in events:
        valid = sample_call(endpoint, case_id=case["id"], if_match=case["_etag"])
        variants = [valid]  # a well-formed payload, with the current ETag
        if journey in _DRY_RUN_JOURNEYS:
            variants.append(replace(valid, body={}, params={"dry_run": "true"}))
        for call in variants:
            response = send(world.api, call, world.key("admin"))
            issues = problem_issues(response, 409)
            if not issues:
                problem = response.json()
                if problem["type"] != "/problems/transition-not-allowed":
                    issues.append(f"type {problem['type']}")
                if problem.get("allowed_events") != []:
                    issues.append(f"allowed_events {problem.get('allowed_events')}")
                if problem.get("state") != final:
                    issues.append(f"state {problem.get('state')}")
            if issues:
                mismatches.append(f"{call}: {issues}\n    {response.text[:300]}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []
    assert world.read(case["id"]) == (shown, history)
