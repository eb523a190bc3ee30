"""GET /reports/annual: a partnership's figures for one reporting year (1 April to 31 March),
every case replayed as of a day. Through the HTTP API with today pinned; every date is worked
by hand in England and Wales working days (weekends and bank holidays do not count)."""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any

import pytest
from fastapi.testclient import TestClient

from review_engine import deadline_context
from review_engine.reports.annual import FIGURES
from tests.actions_helpers import assert_problem
from tests.cases_helpers import create, fire

Headers = dict[str, str]
Json = dict[str, Any]
Step = tuple[str, Json]
Case = tuple[str, list[Step]]  # aware_on, and the events after

TODAY = date(2021, 12, 31)  # a Friday, the server's today: after every date below
URL = "/reports/annual"
CSV = {"Accept": "text/csv"}


def notify(on: str) -> Step:
    return ("notify_panel", {"notified_on": on})


def submit(on: str, recommendation: str) -> Step:
    return ("submit_rapid_review", {"submitted_on": on, "recommendation": recommendation})


def panel(on: str, outcome: str = "agreed", **decided_on: str) -> Step:
    return ("record_panel_response", {"received_on": on, "outcome": outcome, **decided_on})


def rapid(aware: str, notified: str, sent: str, recommends: str, agreed: str, *then: Step) -> Case:
    return aware, [notify(notified), submit(sent, recommends), panel(agreed), *then]


def publish(approved: str, copies: str, published: str, title: str) -> list[Step]:
    url = f"https://www.wessex-scp.example/reviews/{title.lower().replace(' ', '-')}"
    return [
        ("approve_final_report", {"approved_on": approved, "planned_publication_on": published}),
        ("send_advance_copies", {"sent_on": copies}),
        ("publish", {"published_on": published, "mode": "full", "url": url, "title": title}),
    ]


def pause(started: str) -> Step:
    return ("pause", {"started_on": started, "reason": "trial", "panel_informed_on": started})


# Wessex's 2020/21, shaped like the seed annual report: nine rapid reviews, each notified
# within 5 working days of awareness and sent within 15 of the notification, all agreed by
# the Panel: three LCSPRs, four learning reviews, two with no further review; and a case the
# partners decided not to notify. Notification due (N) and rapid review due (R), by hand:
# fmt: off
SEED: dict[str, Case] = {
    # Aware Mon 6 Apr 2020. N: 7, 8, 9, 14, 15 Apr (Good Friday 10, Easter Monday 13 Apr
    # bank holidays): Wed 15 Apr, met then. R: 16, 17, 20-24, 27-30 Apr, 1, 4, 5, 6 May: Wed
    # 6 May, met then. The LCSPR decided Wed 20 May is due Fri 20 Nov 2020: published Mon
    # 16 Nov, copies Mon 2 Nov (by Thu 5 Nov: 13, 12, 11, 10, 9, 6, 5 Nov, 7 working days).
    "RR20-01": rapid("2020-04-06", "2020-04-15", "2020-05-06", "lcspr", "2020-05-20",
                     *publish("2020-10-01", "2020-11-02", "2020-11-16", "Child A")),
    # Aware Thu 7 May. N: 11-15 May (Fri 8 May, VE Day, a bank holiday): Fri 15 May, met
    # Thu 14. R: 15, 18-22, 26-29 May (Mon 25 a bank holiday), 1-5 Jun: Fri 5 Jun, met then.
    # Paused from Mon 5 Oct 2020, never resumed.
    "RR20-02": rapid("2020-05-07", "2020-05-14", "2020-06-05", "lcspr", "2020-06-22",
                     pause("2020-10-05")),
    # Aware Mon 7 Sep. N: Mon 14 Sep, met Fri 11. R: 14-18, 21-25, 28-30 Sep, 1, 2 Oct: Fri
    # 2 Oct, met Thu 1 Oct.
    "RR20-03": rapid("2020-09-07", "2020-09-11", "2020-10-01", "lcspr", "2020-10-14"),
    # Aware Mon 1 Jun. N: Mon 8 Jun, met Wed 3. R: 4, 5, 8-12, 15-19, 22-24 Jun: Wed 24 Jun,
    # met Fri 19. Completed Fri 15 Jan 2021.
    "RR20-04": rapid("2020-06-01", "2020-06-03", "2020-06-19", "learning_review", "2020-07-01",
                     ("complete_learning_review", {"completed_on": "2021-01-15"})),
    # Aware Tue 21 Jul. N: Tue 28 Jul, met Mon 27. R: 28-31 Jul, 3-7, 10-14, 17 Aug: Mon
    # 17 Aug, met Fri 14. Completed Thu 11 Mar 2021.
    "RR20-05": rapid("2020-07-21", "2020-07-27", "2020-08-14", "learning_review", "2020-09-02",
                     ("complete_learning_review", {"completed_on": "2021-03-11"})),
    # Aware Wed 18 Nov. N: Wed 25 Nov, met Tue 24. R: 25-27 Nov, 30 Nov-4 Dec, 7-11, 14,
    # 15 Dec: Tue 15 Dec, met then.
    "RR20-06": rapid("2020-11-18", "2020-11-24", "2020-12-15", "learning_review", "2021-01-11"),
    # Aware Tue 22 Dec. N: 23, 24, 29, 30, 31 Dec (25 and 28 Dec bank holidays): Thu 31 Dec,
    # met then. R: 4-8, 11-15, 18-22 Jan (Fri 1 Jan a bank holiday): Fri 22 Jan, met then.
    "RR20-07": rapid("2020-12-22", "2020-12-31", "2021-01-22", "learning_review", "2021-02-04"),
    # Aware Mon 1 Feb 2021. N: Mon 8 Feb, met Wed 3. R: 4, 5, 8-12, 15-19, 22-24 Feb: Wed
    # 24 Feb, met Tue 23.
    "RR20-08": rapid("2021-02-01", "2021-02-03", "2021-02-23", "no_further_review", "2021-03-10"),
    # Aware Mon 1 Mar. N: Mon 8 Mar, met Fri 5. R: 8-12, 15-19, 22-26 Mar: Fri 26 Mar, met.
    "RR20-09": rapid("2021-03-01", "2021-03-05", "2021-03-26", "no_further_review", "2021-03-31"),
    # Not notified, so its theme is not counted; a local learning review started.
    "NN20-10": ("2020-11-09", [
        ("decide_not_to_notify", {"decided_on": "2020-11-12", "reason": "criteria not met"}),
        ("start_learning_review", {"started_on": "2020-11-16"})]),
}
THEMES = {
    "RR20-01": ["neglect", "domestic_abuse"], "RR20-02": ["neglect", "mental_health"],
    "RR20-03": ["physical_abuse"], "RR20-04": ["neglect"],
    "RR20-05": ["domestic_abuse", "mental_health"], "RR20-06": ["neglect"],
    "RR20-07": ["online_harm"], "RR20-08": ["physical_abuse", "neglect"],
    "RR20-09": ["domestic_abuse"], "NN20-10": ["neglect"],
}
LCSPRS = ["RR20-01", "RR20-02", "RR20-03"]
LEARNING = ["RR20-04", "RR20-05", "RR20-06", "RR20-07"]
NO_FURTHER = ["RR20-08", "RR20-09"]
RAPID = [*LCSPRS, *LEARNING, *NO_FURTHER]
SEED_FIGURES: Json = {
    "notifications": {"total": 9, "on_time": 9, "late": 0, "waived": 0,
                      "not_notified_decisions": 1},
    "rapid_reviews": {
        "submitted": 9, "on_time": 9, "late": 0, "waived": 0,
        "recommendations": {"lcspr": 3, "learning_review": 4, "no_further_review": 2,
                            "national_review": 0},
        "panel_outcomes": {"agreed": 9, "national_review": 0, "challenged": 0}},
    "lcsprs": {"commissioned": 3, "published": 1, "published_on_time": 1, "withheld": 0,
               "paused_now": 1},
    "learning_reviews": {"started": 5, "completed": 2},  # four agreed, one not notified
    "national_reviews": {"taken": 0, "completed": 0},
    "themes": {"domestic_abuse": 3, "mental_health": 2, "neglect": 5, "online_harm": 1,
               "physical_abuse": 2},
    # No actions or contributions recorded (tests/test_reports_work.py counts those).
    "actions": {"open": 0, "overdue": 0, "completed": 0, "assured": 0, "cancelled": 0,
                "slipped": 0, "slipped_days": 0, "by_lead_agency": {}},
    "contributions": {"requested": 0, "returned_on_time": 0, "returned_late": 0,
                      "not_coming": 0, "outstanding": 0},
}

# The boundaries (all with the theme neglect).
BOUNDARY: dict[str, Case] = {
    "B-0331": ("2021-03-31", [notify("2021-03-31")]),  # the last day of 2020/21
    "B-0401": ("2021-03-30", [notify("2021-04-01")]),  # aware in 2020/21, notified in 2021/22
    # Aware Thu 24 Dec 2020. N: 29, 30, 31 Dec, 4, 5 Jan: Tue 5 Jan 2021 (weekdays alone
    # would give Thu 31 Dec). Notified Tue 5 Jan: on time; Wed 6 Jan: late.
    "B-XMAS-ON": ("2020-12-24", [notify("2021-01-05")]),
    "B-XMAS-LATE": ("2020-12-24", [notify("2021-01-06")]),
    # Aware Mon 1 Jun 2020, N: Mon 8 Jun; notified Mon 15 Jun: late, until the notification
    # timescale is waived on Tue 30 Jun 2020 (`Api.boundaries`).
    "B-WAIVED": ("2020-06-01", [notify("2020-06-15")]),
    # Sent Tue 23 Feb 2021 (R: Wed 24 Feb), challenged Thu 25 Mar 2021, sent again Mon
    # 12 Apr and agreed Mon 26 Apr 2021: the learning review starts then.
    "B-CHALLENGE": ("2021-02-01", [
        notify("2021-02-03"), submit("2021-02-23", "learning_review"),
        panel("2021-03-25", "challenged"), submit("2021-04-12", "learning_review"),
        panel("2021-04-26")]),
    # Notified Thu 7 Jan 2021 (N: Mon 11), sent Thu 21 Jan (R: Thu 28 Jan). Decided Mon 15 Feb,
    # the LCSPR is due Sun 15 Aug 2021 (calendar months: not moved to a working day); published
    # Mon 16 Aug, a day late. Copies Tue 3 Aug (by Thu 5 Aug: 13, 12, 11, 10, 9, 6, 5 Aug).
    "B-LCSPR": rapid("2021-01-04", "2021-01-07", "2021-01-21", "lcspr", "2021-02-15",
                     *publish("2021-07-01", "2021-08-03", "2021-08-16", "Child L")),
    # The partners decided on the LCSPR on Mon 1 Mar 2021, in 2020/21; the Panel agreed on Tue
    # 6 Apr, in 2021/22. Due Wed 1 Sep 2021; paused Tue 4 May to Tue 1 Jun: 5-7, 10-14, 17-21,
    # 24-28 May, 1 Jun (Mon 31 May a bank holiday) = 19 working days, so due Tue 28 Sep (2, 3,
    # 6-10, 13-17, 20-24, 27, 28 Sep). Published Mon 27 Sep: on time, late without the
    # pause. Copies Mon 13 Sep (by Thu 16 Sep).
    "B-PAUSE": ("2021-02-01", [
        notify("2021-02-03"), submit("2021-02-23", "lcspr"),
        panel("2021-04-06", decided_on="2021-03-01"),
        pause("2021-05-04"), ("resume", {"resumed_on": "2021-06-01"}),
        *publish("2021-08-02", "2021-09-13", "2021-09-27", "Child P")]),
}
# fmt: on
WORK = ("actions", "contributions")  # counted apart (tests/test_reports_work.py)
IN_2020 = ["B-0331", "B-CHALLENGE", "B-LCSPR", "B-PAUSE", "B-WAIVED", "B-XMAS-LATE", "B-XMAS-ON"]


@dataclass
class Api:
    client: TestClient
    admin: Headers

    def journeys(self, cases: dict[str, Case], themes: dict[str, list[str]]) -> dict[str, str]:
        """Creates the cases and fires their events; their ids by reference."""
        ids = {}
        for reference, (aware_on, steps) in cases.items():
            fields = {"aware_on": aware_on, "incident_on": aware_on, "themes": themes[reference]}
            case = create(self.client, self.admin, reference=reference, **fields)
            for event, payload in steps:
                case = fire(self.client, self.admin, case, event, payload)
            ids[reference] = case["id"]
        return ids

    def boundaries(self) -> None:
        ids = self.journeys(BOUNDARY, dict.fromkeys(BOUNDARY, ["neglect"]))
        waiver = {"clock": "notification", "reason": "2020 relaxation", "waived_on": "2020-06-30"}
        url, headers = f"/cases/{ids['B-WAIVED']}/waivers", {**self.admin, "If-Match": "*"}
        assert self.client.post(url, json=waiver, headers=headers).status_code == 200

    def get(self, year: int, headers: Headers | None = None, **params: Any) -> Any:
        params = {"partnership": "wessex", "year": year, **params}
        return self.client.get(URL, params=params, headers={**self.admin, **(headers or {})})

    def report(self, year: int, **params: Any) -> Json:
        response = self.get(year, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return dict(response.json())

    def detail(self, year: int, **params: Any) -> dict[str, list[str]]:
        """The references behind each figure (and theme) that counts any."""
        body = self.report(year, detail="true", **params)
        themes = {f"themes.{theme}" for theme in body["themes"]}
        work = {name for name in body["detail"] if name.split(".")[0] in WORK}
        assert set(body["detail"]) - work == {figure.name for figure in FIGURES} | themes
        return {name: refs for name, refs in body["detail"].items() if refs}


def flat(body: Json) -> dict[str, Any]:
    """A report's figures by name, in the FIGURES table's order."""
    return {f.name: reduce(operator.getitem, f.name.split("."), body) for f in FIGURES}


@pytest.fixture
def api(client: TestClient, wessex_admin: Headers, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(deadline_context, "today_in", lambda timezone: TODAY)
    return Api(client, wessex_admin)


def test_a_year_shaped_like_the_seed_report_counts_every_figure(api: Api) -> None:
    api.journeys(SEED, THEMES)
    assert api.report(2020) == {
        "period": {"from": "2020-04-01", "to": "2021-03-31"},
        "partnership": "wessex",
        "as_of": TODAY.isoformat(),  # today by default
        "suppress_below": None,
        **SEED_FIGURES,
        "detail": None,
    }
    # The next year holds none of it but the LCSPR still paused on the report's day.
    later = api.report(2021)
    assert (later["period"], later["themes"]) == ({"from": "2021-04-01", "to": "2022-03-31"}, {})
    assert {name: n for name, n in flat(later).items() if n} == {"lcsprs.paused_now": 1}


def test_boundaries_of_the_year_late_waived_challenged_and_lcsprs_across_years(api: Api) -> None:
    api.boundaries()
    rapid_2020 = ["B-CHALLENGE", "B-LCSPR", "B-PAUSE"]  # each sent once in the year
    assert api.detail(2020) == {
        "notifications.total": IN_2020,  # B-0331 in, B-0401 out
        "notifications.on_time": ["B-0331", "B-CHALLENGE", "B-LCSPR", "B-PAUSE", "B-XMAS-ON"],
        "notifications.late": ["B-XMAS-LATE"],
        "notifications.waived": ["B-WAIVED"],  # waived, not late
        "rapid_reviews.submitted": rapid_2020,
        "rapid_reviews.on_time": rapid_2020,
        "rapid_reviews.recommendations.lcspr": ["B-LCSPR", "B-PAUSE"],
        "rapid_reviews.recommendations.learning_review": ["B-CHALLENGE"],
        "rapid_reviews.panel_outcomes.agreed": ["B-LCSPR"],
        "rapid_reviews.panel_outcomes.challenged": ["B-CHALLENGE"],
        "lcsprs.commissioned": ["B-LCSPR", "B-PAUSE"],  # decided before the Panel agreed
        "themes.neglect": IN_2020,
    }
    assert api.detail(2021) == {  # the resubmission is no new submission
        "notifications.total": ["B-0401"],
        "notifications.on_time": ["B-0401"],
        "rapid_reviews.panel_outcomes.agreed": ["B-CHALLENGE", "B-PAUSE"],
        "lcsprs.published": ["B-LCSPR", "B-PAUSE"],
        "lcsprs.published_on_time": ["B-PAUSE"],  # B-LCSPR a day late
        "learning_reviews.started": ["B-CHALLENGE"],
        "themes.neglect": ["B-0401"],
    }


# (year, as_of, figure, the references it counts as of that day)
REPLAYS: list[tuple[int, str, str, list[str]]] = [
    # B-WAIVED late on Mon 29 Jun 2020, waived from Tue 30 Jun.
    (2020, "2020-06-29", "notifications.late", ["B-WAIVED"]),
    (2020, "2020-06-29", "notifications.waived", []),
    (2020, "2020-06-30", "notifications.late", []),
    (2020, "2020-06-30", "notifications.waived", ["B-WAIVED"]),
    # B-LCSPR, sent Thu 21 Jan 2021, decided Mon 15 Feb: recommended before it was decided.
    (2020, "2021-02-14", "rapid_reviews.recommendations.lcspr", ["B-LCSPR"]),
    (2020, "2021-02-14", "lcsprs.commissioned", []),
    (2020, "2021-02-15", "lcsprs.commissioned", ["B-LCSPR"]),
    # The Panel's challenge came on Thu 25 Mar 2021, its agreement on Mon 26 Apr (B-PAUSE's
    # on Tue 6 Apr).
    (2020, "2021-03-24", "rapid_reviews.panel_outcomes.challenged", []),
    (2020, "2021-03-25", "rapid_reviews.panel_outcomes.challenged", ["B-CHALLENGE"]),
    (2021, "2021-04-05", "rapid_reviews.panel_outcomes.agreed", []),
    (2021, "2021-04-25", "rapid_reviews.panel_outcomes.agreed", ["B-PAUSE"]),
    (2021, "2021-04-25", "learning_reviews.started", []),
    (2021, "2021-04-26", "rapid_reviews.panel_outcomes.agreed", ["B-CHALLENGE", "B-PAUSE"]),
    (2021, "2021-04-26", "learning_reviews.started", ["B-CHALLENGE"]),
    # B-PAUSE paused Tue 4 May 2021, resumed Tue 1 Jun (still paused at the end of 31 May).
    (2021, "2021-05-03", "lcsprs.paused_now", []),
    (2021, "2021-05-04", "lcsprs.paused_now", ["B-PAUSE"]),
    (2021, "2021-05-31", "lcsprs.paused_now", ["B-PAUSE"]),
    (2021, "2021-06-01", "lcsprs.paused_now", []),
    # Published Mon 16 Aug 2021 (late) and Mon 27 Sep 2021 (on time).
    (2021, "2021-08-15", "lcsprs.published", []),
    (2021, "2021-08-16", "lcsprs.published", ["B-LCSPR"]),
    (2021, "2021-09-26", "lcsprs.published", ["B-LCSPR"]),
    (2021, "2021-09-26", "lcsprs.published_on_time", []),
    (2021, "2021-09-27", "lcsprs.published", ["B-LCSPR", "B-PAUSE"]),
    (2021, "2021-09-27", "lcsprs.published_on_time", ["B-PAUSE"]),
]


def test_as_of_replays_the_figures_as_they_stood_that_day(api: Api) -> None:
    api.boundaries()
    seen: dict[tuple[int, str], dict[str, list[str]]] = {}
    for year, as_of, figure, expected in REPLAYS:
        if (year, as_of) not in seen:
            seen[year, as_of] = api.detail(year, as_of=as_of)
        assert seen[year, as_of].get(figure, []) == expected, (year, as_of, figure)
    assert api.report(2020, as_of="2020-06-29")["as_of"] == "2020-06-29"
    # B-0331, aware and notified on Wed 31 Mar 2021, is left out as of the day before.
    for as_of, figures in [
        ("2021-03-30", []),
        ("2021-03-31", ["notifications.on_time", "notifications.total", "themes.neglect"]),
    ]:
        detail = api.detail(2020, as_of=as_of)
        assert sorted(name for name, refs in detail.items() if "B-0331" in refs) == figures
    # Before anyone knew of any of them, the year is empty.
    before = api.report(2020, as_of="2020-05-31")
    assert (set(flat(before).values()), before["themes"]) == ({0}, {})


def test_detail_lists_the_references_and_suppression_hides_small_counts(api: Api) -> None:
    api.journeys(SEED, THEMES)
    assert api.detail(2020) == {
        "notifications.total": RAPID,
        "notifications.on_time": RAPID,
        "notifications.not_notified_decisions": ["NN20-10"],
        "rapid_reviews.submitted": RAPID,
        "rapid_reviews.on_time": RAPID,
        "rapid_reviews.recommendations.lcspr": LCSPRS,
        "rapid_reviews.recommendations.learning_review": LEARNING,
        "rapid_reviews.recommendations.no_further_review": NO_FURTHER,
        "rapid_reviews.panel_outcomes.agreed": RAPID,
        "lcsprs.commissioned": LCSPRS,
        "lcsprs.published": ["RR20-01"],
        "lcsprs.published_on_time": ["RR20-01"],
        "lcsprs.paused_now": ["RR20-02"],
        "learning_reviews.started": ["NN20-10", *LEARNING],
        "learning_reviews.completed": ["RR20-04", "RR20-05"],
        "themes.domestic_abuse": ["RR20-01", "RR20-05", "RR20-09"],
        "themes.mental_health": ["RR20-02", "RR20-05"],
        "themes.neglect": ["RR20-01", "RR20-02", "RR20-04", "RR20-06", "RR20-08"],
        "themes.online_harm": ["RR20-07"],
        "themes.physical_abuse": ["RR20-03", "RR20-08"],
    }

    plain, hidden = flat(api.report(2020)), api.report(2020, suppress_below=3)
    assert (hidden["suppress_below"], hidden["detail"]) == (3, None)
    # Only the ones and twos change; 0, 3, 4, 5 and 9 stay numbers.
    changed = {name: (plain[name], n) for name, n in flat(hidden).items() if n != plain[name]}
    assert changed == {
        "notifications.not_notified_decisions": (1, "c"),
        "rapid_reviews.recommendations.no_further_review": (2, "c"),
        "lcsprs.published": (1, "c"),
        "lcsprs.published_on_time": (1, "c"),
        "lcsprs.paused_now": (1, "c"),
        "learning_reviews.completed": (2, "c"),
    }
    small = dict.fromkeys(["mental_health", "online_harm", "physical_abuse"], "c")
    assert hidden["themes"] == {"domestic_abuse": 3, "neglect": 5, **small}

    response = api.get(2020, CSV, suppress_below=3)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="wessex-2020-21.csv"'
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == ["figure", "count"]
    # The JSON's values, in the FIGURES table's order, then the themes'.
    expected = [*flat(hidden).values(), *hidden["themes"].values()]
    assert [count for _, count in rows][: len(expected)] == [str(value) for value in expected]
    labels = [label for label, _ in rows]
    assert labels[0] == "Notifications: Panel notifications made in the year"
    for label, figure in zip(labels, FIGURES, strict=False):
        assert label.endswith(f": {figure.counts}"), (label, figure.name)
    assert len(set(labels)) == len(labels)  # each row says what it counts
    themes = [f"Themes of the cases notified in the year: {theme}" for theme in hidden["themes"]]
    assert labels[len(FIGURES) : len(FIGURES) + len(themes)] == themes
    # Then the actions' and contributions' figures (tests/test_reports_work.py).
    assert {label.split(":")[0] for label in labels[len(FIGURES) + len(themes) :]} == {
        "Actions",
        "Contributions",
    }
    far = api.get(2099, CSV).headers["content-disposition"]
    assert far == 'attachment; filename="wessex-2099-00.csv"'


def test_access_and_bad_requests(
    api: Api, make_key: Callable[..., str], auth: Callable[[str], Headers]
) -> None:
    body = {"code": "kingsmere", "name": "Kingsmere SCP"}
    assert api.client.post("/partnerships", json=body, headers=api.admin).status_code == 201
    api.journeys({"RR20-03": SEED["RR20-03"]}, THEMES)
    own = auth(make_key(role="viewer", partnerships=["wessex"]))
    away = auth(make_key(role="viewer", partnerships=["kingsmere"]))

    assert api.get(2020, own).json()["notifications"]["total"] == 1
    assert api.get(2020, away, partnership="kingsmere").json()["notifications"]["total"] == 0
    problem = assert_problem(api.get(2020, away), 404)
    assert "RR20-03" not in str(problem)
    assert_problem(api.get(2020, own, partnership="nowhere"), 404)  # as if out of scope
    assert_problem(api.get(2020, partnership="nowhere"), 404)  # an admin's key
    assert api.client.get(URL, params={"partnership": "wessex", "year": 2020}).status_code == 401
    assert_problem(api.get(1999), 422, "query.year")
    assert_problem(api.get(2020, suppress_below=1), 422, "query.suppress_below")
