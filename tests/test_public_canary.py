"""The public feed (JSON, Atom, RSS, the embeddable HTML list) shows nothing private.

Fifteen cases in two partnerships, at every stage of the workflow, hold a canary (a numbered
`ZqxCanary…`) in every sensitive field the API takes: the reference, the summary, every child
field, every free-text reason of an event or a waiver, agencies, recommendations, actions (and
their notes and evidence), a contribution's reason, a subscription, the API keys' names. Their
private dates (births, incidents, every workflow date but publication) are distinctive. Every
public answer (each format, each page, 304s, errors) is then read: no body and no header may
hold a canary, a private date in any usual rendering, a reference, a key or an internal id.

Why it catches a leak: a field added to `PublicReview` or a template printing more can only
show what a case holds, and everything a case holds here is a canary, a recorded date or a
recorded id: a `reference` on `PublicReview` prints `ZqxCanary…-reference`, a template
printing the summary prints `ZqxCanary…-summary…`, a feed printing a birth date prints one of
the renderings looked for (each checked on a mutated copy of `src`). Canaries are ASCII
letters, digits, hyphens and underscores: no escaping (JSON, XML, HTML) can hide one.
"""

from __future__ import annotations

import html
import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import feedparser
import httpx2
from fastapi.testclient import TestClient

from review_engine.publishing.schemas import PublicPartnership, PublicReview, PublicReviewPage

Headers = dict[str, str]
Json = dict[str, Any]
Step = tuple[str, Json]

PREFIX = "ZqxCanary"
SITES = {"wessex": "https://www.wessex-scp.example", "kingsmere": "https://kingsmere-scp.example"}
FORMATS = ("", ".atom", ".rss", "/embed")
_numbers = itertools.count(1)


def canary(what: str) -> str:
    """A new canary: the prefix, a number, and what it stands for (ASCII, no spaces)."""
    return f"{PREFIX}{next(_numbers):03d}-{what}"


# --- the cases: journeys whose dates are days after the case's aware_on ----------------------


def ev(event: str, **payload: Any) -> Step:
    return (event, payload)


def notified() -> list[Step]:
    return [ev("notify_panel", notified_on=2), ev("inform_partners", partners_informed_on=3)]


def in_lcspr(route: str = "lcspr", outcome: str = "agreed") -> list[Step]:
    return [
        *notified(),
        ev("submit_rapid_review", submitted_on=17, recommendation=route),
        ev("record_panel_response", received_on=30, outcome=outcome),
    ]


def approved(*detour: Step) -> list[Step]:
    approve = ev("approve_final_report", approved_on=150, planned_publication_on=200)
    return [*in_lcspr(), *detour, approve]


def shown(code: str, title: str, on: int, mode: str = "redacted", **more: str) -> Json:
    """A publication: public by design, so an ordinary title and URL."""
    url = f"{SITES[code]}/reviews/{title.split(':')[0].lower().replace(' ', '-')}"
    return {"published_on": on, "mode": mode, "url": url, "title": title, **more}


def published(code: str, title: str, *detour: Step, late: bool = False) -> list[Step]:
    excuse = {"late_notice_reason": canary("late-notice-reason")} if late else {}
    copies = ev("send_advance_copies", sent_on=196 if late else 170)  # late: 4 days before
    return [*approved(*detour), copies, ev("publish", **shown(code, title, 200, **excuse))]


def why(event: str, **payload: Any) -> Step:
    """An event with a free-text reason."""
    return ev(event, reason=canary(f"{event}-reason"), **payload)


def not_notified(*then: Step) -> list[Step]:
    return [why("decide_not_to_notify", decided_on=3), *then]


@dataclass(frozen=True)
class Spec:
    partnership: str
    aware_on: date
    steps: list[Step]
    state: str
    learning: bool = False  # agencies, recommendations, actions, contributions too


W, K, AT = "wessex", "kingsmere", "action_tracking"
T_TITLE, N_TITLE = "Child T: neglect in a large family", "Child N: a national review of SUDI"
L_TITLE, C_TITLE = "Child L: learning from online harm", "Child C: domestic abuse and a baby"
A_TITLE = "Child A: an older review, now archived"
LEARNING = ev("start_learning_review", started_on=10)
L_SUMMARY = f"{SITES[K]}/learning/child-l"
L_SHOWN = shown(K, L_TITLE, 140, "improvements_only", learning_summary_url=L_SUMMARY)
PAUSE = {"started_on": 60, "panel_informed_on": 61}
MOVE = {"rescheduled_on": 151, "planned_publication_on": 230, "panel_informed_on": 152}
# fmt: off
CASES = [  # partnership, aware_on, the journey (dates: days after aware_on), the state reached
    Spec(W, date(2024, 2, 5), [], "referred"),
    Spec(W, date(2024, 3, 4), [*notified(), why("waive", clock="rapid_review")], "rapid_review"),
    Spec(K, date(2024, 1, 15), in_lcspr()[:3], "awaiting_panel"),
    Spec(W, date(2023, 11, 6), [*in_lcspr(), why("pause", **PAUSE)], "lcspr_paused"),
    Spec(K, date(2023, 10, 2), [*approved(), why("reschedule_publication", **MOVE),
                                ev("send_advance_copies", sent_on=160)], "pre_publication"),
    Spec(W, date(2023, 9, 4), published(W, T_TITLE, why("pause", **PAUSE),
                                       ev("resume", resumed_on=80), late=True), AT, True),
    Spec(K, date(2023, 8, 7), [*approved(), why("withhold_publication", panel_informed_on=170)],
         AT),
    Spec(K, date(2024, 4, 8), not_notified(
        LEARNING, ev("complete_learning_review", completed_on=120, **L_SHOWN)), AT),
    Spec(W, date(2024, 5, 6), not_notified(
        LEARNING, ev("complete_learning_review", completed_on=110)), AT),
    Spec(W, date(2023, 7, 3), [*in_lcspr("national_review", "national_review"), ev(
        "complete_national_review", completed_on=200, **shown(W, N_TITLE, 230, "full"))], AT),
    Spec(K, date(2024, 7, 1), [*in_lcspr(), ev("escalate_to_national_review", decided_on=45)],
         "national_review"),
    Spec(K, date(2024, 6, 3), [*notified(), why("withdraw", withdrawn_on=10)], "withdrawn"),
    Spec(K, date(2023, 5, 1), [*published(K, C_TITLE), ev("close", closed_on=260)], "closed"),
    # Published on 2023-03-24, kept on the website for a year, then archived:
    Spec(W, date(2022, 9, 5), [*published(W, A_TITLE), ev("archive", archived_on=600)], AT),
    Spec(W, date(2024, 8, 5), not_notified(), "not_notified"),
]
# fmt: on
# Newest first: T 2024-03-22, N 2024-02-18; L 2024-08-26, C 2023-11-17 (A 2023-03-24).
LISTED = {"wessex": [T_TITLE, N_TITLE], "kingsmere": [L_TITLE, C_TITLE]}


# --- planting ---------------------------------------------------------------------------------


@dataclass
class Planted:
    """What was planted: ids, references, keys, private dates; and the publication dates."""

    client: TestClient
    admin: Headers
    ids: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)  # the API keys, raw
    references: list[str] = field(default_factory=list)
    cases: list[Json] = field(default_factory=list)
    private_dates: set[date] = field(default_factory=set)
    births_and_incidents: set[date] = field(default_factory=set)
    public_dates: set[date] = field(default_factory=set)

    def send(self, method: str, url: str, body: Json, etag: str | None = None) -> Json:
        headers = {**self.admin, **({"If-Match": etag} if etag else {})}
        response = self.client.request(method, url, json=body, headers=headers)
        assert response.status_code in (200, 201), (url, response.text)
        answer: Json = response.json()
        if isinstance(answer["id"], str):  # a UUID (a progress note's id is a number)
            self.ids.add(str(uuid.UUID(answer["id"])))
        return {**answer, "_etag": response.headers.get("ETag")}

    def day(self, aware_on: date, days: int, name: str = "") -> str:
        """The date `days` after aware_on, kept: public if it is a publication's."""
        on = aware_on + timedelta(days=days)
        (self.public_dates if name == "published_on" else self.private_dates).add(on)
        return on.isoformat()

    def case(self, n: int, spec: Spec) -> Json:
        dob, sibling_dob = date(2008 + n // 3, n % 12 + 1, 9 + n), date(2016, n % 12 + 1, 9 + n)
        incident_on = spec.aware_on - timedelta(days=9)
        self.private_dates |= {dob, sibling_dob, incident_on, spec.aware_on}
        self.births_and_incidents |= {dob, sibling_dob, incident_on}
        self.references.append(reference := canary("reference"))
        texts = ("name", "other_names", "sex", "ethnicity", "disability", "address")
        child = {name: canary(name) for name in (*texts, "placement_type")} | {
            "date_of_birth": dob.isoformat(),
            "age_years": 9,
            "looked_after": True,
            "plan": "child_protection",
            "known_to": [canary("known-to-police"), canary("known-to-school")],
        }
        sibling = {**child, "name": canary("sibling"), "date_of_birth": sibling_dob.isoformat()}
        body = {
            "partnership": spec.partnership,
            "reference": reference,
            "incident_type": "serious_harm",
            "aware_on": spec.aware_on.isoformat(),
            "incident_on": incident_on.isoformat(),
            "themes": ["neglect", "domestic_abuse"],
            "summary": canary("summary-found-unresponsive-at-home"),
            "children": [child, sibling],
        }
        case = self.send("POST", "/cases", body)
        for event, payload in spec.steps:
            for name, value in payload.items():
                if name.endswith("_on") and isinstance(value, int):
                    payload = {**payload, name: self.day(spec.aware_on, value, name)}
            url = f"/cases/{case['id']}/" + {
                "waive": "waivers",
                "archive": "publication/archive",
            }.get(event, f"events/{event}")
            case = self.send("POST", url, payload, case["_etag"])
        assert case["state"] == spec.state, (n, case["state"])
        self.cases.append(case)
        return case

    def learning(self, case: Json, aware_on: date) -> None:
        """Agencies, a contribution not coming, recommendations and actions at every status."""
        code, at = case["partnership"], lambda days: self.day(aware_on, days)
        police, health = canary("agency-police"), canary("agency-health")
        for name in (police, health):
            self.send("POST", f"/partnerships/{code}/agencies", {"name": name})
        asked = {"agency": police, "requested_on": at(40), "stage": "lcspr"}
        contribution = self.send("POST", f"/cases/{case['id']}/contributions", asked)
        stop = {"not_coming_reason": canary("not-coming-reason"), "not_coming_on": at(45)}
        self.send("PATCH", f"/contributions/{contribution['id']}", stop, contribution["_etag"])
        own = {"text": canary("panel-recommendation"), "source": "panel_report"}
        self.send("POST", f"/partnerships/{code}/recommendations", own)
        text = {"text": canary("recommendation"), "number": canary("no"), "source": "lcspr"}
        recommendation = self.send("POST", f"/cases/{case['id']}/recommendations", text)
        actions = f"/recommendations/{recommendation['id']}/actions"
        made = [
            self.send("POST", actions, {"lead_agency": health, "due_on": at(300)} | {
                "description": canary("action"), "owner": canary("owner")})
            for _ in range(3)
        ]  # fmt: skip
        done, cancelled, moved = (f"/actions/{action['id']}" for action in made)
        self.send("POST", f"{done}/updates", {"note": canary("progress-note")})
        completed = {"status": "completed", "evidence_of_completion": canary("evidence")}
        after = self.send("PATCH", done, {**completed, "completed_on": at(250)}, made[0]["_etag"])
        assured = {"status": "assured", "assured_on": at(260), "assured_by": canary("subgroup")}
        assured["evidence_of_impact"] = canary("impact")
        self.send("PATCH", done, assured, after["_etag"])
        stop = {"status": "cancelled", "cancellation_reason": canary("cancellation-reason")}
        self.send("PATCH", cancelled, stop, made[1]["_etag"])
        later = {"due_on": at(400), "due_on_change_reason": canary("due-date-reason")}
        self.send("PATCH", moved, later, made[2]["_etag"])
        hook = {"channel": "webhook", "target": f"http://127.0.0.1:9/{canary('hook')}"}
        self.send("POST", "/subscriptions", {**hook, "partnerships": [code]})


def plant(client: TestClient, make_key: Callable[..., str]) -> Planted:
    key = make_key(role="admin", name=canary("admin-key"))
    planted = Planted(client, {"Authorization": f"Bearer {key}"}, keys=[key])
    for code in SITES:
        body = {"code": code, "name": f"{code.title()} Safeguarding Children Partnership"}
        planted.send("POST", "/partnerships", body)
        planted.keys.append(make_key("member", [code], canary(f"{code}-member-key")))
    origins = {"website_origins": [SITES["wessex"]]}  # kingsmere has none: framed by nobody
    planted.send("PATCH", "/partnerships/wessex", origins)
    for n, spec in enumerate(CASES, start=1):
        case = planted.case(n, spec)
        if spec.learning:
            planted.learning(case, spec.aware_on)
    # Dates the feed prints by design are not looked for; births and incidents always are.
    assert not planted.births_and_incidents & planted.public_dates
    planted.private_dates -= planted.public_dates
    return planted


# --- reading everything public ------------------------------------------------------------


@dataclass
class Public:
    client: TestClient
    answers: list[tuple[str, httpx2.Response]] = field(default_factory=list)

    def get(self, url: str, status: int, headers: Headers | None = None, **query: Any) -> Any:
        response = self.client.get(url, params=query, headers=headers or {})
        label = f"{url} {query} {headers or ''}"
        assert response.status_code == status, (label, response.text)
        self.answers.append((label, response))
        return response


def titles(suffix: str, response: httpx2.Response) -> list[str]:
    """The titles a page lists, read as a client of that format reads them."""
    if suffix == "":
        return [item["title"] for item in response.json()["items"]]
    if suffix == "/embed":
        headings = re.findall(r"<h2>(.*?)</h2>", response.text, flags=re.S)
        return [html.unescape(re.sub(r"<[^>]+>", "", h)).rsplit(": ", 1)[0] for h in headings]
    return [entry.title for entry in feedparser.parse(response.content).entries]


def read_everything(public: Public) -> None:
    for code, listed in LISTED.items():
        feed = f"/public/partnerships/{code}/reviews"
        for suffix in FORMATS:
            whole = public.get(feed + suffix, 200)
            assert titles(suffix, whole) == listed, (code, suffix)
            for ask in ("If-None-Match", "ETag"), ("If-Modified-Since", "Last-Modified"):
                again = public.get(feed + suffix, 304, {ask[0]: whole.headers[ask[1]]})
                assert again.content == b""
            public.get(feed + suffix, 422, cursor="garbage")
            public.get(feed + suffix, 422, limit=0)
        cursor, seen = None, []  # a page at a time: each format, each page
        while cursor != "":
            page = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            first = public.get(feed, 200, **page)
            for suffix in FORMATS[1:]:
                shown = titles(suffix, public.get(feed + suffix, 200, **page))
                assert shown == titles("", first), (code, suffix, cursor)
            seen += titles("", first)
            cursor = first.json()["next_cursor"] or ""
        assert seen == listed
        own = SITES[code]  # only wessex lists it among its website origins
        for sheet in "https://evil.example", f"{own}.evil.example", f"{own}@evil.example", "data:":
            public.get(f"{feed}/embed", 422, stylesheet=f"{sheet}/s.css")
        public.get(feed, 200, {"Origin": own})
    styled = public.get(f"/public/partnerships/{W}/reviews/embed", 200, stylesheet=f"{SITES[W]}/s")
    policy = styled.headers["Content-Security-Policy"]
    assert f"frame-ancestors {SITES[W]};" in policy
    assert f"style-src 'unsafe-inline' {SITES[W]};" in policy
    assert policy.startswith("default-src 'none';")
    public.get(f"/public/partnerships/{K}/reviews/embed", 422, stylesheet=f"{SITES[K]}/s")
    bare = public.get(f"/public/partnerships/{K}/reviews/embed", 200)
    assert "frame-ancestors 'none';" in bare.headers["Content-Security-Policy"]
    allowed = public.get(f"/public/partnerships/{W}/reviews", 200, {"Origin": SITES[W]})
    assert allowed.headers["Access-Control-Allow-Origin"] == SITES[W]
    for suffix in FORMATS:
        public.get(f"/public/partnerships/no-such-scp/reviews{suffix}", 404)


# --- what must not be found ----------------------------------------------------------------


def renderings(day: date) -> list[str]:
    """How a date may be printed: ISO, British and US forms, RFC 822, compact."""
    forms = ["%Y-%m-%d", "%-d %B %Y", "%d %B %Y", "%-d %b %Y", "%d %b %Y", "%d/%m/%Y"]
    forms += ["%-d/%-m/%Y", "%m/%d/%Y", "%Y%m%d", "%B %-d, %Y", "%b %-d, %Y", "%d.%m.%Y"]
    return [day.strftime(form) for form in forms]


def private_in(planted: Planted) -> Callable[[str], list[str]]:
    """What a text holds of everything private (case-insensitively): a canary, a reference, an
    API key, an internal id (with or without hyphens), a private date in any rendering (not as
    part of a longer number)."""
    words = [PREFIX, *planted.references, *planted.keys]
    words += [form for id_ in planted.ids for form in (id_, id_.replace("-", ""))]
    days = {shown.lower() for day in planted.private_dates for shown in renderings(day)}

    def found_in(text: str) -> list[str]:
        lowered = text.lower()
        found = [word for word in words if word.lower() in lowered]
        for day in sorted(days):  # a plain search first: a regex for each is slow
            if day in lowered and re.search(rf"(?<![0-9]){re.escape(day)}(?![0-9])", lowered):
                found.append(day)
        return found

    return found_in


def test_no_public_answer_shows_a_case_s_private_data(
    client: TestClient, make_key: Callable[..., str]
) -> None:
    planted = plant(client, make_key)
    assert len(planted.ids) == 26  # cases, partnerships, agencies, actions...: all looked for
    private = private_in(planted)
    # The search finds what it looks for: the case as its members read it, each date form.
    case = planted.cases[-1]
    read = client.get(f"/cases/{case['id']}", headers=planted.admin).text
    born = date.fromisoformat(case["children"][0]["date_of_birth"])
    assert {PREFIX, case["reference"], case["id"], born.isoformat()} <= set(private(read))
    assert all(private(f"born {shown}.") for shown in renderings(born))
    assert private(f"{born:%Y%m%d}0") == []  # part of a longer number: not a date

    public = Public(client)
    read_everything(public)
    assert len(public.answers) == 74
    statuses = {response.status_code for _, response in public.answers}
    assert statuses == {200, 304, 404, 422}
    for label, response in public.answers:
        text = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        assert private(text) == [], label
        assert A_TITLE.lower() not in text.lower(), label  # archived


def test_the_public_shapes_are_the_allow_list() -> None:
    """A field added to a public shape is a deliberate decision, made here too."""
    assert " ".join(PublicReview.model_fields) == (
        "title review_type partnership published_on publication_mode themes report_url "
        "learning_summary_url"
    )
    assert list(PublicPartnership.model_fields) == ["code", "name"]
    assert list(PublicReviewPage.model_fields) == ["partnership", "items", "next_cursor"]
    for shape in (PublicReview, PublicPartnership, PublicReviewPage):
        assert shape.model_config.get("extra") == "forbid", shape
