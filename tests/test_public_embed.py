"""The embeddable list of published reviews in a real browser: Debian's chromium, headless,
driven by Playwright, over real sockets on loopback. The app serves the demo data (`demo_url`),
to which two more kingsmere reviews are published through the API; a second small HTTP server
on another port plays the partnership's own website, whose pages put the list in an iframe and
whose stylesheet restyles it; a third plays someone else's site.

Shown: the page reads as a heading and a list of links that make sense out of context, with
JavaScript off; it cannot be framed until the partnership lists its website's origin, then only
there; the stylesheet from that origin applies. A missing chromium fails (CI installs it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from review_engine.deadline_context import clock_context
from review_engine.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EMBED = "/public/partnerships/kingsmere/reviews/embed"
RED, COLOUR = "rgb(255, 0, 0)", "e => getComputedStyle(e).color"
Step = tuple[str, dict[str, Any]]
K_TITLE = "Child K: learning from a sudden unexpected death in infancy"  # the demo's own
K_URL = "https://kingsmere-scp.example/reviews/child-k"
LCSPR = "Local child safeguarding practice review"
J = {"title": "Child J: online harm", "url": "https://kingsmere-scp.example/reviews/child-j"}
M = {
    "title": "Child M: a national review of criminal exploitation",
    "url": "https://kingsmere-scp.example/reviews/child-m",
    "learning_summary_url": "https://kingsmere-scp.example/learning/child-m",
}


# What the browser sees does not depend on the database: SQLite only, to keep the run short
# (tests/test_public_canary.py reads the same pages from both databases).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (as .ci/run does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def new_page(browser: Browser) -> Page:
    """A page in a fresh context (its own cache), with JavaScript off: nothing here needs it."""
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(5000)  # everything is local: fail fast
    return context.new_page()


# --- websites on loopback: the partnership's own, and someone else's ---------------------------


class Site:
    """An HTTP server on a free loopback port: `/plain.html` frames the list, `/styled.html`
    frames it with this site's `/site.css` (which makes the heading red)."""

    def __init__(self, app_url: str) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = site.pages.get(self.path)
                if page is None:
                    self.send_error(404)
                    return
                body, kind = page
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.stylesheet = f"{self.origin}/site.css"
        html, styled = "text/html; charset=utf-8", urlencode({"stylesheet": self.stylesheet})
        self.pages = {
            "/site.css": (b"h1 { color: rgb(255, 0, 0) }", "text/css"),
            "/plain.html": (self.parent(f"{app_url}{EMBED}").encode(), html),
            "/styled.html": (self.parent(f"{app_url}{EMBED}?{styled}").encode(), html),
        }
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def parent(src: str) -> str:
        return (
            '<!doctype html><html lang="en-GB"><title>Our reviews</title>'
            f'<h1>Our reviews</h1><iframe title="Published reviews" src="{src}"></iframe>'
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def sites(demo_url: str) -> Iterator[tuple[Site, Site]]:
    """The partnership's website, and a foreign one (another port: another origin)."""
    own, foreign = Site(demo_url), Site(demo_url)
    yield own, foreign
    own.close()
    foreign.close()


# --- the app: more reviews published, and the partnership's settings ------------------------


@dataclass
class App:
    url: str
    admin: dict[str, str]
    today: date  # the app's (Europe/London)
    links: list[tuple[str, str]]  # each review's link, newest first: accessible name, href

    def send(self, method: str, path: str, body: dict[str, Any], etag: str = "") -> Any:
        headers = {**self.admin, **({"If-Match": etag} if etag else {})}
        response = httpx.request(method, self.url + path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return {**response.json(), "_etag": response.headers.get("ETag", "")}

    def publish(self, ago: int, kind: str, steps: list[Step], **shown: str) -> None:
        """A new kingsmere case driven by `steps` (dates: days after aware_on), the last step
        publishing it `ago` days ago, 70 days after aware_on; its link now comes first."""
        aware_on = self.today - timedelta(days=ago + 70)
        body = {"partnership": "kingsmere", "reference": f"KM-EMBED-{len(self.links)}"}
        body |= {"incident_type": "serious_harm", "aware_on": aware_on.isoformat()}
        case = self.send("POST", "/cases", body)
        *steps, (last, payload) = steps
        steps.append((last, {**payload, "published_on": 70, **shown}))
        for event, given in steps:
            payload = {
                name: (aware_on + timedelta(days=value)).isoformat()
                if name.endswith("_on") and isinstance(value, int)
                else value
                for name, value in given.items()
            }
            case = self.send("POST", f"/cases/{case['id']}/events/{event}", payload, case["_etag"])
        assert case["state"] == "action_tracking", case
        day = aware_on + timedelta(days=70)
        self.links.insert(
            0, (f"{shown['title']}: {kind} (published {day:%-d %B %Y})", shown["url"])
        )


@pytest.fixture
def live(demo_url: str, settings: Settings, make_key: Callable[..., str]) -> App:
    """The demo (kingsmere: an LCSPR, Child K, published 140 working days ago), and two more
    kingsmere reviews published through the API: a local learning review 35 days ago and a
    national review 20 days ago."""
    context = clock_context(settings)
    child_k = context.calendar.add_working_days(context.today, -140)
    demo = (f"{K_TITLE}: {LCSPR} (published {child_k:%-d %B %Y})", K_URL)
    app = App(demo_url, {"Authorization": f"Bearer {make_key()}"}, context.today, [demo])
    app.publish(
        35,
        "Local learning review",
        [
            ("decide_not_to_notify", {"decided_on": 1, "reason": "criteria not met"}),
            ("start_learning_review", {"started_on": 2}),
            ("complete_learning_review", {"completed_on": 50, "mode": "improvements_only"}),
        ],
        **J,
    )
    app.publish(
        20,
        "National review",
        [
            ("notify_panel", {"notified_on": 1}),
            ("submit_rapid_review", {"submitted_on": 10, "recommendation": "national_review"}),
            ("record_panel_response", {"received_on": 20, "outcome": "national_review"}),
            ("complete_national_review", {"completed_on": 60, "mode": "full"}),
        ],
        **M,
    )
    return app


# --- the tests ---------------------------------------------------------------------------


def test_the_list_reads_well_without_javascript(browser: Browser, live: App) -> None:
    page = new_page(browser)
    response = page.goto(live.url + EMBED)
    assert response is not None
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.title() == "Published reviews: Kingsmere Safeguarding Children Partnership"
    assert page.locator("script").count() == 0

    [main] = page.get_by_role("main").all()
    [h1] = main.get_by_role("heading", level=1).all()
    assert h1.inner_text() == "Published reviews: Kingsmere Safeguarding Children Partnership"
    assert page.locator("h1").count() == 1
    [listing] = main.get_by_role("list").all()
    items = listing.get_by_role("listitem").all()
    assert len(items) == len(live.links)
    for item, (name, url) in zip(items, live.links, strict=True):
        [heading] = item.get_by_role("heading", level=2).all()
        # The link's accessible name alone says what it is: title, kind of review, date.
        [link] = heading.get_by_role("link", name=name, exact=True).all()
        assert link.get_attribute("href") == url
    summary = page.get_by_role("link", name=f"Learning summary for {M['title']}", exact=True)
    assert summary.get_attribute("href") == M["learning_summary_url"]
    assert page.get_by_role("link").count() == len(live.links) + 1  # no "read more", no pages
    assert h1.evaluate(COLOUR) != RED  # no stylesheet was asked for
    page.context.close()


def frame_shows_the_list(page: Page, parent_url: str) -> bool:
    """Loads the parent page (and its frame); whether the frame shows the embed's list."""
    page.goto(parent_url, wait_until="load")
    assert page.get_by_role("heading", name="Our reviews").count() == 1  # the parent loaded
    [_, frame] = page.frames
    shown = frame.get_by_role("listitem").count()
    assert shown in (0, 3), shown
    if shown == 0:  # blocked: chromium puts its error page in the frame
        assert frame.url.startswith("chrome-error://"), frame.url
    return shown == 3


def test_only_the_partnerships_own_site_may_frame_and_style_it(
    browser: Browser, live: App, sites: tuple[Site, Site]
) -> None:
    own, foreign = sites
    partnership = httpx.get(f"{live.url}/partnerships/kingsmere", headers=live.admin)
    assert partnership.json()["website_origins"] == []
    page = new_page(browser)
    assert not frame_shows_the_list(page, f"{own.origin}/plain.html")  # 'none' yet
    refused = httpx.get(live.url + EMBED, params={"stylesheet": own.stylesheet})
    assert refused.status_code == 422  # nor may its stylesheet be asked for
    page.context.close()

    live.send("PATCH", "/partnerships/kingsmere", {"website_origins": [own.origin]})
    page = new_page(browser)  # a fresh context: the list's page is cacheable for minutes
    heading = page.frame_locator("iframe").get_by_role("heading", level=1)
    assert frame_shows_the_list(page, f"{own.origin}/plain.html")
    assert heading.evaluate(COLOUR) != RED
    assert frame_shows_the_list(page, f"{own.origin}/styled.html")
    assert heading.evaluate(COLOUR) == RED  # the site's own stylesheet applies
    links = page.frame_locator("iframe").get_by_role("link")
    assert links.first.get_attribute("target") == "_top"  # a report opens in place of the site
    assert not frame_shows_the_list(page, f"{foreign.origin}/plain.html")  # still not theirs
    page.context.close()
