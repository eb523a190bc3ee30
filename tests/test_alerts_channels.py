"""Alerts by Microsoft Teams and by email (issue 9): detection writes the outbox and
`deliver_due` sends each delivery as an Adaptive Card to a Teams-shaped receiver on loopback
(it answers 202 Accepted, as Workflows does) or as a mail through a real SMTP server
(`aiosmtpd`) on loopback; the API shows what happened. On SQLite and PostgreSQL.

Dates (2026): a case notified on Wed 3 Jun, partners told on Thu 4 Jun, runs one clock, the
rapid review, due 15 working days on, Wed 24 Jun, and overdue from Thu 25 Jun."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from review_engine.alerts.deliver import WorkerSettings, deliver_due
from review_engine.alerts.mail import compose
from review_engine.alerts.messages import AlertMessage
from review_engine.alerts.runner import worker_settings
from review_engine.app import create_app
from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.db import utcnow
from review_engine.settings import Settings
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire
from tests.test_alerts_delivery import CALENDAR, SECOND, Receiver, at, message_id
from tests.test_alerts_detection import run

Headers = dict[str, str]
Json = dict[str, Any]
SENDER = "alerts@wessex-scp.example"
LEAD = "safeguarding.lead@wessex-scp.example"
BASE_URL = "https://reviews.example.org/r&d"  # an ampersand, which the HTML must escape
CARD = "application/vnd.microsoft.card.adaptive"
CANARIES = [CANARY_NAME, CANARY_SUMMARY, "canary", "zebedee", "quux", "7f3a", "canary row"]
BIRTH = ["2025-03-14", "14 Mar 2025", "14/03/2025", "20250314", "14 March 2025"]
POLICY = email.policy.default
FACTS = {  # of the rapid review's overdue alert, as the card and the mail show them
    "Partnership": "wessex",
    "Case": "RR-2026-001",
    "Deadline": "rapid review",
    "Due": "Wed 24 Jun 2026",
    "Overdue by": "1 working day",
}


def shown(facts: dict[str, str]) -> dict[str, str]:
    """The facts as a reader sees them (one working day is "1 working day")."""
    return dict(facts)


# --- a mail server on loopback -------------------------------------------------------------


class MailServer:
    """A real SMTP server (aiosmtpd) that keeps every message it accepts. `stop()` closes
    its port (connections are refused); `start()` listens on the same port again."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []
        with socket.socket() as probe:  # a free port, kept across stop() and start()
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._controller: Controller | None = None
        self.start()

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> None:  # a controller's event loop closes when it stops: a new one
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="mail.test"
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw(e), policy=POLICY) for e in self.received]


def raw(envelope: Envelope) -> bytes:
    assert isinstance(envelope.original_content, bytes)
    return envelope.original_content


class Html(HTMLParser):
    """Checks that every element closes, in order, and keeps the text of each cell."""

    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr"})

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.misnested: list[str] = []
        self.cells: list[tuple[str, str]] = []  # (th or td or h1, its text, unescaped)
        self.feed(markup)
        self.close()
        assert (self.open, self.misnested) == ([], []), markup

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.misnested.append(tag)

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("th", "td", "h1"):
            self.cells.append((self.open[-1], data))

    def rows(self) -> dict[str, str]:
        pairs = [text for tag, text in self.cells if tag in ("th", "td")]
        return dict(zip(pairs[::2], pairs[1::2], strict=True))


def parts(message: EmailMessage) -> dict[str, str]:
    """The text of each part, by its content type."""
    found: dict[str, str] = {}
    for part in message.walk():
        if not part.is_multipart():
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content()
    return found


# --- the world of a test: an app with a mail server, a Teams receiver, the worker ------------


@dataclass
class World:
    client: TestClient
    app: FastAPI
    settings: Settings
    admin: Headers  # an admin; the partnership wessex exists
    session: Session
    teams: Receiver
    mail: MailServer

    def subscribe(self, channel: str, target: str) -> Json:
        body = {"channel": channel, "target": target, "partnerships": ["wessex"]}
        response = self.client.post("/subscriptions", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: Json = response.json()
        assert created["secret"] is None  # only a webhook is signed
        return created

    def notified_case(self, *, inform: bool = True) -> Json:
        case = create(self.client, self.admin, reference="RR-2026-001")
        case = fire(self.client, self.admin, case, "notify_panel", {"notified_on": "2026-06-03"})
        if inform:
            payload = {"partners_informed_on": "2026-06-04"}
            case = fire(self.client, self.admin, case, "inform_partners", payload)
        return case

    def detect(self, day: str) -> tuple[int, int]:
        found = run(self.session, day)
        assert found is not None
        return found.raised, found.deliveries

    def deliver(self, now: datetime, settings: WorkerSettings | None = None) -> list[str]:
        done = deliver_due(
            engine=self.app.state.engine,
            calendar=CALENDAR,
            now=now,
            today=date(2026, 6, 25),
            settings=settings or worker_settings(self.settings),
        )
        return done.statuses

    def deliveries(self) -> list[Json]:
        response = self.client.get("/deliveries", headers=self.admin)
        assert response.status_code == 200, response.text
        items: list[Json] = response.json()["items"]
        return items


@pytest.fixture
def w(database_url: str, session: Session) -> Iterator[World]:
    mail, teams = MailServer(), Receiver()
    teams.status = 202  # what a Workflows URL answers
    try:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            allow_private_targets=True,
            smtp_host="127.0.0.1",
            smtp_port=mail.port,
            smtp_security="none",
            smtp_from=SENDER,
            public_base_url=BASE_URL,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            with Session(app.state.engine) as db:
                _, key = create_api_key(
                    session=db, name="channels", role=Role("admin"), partnership_codes=None
                )
            admin = {"Authorization": f"Bearer {key}"}
            made = client.post("/partnerships", json={"code": "wessex", "name": "W"}, headers=admin)
            assert made.status_code == 201, made.text
            yield World(client, app, settings, admin, session, teams, mail)
    finally:
        teams.stop()
        mail.stop()


def attempts(delivery: Json) -> list[tuple[int | None, str | None]]:
    return [(attempt["status_code"], attempt["error"]) for attempt in delivery["attempts"]]


# --- Teams -----------------------------------------------------------------------------------


def test_a_teams_alert_is_one_adaptive_card_accepted_with_202(w: World) -> None:
    url = w.teams.url + "?api-version=1&sig=s3cr3t"  # a Workflows URL signs itself in its query
    subscription = w.subscribe("teams", url)
    assert subscription["target"] == f"http://127.0.0.1:{w.teams.port}/…"  # never the query
    case = w.notified_case()
    assert w.detect("2026-06-25") == (1, 1)

    assert w.deliver(utcnow()) == ["delivered"]
    [request] = w.teams.requests
    assert request.path == "/hooks/review-engine?api-version=1&sig=s3cr3t"
    assert request.headers["content-type"] == "application/json"
    assert not {"webhook-id", "webhook-signature", "authorization"} & set(request.headers)
    posted = request.json()
    assert set(posted) == {"type", "attachments"}
    assert posted["type"] == "message"
    [attachment] = posted["attachments"]
    assert attachment["contentType"] == CARD
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    title, facts = content["body"]
    assert (title["type"], title["text"]) == ("TextBlock", "Overdue: rapid review")
    assert facts["type"] == "FactSet"
    assert shown({fact["title"]: fact["value"] for fact in facts["facts"]}) == FACTS
    link = {"type": "Action.OpenUrl", "title": "Open in the review engine"}
    assert content["actions"] == [{**link, "url": f"{BASE_URL}/cases/{case['id']}"}]

    [delivery] = w.deliveries()
    assert (delivery["status"], delivery["subscription_id"]) == ("delivered", subscription["id"])
    assert attempts(delivery) == [(202, None)]
    assert w.deliver(utcnow() + SECOND * 86_400) == []
    assert len(w.teams.requests) == 1


def test_a_teams_500_is_retried_like_a_webhook(w: World) -> None:
    w.subscribe("teams", w.teams.url)
    w.notified_case()
    w.detect("2026-06-25")
    w.teams.status = 500
    first = utcnow()
    assert w.deliver(first) == ["retrying"]
    [delivery] = w.deliveries()
    assert (delivery["status"], attempts(delivery)) == ("pending", [(500, None)])
    due = at(delivery["next_attempt_at"])
    assert first + 20 * SECOND < due < first + 40 * SECOND  # 30 seconds, with jitter
    assert w.deliver(due - SECOND) == []

    w.teams.status = 202
    assert w.deliver(due + SECOND) == ["delivered"]
    [again] = w.deliveries()
    assert again["id"] == delivery["id"]
    assert (again["status"], attempts(again)) == ("delivered", [(500, None), (202, None)])
    before, after = w.teams.requests
    assert before.body == after.body  # the same card, sent again


def test_a_teams_target_is_checked_again_before_each_send(w: World) -> None:
    """Made while loopback was allowed; a worker that refuses internal hosts never sends."""
    w.subscribe("teams", w.teams.url)
    w.notified_case()
    w.detect("2026-06-25")
    assert w.deliver(utcnow(), WorkerSettings(allow_private_targets=False)) == ["retrying"]
    [delivery] = w.deliveries()
    assert attempts(delivery) == [(None, "InternalAddress")]
    assert w.teams.requests == []


# --- email -----------------------------------------------------------------------------------


def test_an_email_alert_is_one_message_with_text_and_html(w: World) -> None:
    subscription = w.subscribe("email", LEAD)
    assert subscription["target"] == LEAD
    case = w.notified_case()
    assert w.detect("2026-06-25") == (1, 1)

    assert w.deliver(utcnow()) == ["delivered"]
    [envelope] = w.mail.received
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, [LEAD])
    [message] = w.mail.messages()
    [delivery] = w.deliveries()
    assert (message["To"], message["From"]) == (LEAD, SENDER)
    assert message["Subject"] == "[wessex] Overdue: rapid review (RR-2026-001)"
    assert message["Message-ID"] == f"<{message_id(delivery)}@review-engine>"
    assert message.get_content_type() == "multipart/alternative"
    text = parts(message)
    assert set(text) == {"text/plain", "text/html"}
    rows = {**FACTS, "Open": f"{BASE_URL}/cases/{case['id']}"}
    title, blank, *lines = text["text/plain"].splitlines()
    assert (title, blank) == ("Overdue: rapid review", "")
    assert shown(dict(line.split(": ", 1) for line in lines)) == rows
    markup = text["text/html"]
    page = Html(markup)
    assert page.cells[0] == ("h1", "Overdue: rapid review")
    assert shown(page.rows()) == rows
    assert "r&amp;d" in markup
    assert "r&d" not in markup

    assert (delivery["status"], attempts(delivery)) == ("delivered", [(250, None)])
    assert delivery["subscription_id"] == subscription["id"]
    assert w.deliver(utcnow() + SECOND * 86_400) == []
    assert len(w.mail.received) == 1


def test_a_mail_server_down_then_up_gets_the_alert_once(w: World) -> None:
    w.subscribe("email", LEAD)
    w.notified_case()
    w.detect("2026-06-25")
    w.mail.stop()
    first = utcnow()
    assert w.deliver(first) == ["retrying"]
    [delivery] = w.deliveries()
    assert delivery["status"] == "pending"
    assert attempts(delivery) == [(None, "ConnectionRefusedError")]
    due = at(delivery["next_attempt_at"])
    assert first + 20 * SECOND < due < first + 40 * SECOND
    assert w.deliver(due - SECOND) == []

    w.mail.start()
    assert w.deliver(due + SECOND) == ["delivered"]
    [again] = w.deliveries()
    assert again["id"] == delivery["id"]
    assert attempts(again) == [(None, "ConnectionRefusedError"), (250, None)]
    [message] = w.mail.messages()
    assert message["Message-ID"] == f"<{message_id(delivery)}@review-engine>"


def test_the_html_escapes_every_value() -> None:
    """No value the API accepts holds markup; were one to, it would be text, not markup."""
    hostile = "<script>alert(\"x\")</script> & 'quoted'"
    alert = AlertMessage(
        alert_id="a", rung="due_today", sequence=0, partnership="wessex", subject="case",
        subject_id="s", case_reference=hostile, clock="rapid_review", due_on=date(2026, 6, 24),
        working_days_overdue=0, link="https://x.example/?a=1&b=<2>",
    )  # fmt: skip
    mail = compose(alert, to=LEAD, sender=SENDER, message_id="msg_1")
    markup = parts(mail)["text/html"]
    assert "<script>" not in markup
    rows = Html(markup).rows()
    assert (rows["Case"], rows["Open"]) == (hostile, "https://x.example/?a=1&b=<2>")


# --- what no channel carries -------------------------------------------------------------


def test_no_card_or_mail_carries_what_the_case_says_about_the_child(w: World) -> None:
    """The case's summary and child (name, date of birth, ethnicity) hold canaries; its two
    running clocks (partners not yet told; the rapid review) are overdue, and every alert
    goes to Teams and by email, carrying none of them."""
    w.subscribe("teams", w.teams.url)
    w.subscribe("email", LEAD)
    w.notified_case(inform=False)
    raised, deliveries = w.detect("2026-06-25")
    assert raised >= 2
    assert deliveries == 2 * raised

    assert w.deliver(utcnow()) == ["delivered"] * deliveries
    assert len(w.teams.requests) == len(w.mail.received) == raised
    seen = [request.body.decode() + repr(request.headers) for request in w.teams.requests]
    for envelope, message in zip(w.mail.received, w.mail.messages(), strict=True):
        decoded = "".join(parts(message).values())
        seen.append(raw(envelope).decode() + decoded + str(message["Subject"]))
    for text in seen:
        assert "RR-2026-001" in text
        assert [c for c in CANARIES + BIRTH if c.lower() in text.lower()] == []
    clocks = sorted(
        r.json()["attachments"][0]["content"]["body"][0]["text"] for r in w.teams.requests
    )
    assert clocks == ["Overdue: rapid review", "Still overdue: partners informed"]


# --- what a subscription may not be ------------------------------------------------------


def test_email_needs_a_mail_server_and_teams_an_https_public_host(
    database_url: str, client: TestClient, wessex_admin: Headers
) -> None:
    def make(on: TestClient, channel: str, target: str) -> Any:
        body = {"channel": channel, "target": target, "partnerships": ["wessex"]}
        return on.post("/subscriptions", json=body, headers=wessex_admin)

    refused = make(client, "email", LEAD)  # the test app has no REVIEW_ENGINE_SMTP_HOST
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["body.channel"]

    strict = create_app(Settings(_env_file=None, database_url=database_url))
    with TestClient(strict) as production:
        for target, reason in (
            ("http://127.0.0.1:1/x", "must be an https URL"),
            ("https://127.0.0.1:1/x", "its host resolves to an internal address"),
            ("https://10.1.2.3/x", "its host resolves to an internal address"),
        ):
            refused = make(production, "teams", target)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"] == [{"field": "body.target", "message": reason}]
        listed = production.get("/subscriptions", headers=wessex_admin)
        assert listed.json()["items"] == []
