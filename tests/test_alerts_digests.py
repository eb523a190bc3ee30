"""Daily digests and fallback emails (issue 9): a `digest: "daily"` subscription gets one
message a working day listing what is due soon or overdue as it is sent; a delivery that fails
for good (retries run out, or 410 Gone) raises one email to its partnership's fallback
address. Through the API and the worker, to a real SMTP server, a webhook receiver and a
Teams-shaped receiver on loopback. On SQLite and PostgreSQL.

Dates (2026; Mon 31 Aug is the Summer bank holiday). Case RR-2026-001 is notified Wed 3 Jun:
its rapid review is due Wed 24 Jun, overdue from Thu 25 Jun; on Thu 3 Sep it is 50 working
days overdue (Jun 4, Jul 23, Aug 20 without the holiday, Sep 3) at reminder 9 (45 working
days after Thu 25 Jun: Thu 27 Aug); on Fri 4 Sep 51, reminder 10 (50 after: Fri 4 Sep). An
action due Wed 2 Sep is due soon from Fri 28 Aug (two working days before: Tue 1 Sep, Fri 28
Aug), due today Wed 2, overdue from Thu 3 Sep; on Mon 7 Sep 3 working days overdue (Thu 3,
Fri 4, Mon 7).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook

from review_engine.alerts.deliver import deliver_due
from review_engine.alerts.detection import Detected
from review_engine.alerts.messages import AlertMessage, DigestMessage
from review_engine.alerts.models import Alert
from review_engine.alerts.outbox import BACKOFF
from review_engine.alerts.runner import worker_settings
from review_engine.alerts.teams import card
from review_engine.app import create_app
from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.db import utcnow
from review_engine.settings import Settings
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire
from tests.test_alerts_channels import BASE_URL, BIRTH, CANARIES, Html, MailServer, parts, raw
from tests.test_alerts_delivery import CALENDAR, DATA_KEYS, SECOND, Receiver, at, message_id
from tests.test_alerts_detection import run

Headers = dict[str, str]
Json = dict[str, Any]
Sections = list[tuple[str | None, dict[str, str]]]
LEAD = "safeguarding.lead@wessex-scp.example"
SENDER = "digests@wessex-scp.example"
BUSINESS = "business.support@wessex-scp.example"  # wessex's fallback address
TOKEN = "tok-5ecret-9x"  # in a webhook URL's query: never in a fallback email
NOT_DELIVERED = "[wessex] Alert not delivered to webhook 127.0.0.1"


class Page(Html):
    """Well-formed HTML (see Html); its sections: an optional h2, then a table of facts."""

    def __init__(self, markup: str) -> None:
        self.heading: str | None = None
        self.sections: list[tuple[str | None, list[str]]] = []
        super().__init__(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        if tag == "table":
            self.sections.append((self.heading, []))
            self.heading = None

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self.open[-1:] == ["h2"]:
            self.heading = data
        elif self.open[-1:] in (["th"], ["td"]):
            self.sections[-1][1].append(data)


def read(message: EmailMessage) -> tuple[str, Sections]:
    """The title and sections of a mail, which its text and HTML parts both say."""
    text = parts(message)
    assert set(text) == {"text/plain", "text/html"}
    page = Page(text["text/html"])
    sections = [(h, dict(zip(c[::2], c[1::2], strict=True))) for h, c in page.sections]
    title, *chunks = text["text/plain"].replace("\r\n", "\n").strip().split("\n\n")
    lines = [([h] if h else []) + [f"{k}: {v}" for k, v in f.items()] for h, f in sections]
    assert [page.cells[0], *(chunk.splitlines() for chunk in chunks)] == [("h1", title), *lines]
    return title, sections


def facts(due: str, link: str, overdue: str | None = None, case: str = "RR-2026-001") -> Json:
    """An action's facts, as a mail shows them."""
    shown = {"Partnership": "wessex", "Case": case, "Deadline": "action due", "Due": due}
    return {**shown, **({"Overdue by": overdue} if overdue else {}), "Open": BASE_URL + link}


def leaks(texts: list[str]) -> list[str]:
    return [c for text in texts for c in CANARIES + BIRTH if c.lower() in text.lower()]


def mail_texts(mail: MailServer) -> list[str]:
    return [
        raw(envelope).decode() + "".join(parts(message).values()) + str(message["Subject"])
        for envelope, message in zip(mail.received, mail.messages(), strict=True)
    ]


@dataclass
class World:
    client: TestClient
    app: FastAPI
    settings: Settings
    admin: Headers  # an admin; partnerships wessex and mercia exist, each with agency Police
    session: Session
    hook: Receiver
    teams: Receiver
    mail: MailServer
    recommendations: dict[str, str] = field(default_factory=dict)

    def call(
        self, method: str, url: str, body: Json | None = None, expect: int = 200, **headers: str
    ) -> Any:
        response = self.client.request(method, url, json=body, headers={**self.admin, **headers})
        assert response.status_code == expect, response.text
        return response

    def subscribe(self, channel: str, target: str, *on: str, **more: Any) -> Json:
        body = {"channel": channel, "target": target, "partnerships": list(on or ["wessex"])}
        body.update(more)
        created: Json = self.call("POST", "/subscriptions", body, 201).json()
        if created["secret"]:
            self.hook.secrets.append(created["secret"])
        return created

    def notified_case(self) -> Json:
        case = create(self.client, self.admin, reference="RR-2026-001")
        case = fire(self.client, self.admin, case, "notify_panel", {"notified_on": "2026-06-03"})
        informed = {"partners_informed_on": "2026-06-04"}
        return fire(self.client, self.admin, case, "inform_partners", informed)

    def plan(
        self, due_on: str, code: str = "wessex", case: Json | None = None, what: str = "Audit"
    ) -> Json:
        """An action (lead agency Police) on the case's recommendation, or the partnership's."""
        key = case["id"] if case else code
        if key not in self.recommendations:
            url, text = f"/partnerships/{code}/recommendations", "Share information"
            if case:
                url, text = f"/cases/{case['id']}/recommendations", f"Review {CANARY_NAME}"
            body = {"text": text, "source": "rapid_review" if case else "panel_report"}
            self.recommendations[key] = self.call("POST", url, body, 201).json()["id"]
        body = {"description": what, "lead_agency": "Police", "due_on": due_on}
        url = f"/recommendations/{self.recommendations[key]}/actions"
        response = self.call("POST", url, body, 201)
        return {**response.json(), "_etag": response.headers["ETag"]}

    def complete(self, action: Json) -> None:
        body = {"status": "completed", "evidence_of_completion": "Audit report filed"}
        self.call("PATCH", f"/actions/{action['id']}", body, **{"If-Match": action["_etag"]})

    def fallback_to(self, code: str, address: str, on: TestClient | None = None) -> Any:
        body = {"alert_fallback_email": address}
        return (on or self.client).patch(f"/partnerships/{code}", json=body, headers=self.admin)

    def alerts(self) -> list[tuple[str, str, str]]:
        """Every alert recorded: its id, its subject's id, its state."""
        found = self.session.exec(select(Alert.id, Alert.subject_id, Alert.state)).all()
        self.session.rollback()
        return [(str(alert), str(subject), state) for alert, subject, state in found]

    def detect(self, day: str) -> Detected:
        found = run(self.session, day)
        assert found is not None
        return found

    def deliver(self, now: datetime, today: str) -> list[str]:
        settings = worker_settings(self.settings)
        done = deliver_due(engine=self.app.state.engine, calendar=CALENDAR, now=now,
                           today=date.fromisoformat(today), settings=settings)  # fmt: skip
        return sorted(done.statuses)

    def deliveries(self, kind: str | None = None) -> list[Json]:
        items: list[Json] = self.call("GET", "/deliveries").json()["items"]
        return [item for item in items if kind in (None, item["kind"])]

    def fail_for_good(self, now: datetime, today: str) -> datetime:
        """Passes of the worker while the receiver fails, until retries run out."""
        for _ in BACKOFF:
            assert set(self.deliver(now, today)) == {"retrying"}
            pending = [
                at(d["next_attempt_at"]) for d in self.deliveries() if d["status"] == "pending"
            ]
            now = max(pending) + SECOND
        assert set(self.deliver(now, today)) == {"failed"}
        return now


@pytest.fixture
def w(database_url: str, session: Session) -> Iterator[World]:
    mail, hook, teams = MailServer(), Receiver(), Receiver()
    teams.status = 202
    try:
        settings = Settings(_env_file=None, database_url=database_url, allow_private_targets=True,
                            smtp_host="127.0.0.1", smtp_port=mail.port, smtp_security="none",
                            smtp_from=SENDER, public_base_url=BASE_URL)  # fmt: skip
        app = create_app(settings)
        with TestClient(app) as client:
            with Session(app.state.engine) as db:
                _, key = create_api_key(
                    session=db, name="digests", role=Role("admin"), partnership_codes=None
                )
            world = World(client, app, settings, {"Authorization": f"Bearer {key}"}, session,
                          hook, teams, mail)  # fmt: skip
            for code in ("wessex", "mercia"):
                world.call("POST", "/partnerships", {"code": code, "name": code.title()}, 201)
                world.call("POST", f"/partnerships/{code}/agencies", {"name": "Police"}, 201)
            yield world
    finally:
        hook.stop()
        teams.stop()
        mail.stop()


# --- daily digests ---------------------------------------------------------------------------


def test_a_daily_digest_replaces_single_alerts_once_a_working_day(w: World) -> None:
    """Thu 3 Sep: action O (due Fri 19 Jun: overdue from Mon 22 Jun, 53 working days, reminder
    10 since Tue 1 Sep), the rapid review (50, reminder 9), action A (due Wed 2 Sep: overdue
    1), B (due Fri 4 Sep: due soon) and mercia's action (overdue 1). Fri 4 Sep: O 54, the
    rapid review 51 (reminder 10), B due today. Three wessex digest subscriptions; the email
    one wants no due_soon."""
    wanted = ["due_today", "overdue", "overdue_reminder"]
    by_mail = w.subscribe("email", LEAD, digest="daily", alert_types=wanted)
    by_hook = w.subscribe("webhook", w.hook.url, digest="daily")
    by_teams = w.subscribe("teams", w.teams.url, digest="daily")
    case = w.notified_case()
    b = w.plan("2026-09-04", case=case)  # made out of order: the digest sorts them
    a = w.plan("2026-09-02", case=case, what=CANARY_SUMMARY)
    o = w.plan("2026-06-19", case=case)
    w.plan("2026-09-02", code="mercia")
    found = w.detect("2026-09-03")
    assert (found.raised, found.deliveries) == (5, 3)  # no delivery of a single alert
    assert w.detect("2026-09-03").deliveries == 0  # once a day (uq_delivery_digest)
    listed = w.deliveries()
    keys = ("subscription_id", "kind", "digest_on", "alert_id", "fallback_for", "status")
    assert sorted(tuple(d[k] for k in keys) for d in listed) == sorted(
        (s["id"], "digest", "2026-09-03", None, None, "pending")
        for s in (by_mail, by_hook, by_teams)
    )

    assert w.deliver(utcnow(), "2026-09-03") == ["delivered"] * 3
    raised = {subject: alert for alert, subject, state in w.alerts() if state == "raised"}
    links = [f"/actions/{o['id']}", f"/cases/{case['id']}", f"/actions/{a['id']}",
             f"/actions/{b['id']}"]  # fmt: skip
    [request] = w.hook.requests
    assert request.verified
    Webhook(by_hook["secret"]).verify(request.body, request.headers)
    [sent] = [d for d in listed if d["subscription_id"] == by_hook["id"]]
    assert request.message_id == message_id(sent)
    event = request.json()
    assert (set(event), event["type"]) == ({"type", "timestamp", "data"}, "alert.digest")
    data = event["data"]
    assert (data["digest_on"], data["partnerships"]) == ("2026-09-03", ["wessex"])
    entries = data["entries"]
    assert [set(e) for e in entries] == [DATA_KEYS] * 4
    assert {(e["partnership"], e["case_reference"]) for e in entries} == {("wessex", "RR-2026-001")}
    keys = ("alert_id", "link", "clock", "rung", "reminder", "due_on", "working_days_overdue")
    assert [tuple(e[k] for k in keys) for e in entries] == [
        (raised[o["id"]], BASE_URL + links[0], "action_due", "overdue_reminder", 10,
         "2026-06-19", 53),
        (raised[case["id"]], BASE_URL + links[1], "rapid_review", "overdue_reminder", 9,
         "2026-06-24", 50),
        (raised[a["id"]], BASE_URL + links[2], "action_due", "overdue", None, "2026-09-02", 1),
        (raised[b["id"]], BASE_URL + links[3], "action_due", "due_soon", None, "2026-09-04", 0),
    ]  # fmt: skip

    [message] = w.mail.messages()
    assert (message["To"], message["From"]) == (LEAD, SENDER)
    title = "Daily digest for Thu 03 Sep 2026: 3 deadlines due soon or overdue, 3 overdue"
    assert message["Subject"] == f"[wessex] {title}"
    rapid_review = {**facts("Wed 24 Jun 2026", links[1], "50 working days"),
                    "Deadline": "rapid review"}  # fmt: skip
    assert read(message) == (title, [
        ("Still overdue: action due", facts("Fri 19 Jun 2026", links[0], "53 working days")),
        ("Still overdue: rapid review", rapid_review),
        ("Overdue: action due", facts("Wed 02 Sep 2026", links[2], "1 working day")),
    ])  # fmt: skip

    [card] = [r.json()["attachments"][0]["content"] for r in w.teams.requests]
    kinds = [item["type"] for item in card["body"]]
    assert kinds == ["TextBlock"] + ["TextBlock", "FactSet", "ActionSet"] * 4
    urls = [i["actions"][0]["url"] for i in card["body"] if i["type"] == "ActionSet"]
    assert (urls, card["actions"]) == ([BASE_URL + link for link in links], [])
    seen = [request.body.decode() + repr(request.headers), w.teams.requests[0].body.decode()]
    assert leaks(seen + mail_texts(w.mail)) == []

    # Fri 4 Sep: a new digest each; A is completed after they are enqueued, before they go.
    assert w.detect("2026-09-04").deliveries == 3
    w.complete(a)
    assert w.deliver(utcnow(), "2026-09-04") == ["delivered"] * 3
    assert [d["digest_on"] for d in w.deliveries()] == ["2026-09-04"] * 3 + ["2026-09-03"] * 3
    entries = w.hook.requests[-1].json()["data"]["entries"]
    keys = ("subject_id", "rung", "reminder", "working_days_overdue")
    assert [tuple(e[k] for k in keys) for e in entries] == [
        (o["id"], "overdue_reminder", 10, 54),
        (case["id"], "overdue_reminder", 10, 51),
        (b["id"], "due_today", None, 0),
    ]
    assert w.hook.requests[-1].signed_by(by_hook["secret"])
    day_two = "Daily digest for Fri 04 Sep 2026: 3 deadlines due soon or overdue, 2 overdue"
    assert w.mail.messages()[-1]["Subject"] == f"[wessex] {day_two}"


def test_a_digest_subscription_made_after_the_day_s_first_run_gets_the_day_s_digest(
    w: World,
) -> None:
    """Action due Wed 2 Sep 2026, overdue from Thu 3 Sep. Thu 3 Sep's first run raises it
    with no subscription; a daily digest subscription made that afternoon gets its digest
    from the next run, though that run has nothing new to check; the run after adds none."""
    w.plan("2026-09-02")
    first = w.detect("2026-09-03")
    assert (first.raised, first.deliveries) == (1, 0)
    made = w.subscribe("webhook", w.hook.url, digest="daily")
    later = w.detect("2026-09-03")
    assert (later.raised, later.skipped, later.deadlines, later.deliveries) == (0, 0, 1, 1)
    assert [(d["subscription_id"], d["kind"], d["digest_on"]) for d in w.deliveries()] == [
        (made["id"], "digest", "2026-09-03")
    ]
    assert w.detect("2026-09-03").deliveries == 0


def test_digests_come_on_working_days_with_something_to_list_never_stale(w: World) -> None:
    """Action X due Wed 2 Sep: nothing on Thu 27 Aug; due soon from Fri 28 Aug, but Sat 29,
    Sun 30 and Mon 31 Aug (bank holiday) are no working days; overdue from Thu 3 Sep, when the
    overdue-only subscription has its first digest. Met before the worker runs: cancelled."""
    every = w.subscribe("email", LEAD, digest="daily")
    late = w.subscribe("webhook", w.hook.url, digest="daily", alert_types=["overdue"])
    x = w.plan("2026-09-02")
    assert [w.detect(day).deliveries for day in ("2026-08-27", "2026-08-28")] == [0, 1]
    assert w.deliver(utcnow(), "2026-08-28") == ["delivered"]
    [message] = w.mail.messages()
    title = "Daily digest for Fri 28 Aug 2026: 1 deadline due soon or overdue, 0 overdue"
    assert message["Subject"] == f"[wessex] {title}"
    soon = facts("Wed 02 Sep 2026", f"/actions/{x['id']}", case="-")
    assert read(message) == (title, [("Due soon: action due", soon)])

    days = ("2026-08-29", "2026-08-30", "2026-08-31", "2026-09-01", "2026-09-02", "2026-09-03")
    assert [w.detect(day).deliveries for day in days] == [0, 0, 0, 1, 1, 2]
    pending = sorted((d["digest_on"], d["subscription_id"]) for d in w.deliveries("digest")
                     if d["status"] == "pending")  # fmt: skip
    assert pending == sorted([("2026-09-01", every["id"]), ("2026-09-02", every["id"]),
                              ("2026-09-03", every["id"]), ("2026-09-03", late["id"])])  # fmt: skip
    w.complete(x)
    assert w.deliver(utcnow(), "2026-09-03") == ["cancelled"] * 4
    assert (len(w.mail.received), w.hook.requests) == (1, [])
    assert sorted((d["status"], len(d["attempts"])) for d in w.deliveries()) == [
        ("cancelled", 0)] * 4 + [("delivered", 1)]  # fmt: skip


# --- fallback emails -------------------------------------------------------------------------


def test_a_webhook_failing_for_good_raises_one_fallback_naming_its_host(w: World) -> None:
    """A and B (due Wed 2 Sep) are overdue on Thu 3 Sep; the webhook (overdue alerts only)
    answers 500 for the three days of BACKOFF. B is met before its fallback goes; A's goes
    on Mon 7 Sep, 3 working days overdue. A redelivery that fails again raises none."""
    assert w.fallback_to("wessex", BUSINESS).json()["alert_fallback_email"] == BUSINESS
    hook = w.subscribe("webhook", f"{w.hook.url}?token={TOKEN}", alert_types=["overdue"])
    case = w.notified_case()  # its rapid review is at a reminder: not for this subscription
    a = w.plan("2026-09-02", case=case, what=CANARY_SUMMARY)
    b = w.plan("2026-09-02", case=case)
    assert w.detect("2026-09-03").deliveries == 2
    about = {alert: subject for alert, subject, _ in w.alerts()}
    failed = {about[d["alert_id"]]: d["id"] for d in w.deliveries()}  # by action
    w.hook.status = 500
    now = w.fail_for_good(utcnow(), "2026-09-03")
    assert w.hook.requests[0].path == f"/hooks/review-engine?token={TOKEN}"
    assert [len(d["attempts"]) for d in w.deliveries("alert")] == [len(BACKOFF) + 1] * 2
    fallbacks = w.deliveries("fallback")
    assert sorted(f["fallback_for"] for f in fallbacks) == sorted(failed.values())
    keys = ("subscription_id", "alert_id", "digest_on", "status")
    assert {tuple(f[k] for k in keys) for f in fallbacks} == {(hook["id"], None, None, "pending")}

    w.complete(b)
    assert w.deliver(now, "2026-09-07") == ["cancelled", "delivered"]
    done = {f["fallback_for"]: f["status"] for f in w.deliveries("fallback")}
    assert done == {failed[a["id"]]: "delivered", failed[b["id"]]: "cancelled"}
    [envelope] = w.mail.received
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [BUSINESS])
    [message] = w.mail.messages()
    [sent] = [f for f in w.deliveries("fallback") if f["status"] == "delivered"]
    assert message["Message-ID"] == f"<{message_id(sent)}@review-engine>"
    assert message["Subject"] == NOT_DELIVERED
    assert read(message) == ("Not delivered: Overdue: action due", [
        ("What failed", {"Channel": "webhook", "Target": "127.0.0.1",
                         "Attempts": str(len(BACKOFF) + 1), "Last error": "HTTP 500",
                         "Delivery": failed[a["id"]]}),
        (None, facts("Wed 02 Sep 2026", f"/actions/{a['id']}", "3 working days")),
    ])  # fmt: skip
    text = mail_texts(w.mail)[0]
    assert [s for s in (TOKEN, "token", "/hooks", f":{w.hook.port}") if s in text] == []
    assert leaks([text]) == []

    redo = w.call("POST", f"/deliveries/{failed[a['id']]}/redeliver").json()
    assert redo == {"redelivering": 1}
    later = w.fail_for_good(utcnow(), "2026-09-07")
    assert w.deliver(later + BACKOFF[-1], "2026-09-10") == []
    assert (len(w.deliveries("fallback")), len(w.mail.received)) == (2, 1)
    assert len(w.hook.requests) == 3 * (len(BACKOFF) + 1)  # A twice, B once


def test_410_gone_raises_the_fallback_to_each_partnership_with_an_address(w: World) -> None:
    """Thu 3 Sep: wessex's action A and mercia's action M are overdue; three webhooks answer
    410 Gone: wessex's, mercia's, and a daily digest of both. Only wessex has a fallback
    address: two mails to it, sent though the subscriptions are disabled, saying nothing of
    mercia."""
    w.hook.status = 410
    assert w.fallback_to("wessex", BUSINESS).status_code == 200
    alone = w.subscribe("webhook", w.hook.url)
    other = w.subscribe("webhook", w.hook.url, "mercia")
    both = w.subscribe("webhook", w.hook.url, "wessex", "mercia", digest="daily")
    a, m = w.plan("2026-09-02"), w.plan("2026-09-02", code="mercia")
    assert w.detect("2026-09-03").deliveries == 3
    assert w.deliver(utcnow(), "2026-09-03") == ["failed"] * 3
    subscriptions = w.call("GET", "/subscriptions").json()["items"]
    assert [s["enabled"] for s in subscriptions] == [False] * 3
    failed = {d["subscription_id"]: d["id"] for d in w.deliveries() if d["kind"] != "fallback"}
    assert set(failed) == {alone["id"], other["id"], both["id"]}
    assert sorted(f["fallback_for"] for f in w.deliveries("fallback")) == sorted(
        [failed[alone["id"]], failed[both["id"]]])  # fmt: skip

    assert w.deliver(utcnow(), "2026-09-03") == ["delivered"] * 2
    assert [e.rcpt_tos for e in w.mail.received] == [[BUSINESS]] * 2
    mails = sorted(read(message) for message in w.mail.messages())
    assert [message["Subject"] for message in w.mail.messages()] == [NOT_DELIVERED] * 2
    late = facts("Wed 02 Sep 2026", f"/actions/{a['id']}", "1 working day", case="-")

    def failure(of: Json) -> Json:
        return {"Channel": "webhook", "Target": "127.0.0.1", "Attempts": "1",
                "Last error": "HTTP 410", "Delivery": failed[of["id"]]}  # fmt: skip

    digest = "Daily digest for Thu 03 Sep 2026: 1 deadline due soon or overdue, 1 overdue"
    assert mails == [
        (f"Not delivered: {digest}", [("What failed", failure(both)),
                                      ("Overdue: action due", late)]),
        ("Not delivered: Overdue: action due", [("What failed", failure(alone)), (None, late)]),
    ]  # fmt: skip
    texts = mail_texts(w.mail)
    assert [t for t in texts if "mercia" in t.lower() or m["id"] in t] == []
    assert leaks(texts) == []
    assert len(w.hook.requests) == 3
    assert w.deliver(utcnow() + BACKOFF[-1], "2026-09-04") == []


def test_the_fallback_address_must_be_an_address_and_needs_a_mail_server(
    w: World, database_url: str
) -> None:
    refused = w.fallback_to("wessex", "not-an-address")
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["body.alert_fallback_email"]
    padded = w.fallback_to("wessex", f"  {BUSINESS} ")  # checked as sent, as the schema says
    assert padded.status_code == 422
    assert w.fallback_to("wessex", BUSINESS).json()["alert_fallback_email"] == BUSINESS
    assert w.call("GET", "/partnerships/wessex").json()["alert_fallback_email"] == BUSINESS

    plain = create_app(Settings(_env_file=None, database_url=database_url))  # no smtp_host
    with TestClient(plain) as no_mail:
        refused = w.fallback_to("mercia", BUSINESS, on=no_mail)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"] == [{
            "field": "body.alert_fallback_email",
            "message": "email needs a mail server: set REVIEW_ENGINE_SMTP_HOST",
        }]  # fmt: skip
    assert w.call("GET", "/partnerships/mercia").json()["alert_fallback_email"] is None

    assert w.fallback_to("wessex", "").json()["alert_fallback_email"] is None
    assert w.call("GET", "/partnerships/wessex").json()["alert_fallback_email"] is None


def test_a_long_digest_card_shows_its_first_entries_and_counts_the_rest() -> None:
    """A Workflows message is capped at about 28 KB: 200 overdue entries make a card of the
    first 40 (each with its own link) and a line counting the other 160."""
    entry = AlertMessage(
        alert_id=None,
        rung="overdue",
        sequence=0,
        partnership="wessex",
        subject="action",
        subject_id=str(uuid.UUID(int=1)),
        case_reference="RR-2026-001",
        clock="action_due",
        due_on=date(2026, 9, 2),
        working_days_overdue=3,
        link=f"https://reviews.example.org/actions/{uuid.UUID(int=1)}",
    )
    digest = DigestMessage(date(2026, 9, 7), ("wessex",), (entry,) * 200)
    posted = card(digest)
    content = posted["attachments"][0]["content"]
    assert sum(1 for block in content["body"] if block["type"] == "FactSet") == 40
    assert sum(1 for block in content["body"] if block["type"] == "ActionSet") == 40
    assert content["body"][-1]["text"] == "… and 160 more: see the email or the API."
    assert len(json.dumps(posted).encode()) < 28_000
