"""The public feed (no key): JSON, Atom, RSS and the embed page; paging, caching, CORS,
archiving, and the index behind it. Through the HTTP API, with today pinned so dates can be
worked by hand (England and Wales working days)."""

from __future__ import annotations

import base64
import email.utils
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import feedparser  # type: ignore[import-untyped]
import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, delete, select
from typer.testing import CliRunner

from review_engine import db, deadline_context
from review_engine.app import create_app
from review_engine.cli import app as cli
from review_engine.partnerships import service as partnership_service
from review_engine.publishing import index
from review_engine.publishing.models import PublishedReview
from review_engine.publishing.schemas import REVIEW_TYPE_LABELS
from review_engine.settings import Settings
from tests.actions_helpers import assert_problem
from tests.cases_helpers import CANARY_NAME, CANARY_SUMMARY, create, fire

Headers = dict[str, str]
Json = dict[str, Any]
Step = tuple[str, Json]

TODAY = date(2026, 11, 27)  # a Friday, after every publication below
FEED = "/public/partnerships/wessex/reviews"
ROUTES = ("", ".atom", ".rss", "/embed")
SITE = "https://www.wessex-scp.example"
FIELDS = ["title", "review_type", "partnership", "published_on", "publication_mode", "themes"]
FIELDS += ["report_url", "learning_summary_url"]  # PublicReview's: the allow-list
# Defects in src (reported, not fixed here): each test below marked with one fails today.


def published(title: str, day: str, mode: str = "", summary: bool = False) -> Json:
    """An event's publication fields (mode defaults to full when left out)."""
    slug = title.lower().replace(" ", "-")
    fields = {"published_on": day, "url": f"{SITE}/reviews/{slug}", "title": title}
    fields |= {"mode": mode} if mode else {}
    return fields | ({"learning_summary_url": f"{SITE}/learning/{slug}"} if summary else {})


# An LCSPR: the Panel agreed on Wed 1 Jul 2026; the final report was approved on Mon 3 Aug.
TO_LCSPR: list[Step] = [
    ("notify_panel", {"notified_on": "2026-06-03"}),
    ("submit_rapid_review", {"submitted_on": "2026-06-19", "recommendation": "lcspr"}),
    ("record_panel_response", {"received_on": "2026-07-01", "outcome": "agreed"}),
    ("approve_final_report", {"approved_on": "2026-08-03", "planned_publication_on": "2026-09-02"}),
]
# Published Wed 2 Sep 2026. Seven working days back: Tue 1 Sep (1), [Mon 31 Aug: Summer bank
# holiday], Fri 28 Aug (2), Thu 27 (3), Wed 26 (4), Tue 25 (5), Mon 24 (6), Fri 21 Aug (7):
# copies sent on Fri 21 Aug are in time, so no late_notice_reason.
PUBLISH_LCSPR: list[Step] = [
    ("send_advance_copies", {"sent_on": "2026-08-21"}),
    ("publish", published("Child T", "2026-09-02", "redacted", summary=True)),
]
NOT_NOTIFIED: list[Step] = [
    ("decide_not_to_notify", {"decided_on": "2026-06-03", "reason": "criteria not met"}),
    ("start_learning_review", {"started_on": "2026-06-10"}),
]
# The Panel took a national review on Wed 1 Jul 2026.
TAKEN: Step = ("record_panel_response", {"received_on": "2026-07-01", "outcome": "national_review"})
TO_NATIONAL = [*TO_LCSPR[:2], TAKEN]
WITHHOLD: Step = ("withhold_publication", {"reason": "risk", "panel_informed_on": "2026-08-10"})
UNPUBLISHED: Step = ("complete_learning_review", {"completed_on": "2026-10-01"})
CHILD_N = published("Child N", "2026-11-04", "improvements_only", summary=True)
NATIONAL: Step = ("complete_national_review", {"completed_on": "2026-10-30", **CHILD_N})


def learning(title: str, published_on: str) -> Step:
    """A learning review completed on Thu 1 Oct 2026, published on `published_on`."""
    fields = {"completed_on": "2026-10-01", **published(title, published_on)}
    return ("complete_learning_review", fields)


def item(title: str, review_type: str, day: str, mode: str, summary: bool) -> Json:
    slug = title.lower().replace(" ", "-")
    summary_url = f"{SITE}/learning/{slug}" if summary else None
    report_url = f"{SITE}/reviews/{slug}"
    values = (title, review_type, "wessex", day, mode, ["neglect", "domestic_abuse"], report_url)
    return dict(zip(FIELDS, (*values, summary_url), strict=True))


THREE = [  # wessex's three published reviews, newest first
    item("Child N", "national_review", "2026-11-04", "improvements_only", summary=True),
    item("Child L", "local_learning_review", "2026-10-14", "full", summary=False),
    item("Child T", "lcspr", "2026-09-02", "redacted", summary=True),
]


@dataclass
class Api:
    """The client and an admin's headers (wessex exists); the server's today is `today`, and
    the index's clock runs `ahead` of now (so Last-Modified, in whole seconds, can move)."""

    client: TestClient
    admin: Headers
    today: date = TODAY
    ahead: timedelta = timedelta(0)

    def get(self, url: str, **headers: str) -> httpx2.Response:
        return self.client.get(url, headers=headers)

    def feed(self, url: str) -> Any:
        response = self.get(url)
        assert response.status_code == 200, response.text
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        return parsed

    def titles(self, suffix: str = "") -> list[str]:
        if suffix == "":
            return [review["title"] for review in self.get(FEED).json()["items"]]
        return [entry.title for entry in self.feed(FEED + suffix).entries]

    def journey(self, reference: str, steps: list[Step], **fields: Any) -> Json:
        case = create(self.client, self.admin, reference=reference, **fields)
        for event, payload in steps:
            case = fire(self.client, self.admin, case, event, payload)
        return case

    def publish_three(self) -> dict[str, Json]:
        """Wessex's three published reviews, one by each route to publication."""
        return {
            "Child T": self.journey("LCSPR-T", [*TO_LCSPR, *PUBLISH_LCSPR]),
            "Child L": self.journey("LLR-L", [*NOT_NOTIFIED, learning("Child L", "2026-10-14")]),
            "Child N": self.journey("NAT-N", [*TO_NATIONAL, NATIONAL]),
        }

    def archive(self, case: Json, archived_on: str) -> httpx2.Response:
        etag = self.client.get(f"/cases/{case['id']}", headers=self.admin).headers["ETag"]
        return self.client.post(
            f"/cases/{case['id']}/publication/archive",
            json={"archived_on": archived_on},
            headers={**self.admin, "If-Match": etag},
        )


@pytest.fixture
def api(client: TestClient, wessex_admin: Headers, monkeypatch: pytest.MonkeyPatch) -> Api:
    made = Api(client, wessex_admin)
    monkeypatch.setattr(deadline_context, "today_in", lambda timezone: made.today)
    monkeypatch.setattr(index, "utcnow", lambda: db.utcnow() + made.ahead)
    return made


def test_three_routes_to_publication_listed_newest_first_with_only_public_fields(api: Api) -> None:
    cases = api.publish_three()
    # Never listed: a learning review finished unpublished, a withheld LCSPR, an LCSPR not
    # yet published, and (on wessex's feed) another partnership's published review.
    api.journey("LLR-QUIET", [*NOT_NOTIFIED, UNPUBLISHED])
    api.journey("LCSPR-WITHHELD", [*TO_LCSPR, WITHHOLD])
    api.journey("LCSPR-PENDING", TO_LCSPR)
    away = {"code": "kingsmere", "name": "Kingsmere SCP"}
    assert api.client.post("/partnerships", json=away, headers=api.admin).status_code == 201
    other = [*NOT_NOTIFIED, learning("Child K", "2026-10-20")]
    api.journey("KM-K", other, partnership="kingsmere")

    response = api.get(FEED)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["partnership"], body["next_cursor"]) == ({"code": "wessex", "name": "W"}, None)
    assert body["items"] == THREE
    for review in body["items"]:
        assert set(review) == set(FIELDS)

    for suffix, media_type in ((".atom", "application/atom+xml"), (".rss", "application/rss+xml")):
        assert api.get(FEED + suffix).headers["content-type"].startswith(media_type)
        entries = api.feed(FEED + suffix).entries
        assert [entry.title for entry in entries] == ["Child N", "Child L", "Child T"]
        assert [entry.id for entry in entries] == [review["report_url"] for review in THREE]
        days = [date(*entry.published_parsed[:3]).isoformat() for entry in entries]
        assert days == [review["published_on"] for review in THREE]
        types = [entry.tags[0].term for entry in entries]
        if suffix == ".atom":
            assert types == [review["review_type"] for review in THREE]
            for entry, review in zip(entries, THREE, strict=True):
                assert [link.href for link in entry.links] == [review["report_url"]]
                summary = review["learning_summary_url"]
                assert summary is None or f"Learning summary: {summary}" in entry.summary
        else:  # an RSS category is the type's label
            assert types == [REVIEW_TYPE_LABELS[review["review_type"]] for review in THREE]
            assert [entry.link for entry in entries] == [review["report_url"] for review in THREE]

    # Nothing of a case but its public facts: no names, summaries, references or ids.
    hidden = [CANARY_NAME, CANARY_SUMMARY, "LCSPR-", "LLR-", "NAT-", "KM-K", "Child K"]
    hidden += [case["id"] for case in cases.values()]
    for suffix in ROUTES:
        text = api.get(FEED + suffix).text
        assert [secret for secret in hidden if secret in text] == [], suffix
    away_feed = api.get("/public/partnerships/kingsmere/reviews").json()
    assert [review["title"] for review in away_feed["items"]] == ["Child K"]


def test_an_atom_entry_links_its_report_and_names_its_learning_summary(api: Api) -> None:
    """One link per entry, the report, so that it is the alternate even though feedgen
    1.0.0 writes no `rel` on entry links; the learning summary's address is in the text."""
    api.journey("NAT-N", [*TO_NATIONAL, NATIONAL])
    (entry,) = api.feed(f"{FEED}.atom").entries
    assert [link.href for link in entry.links] == [CHILD_N["url"]]
    assert entry.link == CHILD_N["url"]
    assert f"Learning summary: {CHILD_N['learning_summary_url']}" in entry.summary


def test_limit_two_pages_through_all_once_with_opaque_cursors(api: Api, session: Session) -> None:
    cases = api.publish_three()
    # Two more published on Wed 14 Oct 2026 as Child L was: ties are ordered by the rows'
    # random public ids, and a page boundary falls among them.
    for title in ("Child M", "Child P"):
        cases[title] = api.journey(
            f"LLR-{title[-1]}", [*NOT_NOTIFIED, learning(title, "2026-10-14")]
        )
    rows = session.exec(select(PublishedReview)).all()
    newest_first = sorted(rows, key=lambda row: (row.published_on, row.public_id), reverse=True)
    expected = [row.title for row in newest_first]
    assert (expected[0], expected[-1]) == ("Child N", "Child T")
    assert api.titles() == expected

    hidden = [case["id"] for case in cases.values()]
    hidden += [case["id"].replace("-", "") for case in cases.values()]
    hidden += [case["reference"] for case in cases.values()]
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = api.client.get(FEED, params=params).json()
        pages.append([review["title"] for review in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        assert isinstance(json.loads(decoded), list)  # base64url JSON
        assert [secret for secret in hidden if secret in decoded] == [], decoded
    assert pages == [expected[0:2], expected[2:4], expected[4:]]


@pytest.mark.parametrize("suffix", [".atom", ".rss"])
def test_feeds_link_the_next_page_until_the_last(api: Api, suffix: str) -> None:
    api.publish_three()
    if suffix == ".rss":  # no paging in RSS: the first page, linking the HTML list
        feed = api.feed(f"{FEED}.rss?limit=2")
        assert feed.feed.link == f"http://testserver{FEED}/embed"
        assert [link for link in feed.feed.get("links", []) if link.rel == "next"] == []
        assert [entry.title for entry in feed.entries] == ["Child N", "Child L"]
        return
    url: str | None = f"{FEED}{suffix}?limit=2"
    titles: list[str] = []
    while url is not None:
        feed = api.feed(url)
        assert feed.feed.link == f"http://testserver{FEED}/embed"  # the HTML page
        titles += [entry.title for entry in feed.entries]
        following = [link.href for link in feed.feed.get("links", []) if link.rel == "next"]
        url = following[0].removeprefix("http://testserver") if following else None
        assert len(titles) <= 3, "the next link goes round in circles"
    assert titles == ["Child N", "Child L", "Child T"]


def test_archiving_a_year_after_publication_takes_the_review_off_every_feed(api: Api) -> None:
    cases = api.publish_three()
    pending = api.journey("PENDING", [])
    # Child T was published on Wed 2 Sep 2026: it stays up until Thu 2 Sep 2027 (a year).
    api.today = date(2027, 9, 2)

    early = assert_problem(api.archive(cases["Child T"], "2027-09-01"), 409)
    assert early["type"] == "/problems/archive-too-early"
    assert early["keep_published_until"] == "2027-09-02"
    # Tomorrow, or the day before publication (Child L: Wed 14 Oct 2026), is refused.
    for day in ("2027-09-03", "2026-10-13"):
        assert_problem(api.archive(cases["Child L"], day), 422, "body.archived_on")
    assert_problem(api.archive(pending, "2027-09-02"), 409)  # never published
    assert api.titles() == ["Child N", "Child L", "Child T"]

    before = {suffix: api.get(FEED + suffix) for suffix in ROUTES}
    case_etag = api.get(f"/cases/{cases['Child T']['id']}", **api.admin).headers["ETag"]
    api.ahead = timedelta(minutes=5)
    archived = api.archive(cases["Child T"], "2027-09-02")
    assert archived.status_code == 200, archived.text
    assert archived.headers["ETag"] != case_etag
    assert archived.json()["timeline"]["archived_on"] == "2027-09-02"

    for suffix in ROUTES:
        after = api.get(FEED + suffix)
        assert "Child T" not in after.text, suffix
        assert "Child N" in after.text, suffix
        moved = email.utils.parsedate_to_datetime(after.headers["Last-Modified"])
        assert moved > email.utils.parsedate_to_datetime(before[suffix].headers["Last-Modified"])
        stale = api.get(FEED + suffix, **{"If-None-Match": before[suffix].headers["ETag"]})
        assert stale.status_code == 200
        assert stale.headers["ETag"] != before[suffix].headers["ETag"]
    assert api.titles(".atom") == api.titles(".rss") == ["Child N", "Child L"]

    again = assert_problem(api.archive(cases["Child T"], "2027-09-02"), 409)  # archived already
    assert again["type"] != "/problems/archive-too-early"


def test_the_archive_is_in_the_case_history(api: Api) -> None:
    case = api.journey("LLR-L", [*NOT_NOTIFIED, learning("Child L", "2026-10-14")])
    api.today = date(2027, 10, 14)  # Wed 14 Oct 2026 plus a year
    assert api.archive(case, "2027-10-14").status_code == 200
    history = api.get(f"/cases/{case['id']}/history", **api.admin)
    assert history.status_code == 200, history.text
    last = history.json()["items"][-1]
    assert last["action"] == "publication_archived"
    assert last["details"] == {"archived_on": "2027-10-14"}


def test_conditional_requests_and_cache_lifetime(api: Api, settings: Settings) -> None:
    api.journey("LLR-L", [*NOT_NOTIFIED, learning("Child L", "2026-10-14")])
    for suffix in ROUTES:
        first = api.get(FEED + suffix)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert etag.startswith('"'), "a strong ETag"
        assert first.headers["Cache-Control"] == "public, max-age=300"
        assert first.headers["Vary"] == "Origin"
        assert "Child L" in first.text
        earlier = email.utils.parsedate_to_datetime(modified) - timedelta(seconds=1)
        older = email.utils.format_datetime(earlier, usegmt=True)
        for headers, status in (
            ({"If-None-Match": etag}, 304),
            ({"If-Modified-Since": modified}, 304),
            ({"If-Modified-Since": older}, 200),
            ({"If-None-Match": '"not-this-one"', "If-Modified-Since": modified}, 200),
        ):
            response = api.get(FEED + suffix, **headers)
            assert response.status_code == status, (suffix, headers)
            assert response.headers["ETag"] == etag
            assert response.headers["Cache-Control"] == "public, max-age=300"
            assert response.content == (b"" if status == 304 else first.content)

    shorter = settings.model_copy(update={"public_feed_max_age": 60})
    with TestClient(create_app(shorter)) as short_lived:
        for suffix in ROUTES:
            assert short_lived.get(FEED + suffix).headers["Cache-Control"] == "public, max-age=60"


def test_cors_only_for_the_partnerships_own_website_on_the_json_route(api: Api) -> None:
    away = {"code": "kingsmere", "name": "Kingsmere SCP"}
    assert api.client.post("/partnerships", json=away, headers=api.admin).status_code == 201

    def allowed(url: str, **origin: str) -> str | None:
        response = api.get(url, **origin)
        assert response.status_code == 200
        assert response.headers["Vary"] == "Origin"
        return response.headers.get("Access-Control-Allow-Origin")

    assert allowed(FEED, Origin=SITE) is None  # no website origins yet
    body = {"website_origins": [SITE]}
    patched = api.client.patch("/partnerships/wessex", json=body, headers=api.admin)
    assert patched.status_code == 200, patched.text
    assert allowed(FEED, Origin=SITE) == SITE
    assert allowed(FEED) is None
    for other in ("https://evil.example", f"{SITE}.evil.example", "http://www.wessex-scp.example"):
        assert allowed(FEED, Origin=other) is None
    assert allowed("/public/partnerships/kingsmere/reviews", Origin=SITE) is None
    for suffix in (".atom", ".rss", "/embed"):
        assert allowed(FEED + suffix, Origin=SITE) is None


def test_errors_are_problems_and_credentials_are_ignored(api: Api) -> None:
    api.journey("LLR-L", [*NOT_NOTIFIED, learning("Child L", "2026-10-14")])
    for headers in ({}, {"Authorization": "Bearer re_bogus_bogus"}):
        for suffix in ROUTES:
            assert_problem(api.get(f"/public/partnerships/nowhere/reviews{suffix}", **headers), 404)
            garbage = api.client.get(FEED + suffix, params={"cursor": "garbage"}, headers=headers)
            assert_problem(garbage, 422, "query.cursor")
            unknown = api.client.get(FEED + suffix, params={"utm_source": "x"}, headers=headers)
            assert_problem(unknown, 422, "query.utm_source")
            public = api.get(FEED + suffix, **headers)
            assert public.status_code == 200
            assert "Child L" in public.text
            assert public.content == api.get(FEED + suffix).content


def test_the_index_is_rebuilt_by_refresh_deadlines(
    api: Api, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.publish_three()
    whole = api.get(FEED).json()
    assert whole["items"] == THREE
    feeds = {suffix: api.titles(suffix) for suffix in (".atom", ".rss")}

    session.exec(delete(PublishedReview))
    session.commit()
    assert api.get(FEED).json()["items"] == []  # the feed reads the index alone

    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["db", "refresh-deadlines"])
    assert result.exit_code == 0, result.output
    assert api.get(FEED).json() == whole
    assert {suffix: api.titles(suffix) for suffix in (".atom", ".rss")} == feeds


def test_renaming_the_partnership_moves_last_modified(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every feed shows the partnership's name: a rename must not be answered with a 304 to
    a reader who revalidates with If-Modified-Since only (WordPress's feed reader does)."""
    api.journey("LLR-L", [*NOT_NOTIFIED, learning("Child L", "2026-10-14")])
    first = {suffix: api.get(FEED + suffix) for suffix in ROUTES}
    later = db.utcnow() + timedelta(minutes=5)  # Last-Modified is in whole seconds
    monkeypatch.setattr(partnership_service, "utcnow", lambda: later)
    renamed = api.client.patch("/partnerships/wessex", json={"name": "Wessex Renamed SCP"},
                               headers=api.admin)  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    for suffix, before in first.items():
        since = before.headers["Last-Modified"]
        again = api.get(FEED + suffix, **{"If-Modified-Since": since})
        assert again.status_code == 200, suffix
        assert "Wessex Renamed SCP" in again.text
        assert again.headers["Last-Modified"] == email.utils.format_datetime(
            later.replace(microsecond=0), usegmt=True
        )
