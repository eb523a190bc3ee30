"""Alert delivery end to end (issue 9): detection writes the outbox, `deliver_due` sends each
delivery as a signed Standard Webhooks message to a real HTTP receiver on loopback, and the
API shows what happened. Time is simulated by stepping `now`; the first send of each test
uses the real clock, so the reference library's `verify` (5 minutes' tolerance) applies;
later sends are checked with the library's `sign`. On SQLite and PostgreSQL.

Dates (2026): an action due Wed 2 Sep is overdue from Thu 3 Sep; its first reminder starts
five working days later, Thu 10 Sep."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import review_engine.alerts.deliver as deliver_module
from review_engine.alerts.deliver import WorkerSettings, deliver_due
from review_engine.alerts.detection import Detected, detect
from review_engine.alerts.ladder import Ladder
from review_engine.alerts.outbox import BACKOFF, LEASE, claim_due
from review_engine.calendar import Calendar
from review_engine.db import utcnow
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire

Headers = dict[str, str]
Json = dict[str, Any]
CALENDAR = Calendar()
SETTINGS = WorkerSettings(allow_private_targets=True)
SECOND = timedelta(seconds=1)
DATA_KEYS = {
    "alert_id", "rung", "reminder", "partnership", "subject", "subject_id",
    "case_reference", "clock", "due_on", "working_days_overdue", "link",
}  # fmt: skip


# --- a webhook receiver on loopback ---------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: Headers  # names in lower case
    body: bytes
    verified: bool  # by the reference library, with one of the receiver's secrets

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Json:
        event: Json = json.loads(self.body)
        return event

    def signed_by(self, secret: str) -> bool:
        """Whether one of the `v1,` signatures is the secret's (any `now`: no tolerance)."""
        sent_at = datetime.fromtimestamp(int(self.headers["webhook-timestamp"]), UTC)
        mine = Webhook(secret).sign(self.message_id, sent_at, self.body.decode())
        return mine in self.headers["webhook-signature"].split(" ")


def _verifies(secret: str, body: bytes, headers: Headers) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class Receiver:
    """Records every POST and answers `status`. `stop()` closes the port (the receiver is
    down: connections are refused); `start()` listens on the same port again."""

    def __init__(self) -> None:
        self.status = 200
        self.secrets: list[str] = []
        self.requests: list[Received] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/review-engine"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified = any(_verifies(s, body, headers) for s in receiver.secrets)
                receiver.requests.append(Received(self.path, headers, body, verified))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None


# --- the world of a test: the API, the database, the worker, the receiver --------------------


@dataclass
class World:
    client: TestClient
    app: FastAPI
    admin: Headers  # an admin of wessex (the partnership every alert here is about)
    session: Session
    receiver: Receiver
    recommendation: Json | None = None

    def subscribe(self) -> Json:
        body = {"channel": "webhook", "target": self.receiver.url, "partnerships": ["wessex"]}
        response = self.client.post("/subscriptions", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: Json = response.json()
        assert created["secret"].startswith("whsec_")
        self.receiver.secrets.append(created["secret"])
        return created

    def plan(self, due_on: str, recommendation: Json | None = None, what: str = "Audit") -> Json:
        """An action (lead agency Wessex Police) on a partnership recommendation, or on the
        recommendation given."""
        if self.recommendation is None:
            self.post("/partnerships/wessex/agencies", {"name": "Wessex Police"})
            body = {"text": "Share information", "source": "panel_report"}
            self.recommendation = self.post("/partnerships/wessex/recommendations", body).json()
        on = recommendation or self.recommendation
        body = {"description": what, "lead_agency": "Wessex Police", "due_on": due_on}
        response = self.post(f"/recommendations/{on['id']}/actions", body)
        return {**response.json(), "_etag": response.headers["ETag"]}

    def post(self, url: str, body: Json | None = None, expect: int = 201) -> Any:
        response = self.client.post(url, json=body, headers=self.admin)
        assert response.status_code == expect, response.text
        return response

    def detect(self, day: str) -> Detected:
        found = detect(
            session=self.session,
            calendar=CALENDAR,
            ladder=Ladder(),
            as_of=date.fromisoformat(day),
            started_at=utcnow(),
        )
        self.session.rollback()
        assert found is not None
        return found

    def deliver(self, now: datetime, today: str = "2026-09-03") -> list[str]:
        """One pass of the worker at `now`: what became of each delivery it claimed."""
        done = deliver_due(
            engine=self.app.state.engine,
            calendar=CALENDAR,
            now=now,
            today=date.fromisoformat(today),
            settings=SETTINGS,
        )
        return done.statuses

    def get(self, url: str) -> Any:
        response = self.client.get(url, headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()

    def deliveries(self) -> list[Json]:
        items: list[Json] = self.get("/deliveries")["items"]
        return items


@pytest.fixture
def w(client: TestClient, app: FastAPI, wessex_admin: Headers, session: Session) -> Iterator[World]:
    receiver = Receiver()
    yield World(client, app, wessex_admin, session, receiver)
    receiver.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def message_id(delivery: Json) -> str:
    return f"msg_{uuid.UUID(delivery['id']).hex}"


# --- the scenarios ----------------------------------------------------------------------------


def test_an_alert_is_delivered_once_signed_and_listed(w: World) -> None:
    subscription = w.subscribe()
    assert "secret" not in w.get(f"/subscriptions/{subscription['id']}")  # shown once, in the 201
    action = w.plan("2026-09-02")
    found = w.detect("2026-09-03")
    assert (found.raised, found.skipped, found.deliveries) == (1, 2, 1)

    assert w.deliver(utcnow()) == ["delivered"]
    [request] = w.receiver.requests
    assert request.verified
    Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert request.path == "/hooks/review-engine"
    assert request.headers["content-type"] == "application/json"
    event = request.json()
    assert event["type"] == "alert.overdue"
    assert set(event["data"]) == DATA_KEYS
    assert {key: event["data"][key] for key in ("partnership", "clock", "due_on", "link")} == {
        "partnership": "wessex",
        "clock": "action_due",
        "due_on": "2026-09-02",
        "link": f"/actions/{action['id']}",
    }
    assert (event["data"]["rung"], event["data"]["working_days_overdue"]) == ("overdue", 1)

    [delivery] = w.deliveries()
    assert request.message_id == message_id(delivery)
    assert (delivery["status"], delivery["subscription_id"]) == ("delivered", subscription["id"])
    [attempt] = delivery["attempts"]
    assert (attempt["status_code"], attempt["error"]) == (200, None)
    assert isinstance(attempt["latency_ms"], int)
    assert attempt["latency_ms"] >= 0
    assert w.deliver(utcnow() + timedelta(days=3)) == []
    assert len(w.receiver.requests) == 1


def test_a_receiver_down_then_up_gets_the_alert_exactly_once(w: World) -> None:
    """500, then connection refused (down), then 200: three attempts on the backoff
    schedule, one message id, one delivery."""
    subscription = w.subscribe()
    w.plan("2026-09-02")
    w.detect("2026-09-03")
    w.receiver.status = 500
    sent = [utcnow()]
    assert w.deliver(sent[0]) == ["retrying"]
    for attempt, answer in enumerate(("down", 200)):
        [delivery] = w.deliveries()
        assert delivery["status"] == "pending"
        due = at(delivery["next_attempt_at"])
        assert BACKOFF[attempt] * 0.9 <= due - sent[-1] <= BACKOFF[attempt] * 1.1 + SECOND
        assert w.deliver(due - SECOND) == []  # not yet
        if answer == "down":
            w.receiver.stop()
        else:
            w.receiver.start()
            w.receiver.status = 200
        sent.append(due + SECOND)
        assert w.deliver(sent[-1]) == (["retrying"] if answer == "down" else ["delivered"])
    assert w.deliver(sent[-1] + timedelta(days=4)) == []

    [delivery] = w.deliveries()
    assert delivery["status"] == "delivered"
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (500, None),
        (None, "ConnectError"),
        (200, None),
    ]
    assert [at(a["at"]) for a in delivery["attempts"]] == sent
    first, last = w.receiver.requests  # the attempt while down never arrived
    assert first.verified
    assert first.message_id == last.message_id == message_id(delivery)
    assert last.signed_by(subscription["secret"])
    assert last.headers["webhook-timestamp"] == str(int(sent[-1].timestamp()))
    assert first.json()["data"] == last.json()["data"]  # the same alert, none lost


class WorkerDied(Exception):
    pass


def test_a_worker_that_dies_between_send_and_record_is_covered_by_the_lease(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver got the message but the worker died before recording it: no worker may
    claim it again until the lease ends; then it is sent again with the same id."""
    subscription = w.subscribe()
    w.plan("2026-09-02")
    w.detect("2026-09-03")

    def dies(*args: object, **kwargs: object) -> None:
        raise WorkerDied

    crashed_at = utcnow()
    with monkeypatch.context() as patch:
        patch.setattr(deliver_module, "record_outcome", dies)
        with pytest.raises(WorkerDied):
            w.deliver(crashed_at)
    assert len(w.receiver.requests) == 1
    [delivery] = w.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("pending", [])
    assert at(delivery["next_attempt_at"]) == crashed_at + LEASE

    assert claim_due(w.session, now=crashed_at + LEASE - SECOND, limit=10) == []
    assert w.deliver(crashed_at + timedelta(minutes=1)) == []
    assert len(w.receiver.requests) == 1
    assert w.deliver(crashed_at + LEASE + SECOND) == ["delivered"]
    before, after = w.receiver.requests
    assert before.message_id == after.message_id == message_id(delivery)
    assert before.verified
    assert after.signed_by(subscription["secret"])
    assert before.json()["data"] == after.json()["data"]  # a receiver dedupes on the id
    [delivery] = w.deliveries()
    assert [a["status_code"] for a in delivery["attempts"]] == [200]


def test_410_gone_disables_the_subscription_and_later_alerts_skip_it(w: World) -> None:
    subscription = w.subscribe()
    w.plan("2026-09-02")
    w.detect("2026-09-03")
    w.receiver.status = 410
    assert w.deliver(utcnow()) == ["failed"]
    shown = w.get(f"/subscriptions/{subscription['id']}")
    assert (shown["enabled"], shown["disabled_reason"]) == (False, "the target answered 410 Gone")
    assert shown["last_failure_at"] is not None
    [delivery] = w.deliveries()
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [410]

    w.plan("2026-09-09")  # overdue from Thu 10 Sep, as the first one's reminder starts
    found = w.detect("2026-09-10")
    assert (found.raised, found.deliveries) == (2, 0)
    assert w.deliver(utcnow() + timedelta(days=1)) == []
    assert len(w.receiver.requests) == 1
    assert len(w.deliveries()) == 1


def test_a_deadline_met_or_a_subscription_paused_before_sending_sends_nothing(w: World) -> None:
    """Two actions, two subscriptions: four deliveries. Before the worker runs the first
    action is completed and the second subscription paused: one message goes."""
    kept, paused = w.subscribe(), w.subscribe()
    done, running = w.plan("2026-09-02"), w.plan("2026-09-02")
    assert w.detect("2026-09-03").deliveries == 4
    completed = w.client.patch(
        f"/actions/{done['id']}",
        json={"status": "completed", "evidence_of_completion": "Audit report filed"},
        headers={**w.admin, "If-Match": done["_etag"]},
    )
    assert completed.status_code == 200, completed.text
    url = f"/subscriptions/{paused['id']}"
    etag = w.client.get(url, headers=w.admin).headers["ETag"]
    pause = w.client.patch(url, json={"enabled": False}, headers={**w.admin, "If-Match": etag})
    assert pause.status_code == 200, pause.text

    assert sorted(w.deliver(utcnow())) == ["cancelled"] * 3 + ["delivered"]
    [request] = w.receiver.requests
    assert request.json()["data"]["subject_id"] == running["id"]
    assert request.signed_by(kept["secret"])
    assert not request.signed_by(paused["secret"])
    listed = sorted((d["status"], len(d["attempts"])) for d in w.deliveries())
    assert listed == [("cancelled", 0)] * 3 + [("delivered", 1)]
    assert w.deliver(utcnow() + timedelta(days=3)) == []


def test_no_message_carries_what_the_case_says_about_the_child(w: World) -> None:
    """The case holds canaries in its summary and child (name, date of birth, ethnicity),
    its recommendation and action in their text; every alert goes, and none carries one."""
    w.subscribe()
    case = create(w.client, w.admin, reference="RR-2026-001")
    case = fire(w.client, w.admin, case, "notify_panel", {"notified_on": "2026-06-03"})
    body = {"text": f"Review {CANARY_NAME}", "source": "rapid_review"}
    recommendation = w.post(f"/cases/{case['id']}/recommendations", body).json()
    action = w.plan("2026-09-02", recommendation, what=CANARY_SUMMARY)
    found = w.detect("2026-12-07")
    assert found.deliveries == found.raised >= 2

    assert w.deliver(utcnow(), today="2026-12-07") == ["delivered"] * found.deliveries
    assert len(w.receiver.requests) == found.deliveries
    assert len({request.message_id for request in w.receiver.requests}) == found.deliveries
    canaries = [CANARY_NAME, CANARY_SUMMARY, "canary", "2025-03-14", "Zebedee", "Canary Row"]
    subjects = set()
    for request in w.receiver.requests:
        assert request.verified
        seen = (request.body.decode() + json.dumps(request.headers)).lower()
        assert [canary for canary in canaries if canary.lower() in seen] == []
        event = request.json()
        assert set(event) == {"type", "timestamp", "data"}
        assert set(event["data"]) == DATA_KEYS
        assert event["data"]["case_reference"] == "RR-2026-001"
        subjects.add((event["data"]["subject"], event["data"]["subject_id"]))
    assert {("case", case["id"]), ("action", action["id"])} <= subjects


def test_a_rotated_secret_signs_alongside_the_new_one_for_a_day(w: World) -> None:
    subscription = w.subscribe()
    old = subscription["secret"]
    w.plan("2026-09-02")
    w.detect("2026-09-03")
    new = w.post(f"/subscriptions/{subscription['id']}/rotate-secret", expect=200).json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert w.deliver(utcnow()) == ["delivered"]
    [request] = w.receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert [signature[:3] for signature in signatures] == ["v1,", "v1,"]
    for secret in (old, new):
        Webhook(secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)

    # After the 24 hours' overlap only the new secret signs.
    [delivery] = w.deliveries()
    redo = w.post(f"/deliveries/{delivery['id']}/redeliver", expect=200)
    assert redo.json() == {"redelivering": 1}
    assert w.deliver(utcnow() + timedelta(hours=25)) == ["delivered"]
    last = w.receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    assert last.signed_by(new)
    assert not last.signed_by(old)


def test_redelivery_resends_with_the_same_message_id(w: World) -> None:
    """Retries run out (the receiver answers 500 for three days): failed. Redelivering the
    subscription's failed deliveries, then the delivered one, sends it again each time."""
    subscription = w.subscribe()
    w.plan("2026-09-02")
    w.detect("2026-09-03")
    w.receiver.status = 500
    now = utcnow()
    for _ in BACKOFF:
        assert w.deliver(now) == ["retrying"]
        now = at(w.deliveries()[0]["next_attempt_at"]) + SECOND
    assert w.deliver(now) == ["failed"]
    [delivery] = w.deliveries()
    assert (delivery["status"], len(delivery["attempts"])) == ("failed", len(BACKOFF) + 1)
    assert timedelta(days=2) < now - at(delivery["attempts"][0]["at"]) < timedelta(days=4)
    assert w.deliver(now + timedelta(days=1)) == []

    w.receiver.status = 200
    again = w.post(f"/subscriptions/{subscription['id']}/redeliver-failed", expect=200)
    assert again.json() == {"redelivering": 1}
    assert w.deliver(utcnow()) == ["delivered"]
    again = w.post(f"/deliveries/{delivery['id']}/redeliver", expect=200)
    assert again.json() == {"redelivering": 1}
    assert w.deliver(utcnow()) == ["delivered"]

    assert len(w.receiver.requests) == len(BACKOFF) + 3
    assert {request.message_id for request in w.receiver.requests} == {message_id(delivery)}
    assert [request.verified for request in w.receiver.requests[-2:]] == [True, True]
    [delivery] = w.deliveries()
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]][-3:] == [500, 200, 200]


def test_the_subscription_api_refuses_what_it_cannot_do(
    w: World, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    def make(headers: Headers, **fields: Any) -> Any:
        body = {"channel": "webhook", "target": w.receiver.url, "partnerships": ["wessex"]}
        return w.client.post("/subscriptions", json={**body, **fields}, headers=headers)

    # Email needs a mail server (REVIEW_ENGINE_SMTP_HOST), which this deployment has not.
    refused = make(w.admin, channel="email", target="a@example.org")
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["body.channel"]
    for channel, target in (("teams", "ftp://example.org/flow"), ("email", "not-an-address")):
        refused = make(w.admin, channel=channel, target=target)
        assert refused.status_code == 422, refused.text
    refused = make(w.admin, partnerships=["nowhere"])
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["body.partnerships"]
    member = auth(make_key(role="member", partnerships=["wessex"]))
    assert make(member).status_code == 403

    subscription = w.subscribe()
    w.post("/partnerships", {"code": "mercia", "name": "M"})
    mercia = auth(make_key(role="manager", partnerships=["mercia"]))
    assert make(mercia).status_code == 422  # wessex is not a partnership it may see
    assert w.client.get("/subscriptions", headers=mercia).json()["items"] == []
    listed = w.client.get("/subscriptions", headers=w.admin).json()["items"]
    assert [item["id"] for item in listed] == [subscription["id"]]
    base = f"/subscriptions/{subscription['id']}"
    assert w.client.get(base, headers=mercia).status_code == 404
    for path in ("/rotate-secret", "/redeliver-failed"):
        assert w.client.post(base + path, headers=mercia).status_code == 404
    patched = w.client.patch(base, json={"enabled": False}, headers={**mercia, "If-Match": "*"})
    assert patched.status_code == 404
    assert w.get(f"/subscriptions/{subscription['id']}")["enabled"] is True
