"""The cases domain's rows of the route matrices: the event payloads and case bodies, who
may write, the journeys to each state, the edge values, and the fields of a case the server
controls.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from review_engine import workflow
from review_engine.calendar import Calendar
from review_engine.cases.models import Case
from review_engine.cases.schemas import CaseCreate, CasePatch, CaseRead
from review_engine.timeline import CaseTimeline
from review_engine.workflow.events import PAYLOAD_SCHEMAS
from tests.cases_helpers import new_case
from tests.matrix.tables import Call, DomainTable, Edge, Route
from tests.matrix.world import AWAY, HOME

if TYPE_CHECKING:
    from tests.matrix.core import Endpoint

MISSING_CASE = "00000000-0000-4000-8000-000000000000"

# --- workflow events ------------------------------------------------------------------------

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

_EVENT_PATH = re.compile(r"^/cases/\{case_id\}/events/(\w+)$")


def event_route(event: str) -> Route:
    return ("POST", f"/cases/{{case_id}}/events/{event}")


def event_of(endpoint: Endpoint) -> str | None:
    """The workflow event `endpoint` fires, if it fires one."""
    match = _EVENT_PATH.match(endpoint.path)
    return match.group(1) if match and endpoint.method == "POST" else None


def _every_event_has_a_well_formed_payload() -> None:
    assert set(EVENT_PAYLOADS) == set(workflow.EVENTS), (
        f"events with no payload: {sorted(set(workflow.EVENTS) - set(EVENT_PAYLOADS))},"
        f" payloads of no event: {sorted(set(EVENT_PAYLOADS) - set(workflow.EVENTS))}"
    )
    for event, payload in EVENT_PAYLOADS.items():
        PAYLOAD_SCHEMAS[event].model_validate(payload)  # the samples are well-formed


# --- the permission table and request samples -----------------------------------------------

# Writes, by (method, path template); a workflow event needs a manager when it decides
# publication, a member otherwise.
WRITE_ROLES: dict[Route, str] = {
    ("POST", "/cases"): "member",
    ("PATCH", "/cases/{case_id}"): "member",
    ("POST", "/cases/{case_id}/waivers"): "manager",
    ("DELETE", "/cases/{case_id}/waivers/{clock}"): "manager",
    **{
        event_route(event): "manager" if event in workflow.PUBLICATION_EVENTS else "member"
        for event in workflow.EVENTS
    },
}


def _copy_of(payload: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda n: dict(payload)


BODY_SAMPLES = {
    ("POST", "/cases"): lambda n: new_case(reference=f"SAMPLE-{n}", partnership=HOME),
    ("PATCH", "/cases/{case_id}"): lambda n: {"themes": ["neglect", f"sample-{n}"]},
    ("POST", "/cases/{case_id}/waivers"): lambda n: {"clock": "notification", "reason": f"r{n}"},
    **{event_route(event): _copy_of(payload) for event, payload in EVENT_PAYLOADS.items()},
}

# --- journeys -------------------------------------------------------------------------------

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

# --- errors and edge values -----------------------------------------------------------------


def _bad_requests(case: dict[str, Any]) -> Iterator[tuple[Call, int | set[int]]]:
    """Unknown routes under a case, a case that does not exist, a reference taken."""
    for url in (f"/cases/{case['id']}/nope", f"/cases/{case['id']}/events/explode"):
        yield Call("POST", url, body={}), 404
        yield Call("GET", url), 404
    yield Call("GET", f"/cases/{MISSING_CASE}"), 404
    yield Call("POST", "/cases", body=new_case(reference=case["reference"])), 409


def _cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


# Values no schema can rule out but the API must still refuse, by parameter name.
BAD_QUERY_VALUES = {
    "cursor": ["garbage", base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode()],
    "state": ["bogus"],
}

# The years the bank-holiday calendar covers (1872-2100 with holidays 0.109).
_FIRST_YEAR, _LAST_YEAR = Calendar().first_year, Calendar().last_year
BEFORE_CALENDAR = f"{_FIRST_YEAR - 1}-12-31"
AFTER_CALENDAR = f"{_LAST_YEAR + 1}-06-01"

# The later ones were 500s once: a cursor without a UTC offset, dates outside the bank
# holiday calendar's years, and NUL characters (which PostgreSQL text cannot hold).
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
    # Cursors the API never writes, whose positions hold the wrong kinds: once 500s.
    "cursor-with-a-number-for-an-id": Edge(
        "GET", "/cases", params={"cursor": _cursor(["2026-01-01T00:00:00+00:00", 5])}
    ),
    "history-cursor-past-any-key": Edge(
        "GET", "/cases/{case_id}/history", params={"cursor": _cursor([2**70])}
    ),
    "history-cursor-of-infinity": Edge(
        "GET",
        "/cases/{case_id}/history",
        params={"cursor": base64.urlsafe_b64encode(b"[1e400]").decode()},
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
        journey=journey_to("lcspr"),
    ),
    "rescheduled-to-year-9999": Edge(
        "POST",
        "/cases/{case_id}/events/reschedule_publication",
        body={
            "rescheduled_on": "2026-10-06",
            "planned_publication_on": "9999-12-31",
            "reason": "indefinitely",
        },
        journey=journey_to("pre_publication"),
    ),
    "nul-in-summary": Edge("POST", "/cases", body=new_case(reference="NUL-1", summary="a\x00b")),
    "nul-in-patched-summary": Edge("PATCH", "/cases/{case_id}", body={"summary": "a\x00b"}),
    "nul-in-theme-query": Edge("GET", "/cases", params={"theme": "\x00"}),
    "nul-in-partnership-query": Edge("GET", "/cases", params={"partnership": "\x00"}),
    "nul-in-event-reason": Edge(
        "POST",
        "/cases/{case_id}/events/decide_not_to_notify",
        body={"decided_on": "2026-06-03", "reason": "a\x00b"},
        moves_the_case=True,
    ),
}

# --- mass assignment (API3) ---------------------------------------------------------------

# What the issue names as server-controlled; the generated lists below must include them all.
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


PATCH_SERVER_FIELDS = sorted(_all_case_fields() - set(CasePatch.model_fields))
CREATE_SERVER_FIELDS = sorted(_all_case_fields() - set(CaseCreate.model_fields))

# Values a client might really try to set these fields to (others get one by their name's
# form: a date, a time, or some text).
PLAUSIBLE_VALUES: dict[str, Any] = {
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

TABLE = DomainTable(
    write_roles=WRITE_ROLES,
    bodies=BODY_SAMPLES,
    path_samples={"case_id": MISSING_CASE, "clock": "notification"},
    missing_ids={"case_id": MISSING_CASE},
    etag_params=frozenset({"case_id"}),
    bad_query_values=BAD_QUERY_VALUES,
    bad_requests=_bad_requests,
    edges=EDGES,
    plausible_values=PLAUSIBLE_VALUES,
    checks=(_every_event_has_a_well_formed_payload,),
)
