"""Calendar feeds: `/calendar-feeds/{token}.ics` read back with `vobject` (a reader independent
of the `icalendar` writer), nothing private in it, the token never kept or shown again, and
who may make, see and revoke a feed. SQLite and PostgreSQL; today pinned to Tue 1 Sep 2026.
Dates worked by hand (England and Wales): Mon 31 Aug 2026 is the Summer bank holiday."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx2
import pytest
import vobject
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session

from review_engine import deadline_context
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire

Headers = dict[str, str]
Json = dict[str, Any]
Event = tuple[str, date, str]  # SUMMARY, DTSTART, URL

TODAY = date(2026, 9, 1)
PROBLEM = "application/problem+json"
BASE = "http://testserver"
POLICE = "Wessex Police"
# Aware Mon 17 Aug 2026, notified Thu 20 Aug. Rapid review: 15 working days after the
# notification: Fri 21 (1), Mon 24-Fri 28 Aug (2-6), Mon 31 Aug a bank holiday, Tue 1-Fri
# 4 Sep (7-10), Mon 7-Fri 11 Sep (11-15): due Fri 11 Sep 2026 (weekdays alone: Thu 10 Sep).
AWARE, NOTIFIED, RAPID_DUE = "2026-08-17", "2026-08-20", date(2026, 9, 11)
# Partners to be told within 5 working days of awareness: Tue 18-Fri 21, Mon 24 Aug.
PARTNERS_DUE = date(2026, 8, 24)
# A contribution asked Thu 27 Aug: 5 working days, Fri 28 Aug, Tue 1, Wed 2, Thu 3, Fri 4 Sep.
ASKED, CONTRIBUTION_DUE = "2026-08-27", date(2026, 9, 4)
ACTION_DUE = date(2026, 10, 30)


@pytest.fixture
def admin(
    partnership: Callable[..., Json],
    headers_for: Callable[..., Headers],
    monkeypatch: pytest.MonkeyPatch,
) -> Headers:
    """Today pinned; partnerships wessex and kingsmere; an admin's headers."""
    monkeypatch.setattr(deadline_context, "today_in", lambda timezone: TODAY)
    partnership("wessex")
    partnership("kingsmere")
    return headers_for("admin")


def notified_case(client: TestClient, admin: Headers, reference: str, **fields: Any) -> Json:
    """Aware Mon 17 Aug, notified Thu 20 Aug 2026 (partners informed too unless `told=False`)."""
    told = fields.pop("told", True)
    fields.setdefault("incident_on", AWARE)
    case = create(client, admin, reference=reference, aware_on=AWARE, **fields)
    case = fire(client, admin, case, "notify_panel", {"notified_on": NOTIFIED})
    if told:
        case = fire(client, admin, case, "inform_partners", {"partners_informed_on": NOTIFIED})
    return case


def make_feed(client: TestClient, headers: Headers, *codes: str) -> tuple[Json, str]:
    response = client.post("/calendar-feeds", json={"partnerships": list(codes)}, headers=headers)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    assert response.headers["Location"] == f"/calendar-feeds/{body['id']}"
    token = str(body["url"]).removeprefix(f"{BASE}/calendar-feeds/").removesuffix(".ics")
    assert (body["url"], token[:4]) == (f"{BASE}/calendar-feeds/{token}.ics", "cal_")
    return body, token


def read_ics(client: TestClient, token: str, headers: Headers | None = None) -> httpx2.Response:
    response = client.get(f"/calendar-feeds/{token}.ics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return response


def events(client: TestClient, token: str, headers: Headers | None = None) -> dict[str, Event]:
    """The feed's VEVENTs by UID, parsed by vobject: every DTSTART an all-day date."""
    calendar = vobject.readOne(read_ics(client, token, headers).text)
    assert calendar.version.value == "2.0"
    found: dict[str, Event] = {}
    for event in calendar.contents.get("vevent", []):
        start, end = event.dtstart.value, event.dtend.value
        assert (type(start), type(end)) == (date, date)  # not a datetime
        assert (end - start).days == 1
        assert event.uid.value not in found
        found[event.uid.value] = (event.summary.value, start, event.url.value)
    return found


def made(client: TestClient, headers: Headers, url: str, body: Json) -> Json:
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return {**response.json(), "_etag": response.headers.get("ETag")}


def ask_police(client: TestClient, admin: Headers, case: Json) -> Json:
    made(client, admin, "/partnerships/wessex/agencies", {"name": POLICE})
    body = {"agency": POLICE, "requested_on": ASKED}
    return made(client, admin, f"/cases/{case['id']}/contributions", body)


def uid(subject: str, subject_id: str, clock: str) -> str:
    return f"{subject}-{subject_id}-{clock}@review-engine"


def assert_problem(response: httpx2.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status


def test_the_feed_holds_the_running_deadlines_of_its_partnerships_only(
    client: TestClient, admin: Headers
) -> None:
    kept = notified_case(client, admin, "RR-KEPT")  # only its rapid review runs
    met = notified_case(client, admin, "RR-MET", told=False)  # partners not yet told
    gone = notified_case(client, admin, "RR-GONE")
    away = notified_case(client, admin, "RR-AWAY", partnership="kingsmere")
    contribution = ask_police(client, admin, kept)
    body = {"text": "Share information", "source": "panel_report"}
    recommendation = made(client, admin, "/partnerships/wessex/recommendations", body)
    body = {"description": "Audit", "lead_agency": POLICE, "due_on": ACTION_DUE.isoformat()}
    action = made(client, admin, f"/recommendations/{recommendation['id']}/actions", body)

    _, token = make_feed(client, admin, "wessex")

    def case_event(case: Json, clock: str, due: date = RAPID_DUE) -> tuple[str, Event]:
        summary = f"[wessex] {case['reference']}: {clock.replace('_', ' ')} due"
        return uid("case", case["id"], clock), (summary, due, f"{BASE}/cases/{case['id']}")

    expected = dict(case_event(case, "rapid_review") for case in (kept, met, gone))
    expected |= dict([case_event(met, "partners_informed", PARTNERS_DUE)])
    first = events(client, token)
    assert first == events(client, token)  # the same UIDs, summaries and dates every read
    contribution_uid = uid("contribution", contribution["id"], "contribution_due")
    action_uid = uid("action", action["id"], "action_due")
    summary, due, link = first.pop(contribution_uid)
    assert summary.startswith("[wessex] RR-KEPT: contribution due")
    assert (due, link) == (CONTRIBUTION_DUE, f"{BASE}/contributions/{contribution['id']}")
    summary, due, link = first.pop(action_uid)
    assert summary.startswith("[wessex] no case: action due")  # a partnership's own action
    assert (due, link) == (ACTION_DUE, f"{BASE}/actions/{action['id']}")
    assert first == expected  # and RR-AWAY, kingsmere's, is absent

    # RR-MET's rapid review is sent and its partners told (both clocks met); RR-GONE is
    # withdrawn (its clocks stop): both leave the feed, the rest stays as it was.
    met = fire(client, admin, met, "inform_partners", {"partners_informed_on": "2026-08-21"})
    submitted = {"submitted_on": "2026-09-01", "recommendation": "lcspr"}
    fire(client, admin, met, "submit_rapid_review", submitted)
    fire(client, admin, gone, "withdraw", {"withdrawn_on": "2026-09-01", "reason": "criteria"})
    later, kept_uid = events(client, token), uid("case", kept["id"], "rapid_review")
    assert set(later) == {contribution_uid, action_uid, kept_uid}
    assert later[kept_uid] == expected[kept_uid]

    # A feed of both partnerships holds kingsmere's deadline too.
    _, both = make_feed(client, admin, "wessex", "kingsmere")
    away_event = ("[kingsmere] RR-AWAY: rapid review due", RAPID_DUE, f"{BASE}/cases/{away['id']}")
    assert events(client, both)[uid("case", away["id"], "rapid_review")] == away_event


# -- 2. Nothing private in the feed; the token shown once, kept only as a hash ---------------

BIRTH, INCIDENT = "2019-02-13", "2026-08-03"  # distinctive: no due date is either
FIELDS = ("other_names", "sex", "ethnicity", "disability", "address", "placement_type")
REASONS = ("waiver", "withdrawn", "not-notified", "pause", "not-coming")
KNOWN_TO = "CANARY-known_to-c4f1"
CHILD: Json = {f: f"CANARY-{f}-c4f1" for f in FIELDS} | {"known_to": [KNOWN_TO]}
CHILD |= {"name": CANARY_NAME, "date_of_birth": BIRTH}
WHY = {reason: f"CANARY-{reason}-c4f1" for reason in REASONS}
# Stored as given (checked), and the other ways a date might be rendered (RFC 5545, prose).
PLANTED = [CANARY_SUMMARY, INCIDENT, KNOWN_TO, *WHY.values()]
PLANTED += [value for value in CHILD.values() if isinstance(value, str)]
RENDERED = ["20190213", "20260803", "13 Feb 2019", "03 Aug 2026", "Mon 03 Aug"]


def everything_in(session: Session) -> str:
    """Every value of every table of the database, as text (bytes decoded as Latin-1)."""
    session.rollback()
    connection = session.connection()
    values: list[str] = []
    for name in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{name}"')):
            values += [bytes(v).decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    session.rollback()
    return "\n".join(values)


def plant(client: TestClient, admin: Headers) -> None:
    """Five wessex cases holding every canary; two of them still have a clock running."""
    private = {"summary": CANARY_SUMMARY, "children": [CHILD], "incident_on": INCIDENT}
    waived = notified_case(client, admin, "RR-W", told=False, **private)
    waiver = {"clock": "partners_informed", "reason": WHY["waiver"], "waived_on": "2026-08-25"}
    url, headers = f"/cases/{waived['id']}/waivers", {**admin, "If-Match": "*"}
    assert client.post(url, json=waiver, headers=headers).status_code == 200
    gone = notified_case(client, admin, "RR-X", **private)
    fire(client, admin, gone, "withdraw", {"withdrawn_on": NOTIFIED, "reason": WHY["withdrawn"]})
    skipped = create(client, admin, reference="NN-1", aware_on=AWARE, **private)
    decided = {"decided_on": AWARE, "reason": WHY["not-notified"]}
    fire(client, admin, skipped, "decide_not_to_notify", decided)
    paused = notified_case(client, admin, "RR-P", **private)
    for event, payload in [
        ("submit_rapid_review", {"submitted_on": "2026-08-21", "recommendation": "lcspr"}),
        ("record_panel_response", {"received_on": "2026-08-24", "outcome": "agreed"}),
        ("pause", {"started_on": "2026-08-25", "reason": WHY["pause"], "panel_informed_on": ASKED}),
    ]:
        paused = fire(client, admin, paused, event, payload)
    asked = ask_police(client, admin, notified_case(client, admin, "RR-R", **private))
    refused = {"not_coming_reason": WHY["not-coming"], "not_coming_on": "2026-08-28"}
    etag = {**admin, "If-Match": asked["_etag"]}
    changed = client.patch(f"/contributions/{asked['id']}", json=refused, headers=etag)
    assert changed.status_code == 200, changed.text


def test_no_private_field_reaches_the_feed_and_only_the_tokens_hash_is_kept(
    client: TestClient, admin: Headers, session: Session
) -> None:
    plant(client, admin)
    stored = everything_in(session)
    assert [secret for secret in PLANTED if secret not in stored] == []

    feed, token = make_feed(client, admin, "wessex")
    response = read_ics(client, token)
    seen = response.text.replace("\r\n ", "") + str(response.headers)  # unfolded (RFC 5545)
    assert [secret for secret in PLANTED + RENDERED if secret in seen] == []
    summaries = sorted(summary for summary, _, _ in events(client, token).values())
    assert summaries == ["[wessex] RR-R: rapid review due", "[wessex] RR-W: rapid review due"]

    listed = client.get("/calendar-feeds", headers=admin)
    one = client.get(f"/calendar-feeds/{feed['id']}", headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [feed["id"]]
    for answer in (listed, one):
        assert answer.status_code == 200, answer.text
        assert token not in answer.text + str(answer.headers)
        assert "url" not in answer.text
    rows = session.connection().execute(text("SELECT * FROM calendar_feed")).mappings().all()
    assert [row["token_hash"] for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in everything_in(session)

    # Made again under an Idempotency-Key: the answer kept for a retry is sealed.
    headers = {**admin, "Idempotency-Key": "feed-1"}
    first = made(client, headers, "/calendar-feeds", {"partnerships": ["wessex"]})
    assert made(client, headers, "/calendar-feeds", {"partnerships": ["wessex"]}) == first
    assert first["url"].rsplit("/", 1)[1].removesuffix(".ics") not in everything_in(session)


# -- 3. Who may do what; revoking -----------------------------------------------------------


def test_revoked_feeds_are_gone_and_keys_see_only_their_partnerships_feeds(
    client: TestClient, admin: Headers, headers_for: Callable[..., Headers]
) -> None:
    notified_case(client, admin, "RR-1")
    manager, viewer = headers_for("manager", ["wessex"]), headers_for("viewer", ["wessex"])
    away = headers_for("manager", ["kingsmere"])
    body = {"partnerships": ["wessex"]}
    assert_problem(client.post("/calendar-feeds", json=body, headers=viewer), 403)
    # Another partnership's code is refused as if unknown.
    assert_problem(client.post("/calendar-feeds", json=body, headers=away), 422)
    feed, token = make_feed(client, manager, "wessex")

    # No key needed; any Authorization header is ignored (a bad key, another partnership's).
    plain = events(client, token)
    assert list(plain.values())[0][:2] == ("[wessex] RR-1: rapid review due", RAPID_DUE)
    for headers in ({"Authorization": "Bearer not-a-key"}, away):
        assert events(client, token, headers) == plain
    assert_problem(client.get(f"/calendar-feeds/cal_{'A' * 43}.ics"), 404)

    shown = client.get(f"/calendar-feeds/{feed['id']}", headers=viewer).json()
    assert shown == {name: value for name, value in feed.items() if name != "url"}
    assert client.get("/calendar-feeds", headers=away).json()["items"] == []
    assert_problem(client.get(f"/calendar-feeds/{feed['id']}", headers=away), 404)
    assert_problem(client.delete(f"/calendar-feeds/{feed['id']}", headers=away), 404)
    assert_problem(client.delete(f"/calendar-feeds/{feed['id']}", headers=viewer), 403)
    assert events(client, token) == plain  # none of that revoked it

    revoked = client.delete(f"/calendar-feeds/{feed['id']}", headers=manager)
    assert (revoked.status_code, revoked.json()["revoked_at"] is None) == (200, False)
    assert_problem(client.get(f"/calendar-feeds/{token}.ics"), 410)
    assert_problem(client.get(f"/calendar-feeds/{token}.ics", headers=manager), 410)
    again = client.delete(f"/calendar-feeds/{feed['id']}", headers=manager)  # harmless
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    shown = client.get(f"/calendar-feeds/{feed['id']}", headers=viewer).json()
    assert shown["revoked_at"] == revoked.json()["revoked_at"]


def test_a_contributions_summary_says_due_once(client: TestClient, admin: Headers) -> None:
    ask_police(client, admin, notified_case(client, admin, "RR-C"))
    _, token = make_feed(client, admin, "wessex")
    summaries = [summary for summary, _, _ in events(client, token).values()]
    assert "[wessex] RR-C: contribution due" in summaries  # once: not "contribution due due"
