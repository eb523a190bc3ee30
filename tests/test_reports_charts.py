"""GET /reports/annual/charts/{chart}.svg: the yearly figures drawn, through the HTTP API on
the seed-shaped year of tests/test_reports_annual.py. Each SVG is parsed as XML and read the
way a screen reader or a person would: its title and description, the text on its bars."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.actions_helpers import assert_problem
from tests.test_reports_annual import SEED, THEMES, TODAY, Api, Headers
from tests.test_reports_annual import api as api  # the fixture: today pinned, an admin key

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = "/reports/annual/charts"
NAME = "Wessex Safeguarding Children Partnership"


@pytest.fixture
def seeded(api: Api) -> Api:
    renamed = api.client.patch("/partnerships/wessex", json={"name": NAME}, headers=api.admin)
    assert renamed.status_code == 200, renamed.text
    api.journeys(SEED, THEMES)
    return api


def chart(api: Api, name: str, headers: Headers | None = None, **params: object) -> ET.Element:
    response = api.client.get(
        f"{CHARTS}/{name}.svg",
        params={"partnership": "wessex", "year": 2020, **params},
        headers={**api.admin, **(headers or {})},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return ET.fromstring(response.content)


def said(svg: ET.Element) -> tuple[str, str]:
    """The title and description a screen reader announces (`aria-labelledby`)."""
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    title, desc = svg[0], svg[1]
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return title.text or "", desc.text or ""


def texts(svg: ET.Element) -> list[str]:
    """Every piece of text drawn, in document order (kept as text, not outlines)."""
    return [text.strip() for node in svg.iter(f"{SVG}text") if (text := "".join(node.itertext()))]


def test_each_chart_says_its_figures_in_words_and_on_the_bars(seeded: Api) -> None:
    timeliness = chart(seeded, "timeliness")
    title, desc = said(timeliness)
    assert title == f"{NAME}, case reviews 2020/21: timeliness against the statutory timescales"
    # Nine notified and nine sent, all on time; one LCSPR published, on time (the JSON's).
    assert desc == (
        f"{title}. Panel notifications: within 5 working days of awareness: on time 9, late 0, "
        "timescale waived 0. Rapid reviews: sent to the Panel within 15 working days: on time "
        "9, late 0, timescale waived 0. LCSPRs published: within six months of the decision: "
        f"on time 1, later 0. Figures as of {TODAY.isoformat()}."
    )
    drawn = texts(timeliness)
    heading = drawn.index(NAME)  # two lines: a partnership's full name is long
    assert drawn[heading + 1] == "Case reviews 2020/21: timeliness against the statutory timescales"
    assert {"on time", "late", "timescale waived", "later", "9", "1", "0"} <= set(drawn)

    _, outcomes = said(chart(seeded, "outcomes"))
    assert (
        "What the rapid reviews sent in the year recommended: an LCSPR 3, a local learning "
        "review 4, a national review 0, no further review 2." in outcomes
    )
    assert "The Panel's responses received in the year: agreed 9, challenged 0" in outcomes

    themes = chart(seeded, "themes")
    _, desc = said(themes)
    # Most frequent first, ties by name.
    assert "neglect 5, domestic abuse 3, mental health 2, physical abuse 2, online harm 1." in desc
    drawn = texts(themes)
    for theme, count in [("neglect", "5"), ("online harm", "1")]:
        assert theme in drawn
        assert count in drawn


def test_suppressed_counts_are_drawn_as_c_with_no_bar_and_explained(seeded: Api) -> None:
    plain, hidden = chart(seeded, "themes"), chart(seeded, "themes", suppress_below=3)
    _, desc = said(hidden)
    assert "neglect 5, domestic abuse 3, mental health c, online harm c, physical abuse c." in desc
    assert desc.endswith('"c" is a count from 1 to 2, not shown.')
    drawn = texts(hidden)
    assert "c: a count from 1 to 2, not shown" in drawn
    assert drawn.count("c") == 3
    assert not {"1", "2"} & set(drawn)

    # A hidden count draws no bar: three fewer patches with any width.
    def bars(svg: ET.Element) -> int:
        widths = [
            max(xs) - min(xs)
            for g in svg.iter(f"{SVG}g")
            if (g.get("id") or "").startswith("patch")
            for path in g.iter(f"{SVG}path")
            if (xs := [float(n) for n in re.findall(r"[ML] ([-\d.]+) ", path.get("d", ""))])
        ]
        return sum(1 for width in widths if width > 0)

    assert bars(plain) - bars(hidden) == 3
    # LCSPRs published and on time are both hidden, so "later" is too (not 1 - 1 = 0).
    _, desc = said(chart(seeded, "timeliness"))
    assert "within six months of the decision: on time 1, later 0." in desc
    _, desc = said(chart(seeded, "timeliness", suppress_below=2))
    assert "within six months of the decision: on time c, later c." in desc
    assert desc.endswith('"c" is a count of 1, not shown.')


def test_late_and_waived_bars_are_hatched_not_only_coloured(seeded: Api) -> None:
    # Aware Mon 4 Jan 2021, notification due Mon 11 Jan (5, 6, 7, 8, 11): notified Wed 13.
    late = ("2021-01-04", [("notify_panel", {"notified_on": "2021-01-13"})])
    seeded.journeys({"LATE-1": late}, {"LATE-1": []})
    svg = chart(seeded, "timeliness")
    _, desc = said(svg)
    assert "on time 9, late 1, timescale waived 0" in desc
    # matplotlib draws a hatch as a <pattern> filled onto the bar.
    assert list(svg.iter(f"{SVG}pattern")), "the late bar is not hatched"


def test_the_same_figures_give_the_same_drawing_and_no_case_reference(seeded: Api) -> None:
    first = seeded.client.get(
        f"{CHARTS}/outcomes.svg",
        params={"partnership": "wessex", "year": 2020},
        headers=seeded.admin,
    )
    again = seeded.client.get(
        f"{CHARTS}/outcomes.svg",
        params={"partnership": "wessex", "year": 2020},
        headers=seeded.admin,
    )
    assert first.content == again.content
    for reference in SEED:
        assert reference not in first.text


def test_access_and_bad_requests(
    seeded: Api, client: TestClient, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    body = {"code": "kingsmere", "name": "Kingsmere SCP"}
    assert client.post("/partnerships", json=body, headers=seeded.admin).status_code == 201
    own = auth(make_key(role="viewer", partnerships=["wessex"]))
    away = auth(make_key(role="viewer", partnerships=["kingsmere"]))
    assert said(chart(seeded, "themes", own))[1].startswith(NAME)
    url, year = f"{CHARTS}/themes.svg", {"partnership": "wessex", "year": 2020}
    problem = assert_problem(client.get(url, params=year, headers=away), 404)
    assert "neglect" not in str(problem)
    assert client.get(url, params=year).status_code == 401
    assert_problem(client.get(f"{CHARTS}/pie.svg", params=year, headers=own), 422, "path.chart")
    assert_problem(client.get(url, params={"year": 2020}, headers=own), 422, "query.partnership")
