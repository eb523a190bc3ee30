"""Regressions of GET /reports/annual (`reports/annual.py`), each failing on the code it fixed:

(a) `lcsprs.published` counted any publication whose case, replayed as of the report's day,
    had no completion recorded yet: a local learning review (or a national review) published
    before it was recorded complete counted as an LCSPR published until the completion date.
(b) `lcsprs.paused_now` read `timeline.is_paused`: an LCSPR paused and then taken by the
    Panel as a national review (the pause never resumed) stayed "paused" for good.
(c) `rapid_reviews.recommendations` read the timeline's recommendation, which a
    resubmission overwrites.

Through the HTTP API with today pinned (tests/test_reports_annual.py's helpers); every date
is worked by hand in England and Wales working days. 2021 has no bank holiday in February or
March (Good Friday is 2 April).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from review_engine import deadline_context
from tests.test_reports_annual import (
    BOUNDARY,
    TODAY,
    Api,
    Case,
    Headers,
    Json,
    Step,
    notify,
    panel,
    pause,
    rapid,
    submit,
)

# Aware Mon 1 Mar 2021, notified Wed 3 Mar (due Mon 8 Mar: 2, 3, 4, 5, 8 Mar). Rapid review
# due 15 working days after the notification: 4, 5, 8-12, 15-19, 22, 23, 24 Mar, so Wed
# 24 Mar; sent Tue 23 Mar. The Panel answers Wed 14 Apr 2021 (the route is decided then).
AWARE, NOTIFIED, SENT, ANSWERED = "2021-03-01", "2021-03-03", "2021-03-23", "2021-04-14"


def published(completed: str, on: str, title: str) -> Json:
    """A completion carrying its publication, published on `on`."""
    url = f"https://www.wessex-scp.example/reviews/{title.lower().replace(' ', '-')}"
    return {"completed_on": completed, "published_on": on, "url": url, "title": title}


def learning(done: Json) -> Step:
    return ("complete_learning_review", done)


# Published Wed 1 Sep 2021, recorded complete Fri 1 Oct 2021: published first.
LEARNT = published("2021-10-01", "2021-09-01", "Child R")
# fmt: off
CASES: dict[str, Case] = {
    # The Panel agreed a local learning review; completed and published as above.
    "LR-PUB": (AWARE, [notify(NOTIFIED), submit(SENT, "learning_review"), panel(ANSWERED),
                       learning(LEARNT)]),
    # Not notified (Wed 3 Mar); a local learning review started Mon 8 Mar, as above.
    "NN-PUB": (AWARE, [
        ("decide_not_to_notify", {"decided_on": NOTIFIED, "reason": "criteria not met"}),
        ("start_learning_review", {"started_on": "2021-03-08"}),
        learning({**LEARNT, "title": "Child Q"})]),
    # The Panel took a national review on Wed 14 Apr; published Fri 1 Oct 2021, recorded
    # complete Mon 1 Nov 2021.
    "NR-PUB": (AWARE, [notify(NOTIFIED), submit(SENT, "national_review"),
                       panel(ANSWERED, "national_review"),
                       ("complete_national_review", published("2021-11-01", "2021-10-01",
                                                              "Child S"))]),
    # An LCSPR published Mon 16 Aug 2021 (tests/test_reports_annual.py): the one that counts.
    "B-LCSPR": BOUNDARY["B-LCSPR"],
}
# Paused and escalated. Aware Mon 1 Feb 2021, notified Wed 3 Feb (due Mon 8 Feb), sent Tue
# 23 Feb (due 15 working days after Wed 3 Feb: 4, 5, 8-12, 15-19, 22, 23, 24 Feb, so Wed
# 24 Feb). The Panel agreed the LCSPR on Mon 1 Mar 2021 (decided then, in 2020/21): due Wed
# 1 Sep 2021. Paused Tue 4 May 2021, never resumed; the Panel took a national review on Tue
# 1 Jun 2021 (the LCSPR's clock stops); the national review was published Mon 25 Oct and
# recorded complete Mon 1 Nov 2021.
ESCALATED: dict[str, Case] = {
    "ESC": rapid("2021-02-01", "2021-02-03", "2021-02-23", "lcspr", "2021-03-01",
                 pause("2021-05-04"),
                 ("escalate_to_national_review", {"decided_on": "2021-06-01"}),
                 ("complete_national_review", published("2021-11-01", "2021-10-25", "Child E"))),
}
# fmt: on
# Aware Mon 1 Feb 2021, notified Wed 3 Feb; sent Tue 23 Feb recommending an LCSPR (the
# fifteenth working day after the notification is Wed 24 Feb); challenged Thu 25 Mar; sent
# again Mon 12 Apr recommending a local learning review, which the Panel agreed Mon 26 Apr.
RESUBMITTED: dict[str, Case] = {
    "REC": (
        "2021-02-01",
        [
            notify("2021-02-03"),
            submit("2021-02-23", "lcspr"),
            panel("2021-03-25", "challenged"),
            submit("2021-04-12", "learning_review"),
            panel("2021-04-26"),
        ],
    ),
}  # fmt: skip
THEMES = {reference: ["neglect"] for reference in [*CASES, *ESCALATED, *RESUBMITTED]}


@pytest.fixture
def api(client: TestClient, wessex_admin: Headers, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(deadline_context, "today_in", lambda timezone: TODAY)
    return Api(client, wessex_admin)


def counted(api: Api, year: int, as_of: str, *figures: str) -> dict[str, list[str]]:
    """The references each of `figures` counts in `year`'s report as of `as_of`."""
    detail = api.detail(year, as_of=as_of)
    return {figure: detail.get(figure, []) for figure in figures}


def test_a_review_published_before_it_is_recorded_complete_is_no_lcspr_published(
    api: Api,
) -> None:
    api.journeys(CASES, THEMES)
    published_figures = ("lcsprs.published", "lcsprs.published_on_time")
    # Between publication (1 Sep) and completion (1 Oct): the old code, seeing no completion
    # in the replay, took both learning reviews for LCSPRs.
    for as_of in ("2021-09-01", "2021-09-15", "2021-09-30"):
        assert counted(api, 2021, as_of, *published_figures) == {
            "lcsprs.published": ["B-LCSPR"],
            "lcsprs.published_on_time": [],  # B-LCSPR a day late
        }, as_of
    assert counted(api, 2021, "2021-09-15", "learning_reviews.completed") == {
        "learning_reviews.completed": []
    }
    # The national review between its publication (1 Oct) and completion (1 Nov) likewise.
    for as_of in ("2021-10-01", "2021-10-15", "2021-10-31"):
        assert counted(api, 2021, as_of, "lcsprs.published", "national_reviews.completed") == {
            "lcsprs.published": ["B-LCSPR"],
            "national_reviews.completed": [],
        }, as_of
    # Once all are complete, each counts where it belongs, and still not as an LCSPR.
    assert counted(
        api,
        2021,
        TODAY.isoformat(),
        "lcsprs.published",
        "lcsprs.commissioned",
        "learning_reviews.completed",
        "national_reviews.taken",
        "national_reviews.completed",
    ) == {
        "lcsprs.published": ["B-LCSPR"],
        "lcsprs.commissioned": [],  # B-LCSPR was decided in 2020/21
        "learning_reviews.completed": ["LR-PUB", "NN-PUB"],
        "national_reviews.taken": ["NR-PUB"],
        "national_reviews.completed": ["NR-PUB"],
    }
    report = api.report(2021, as_of="2021-09-15")
    assert report["lcsprs"]["published"] == 1


def test_an_lcspr_paused_then_escalated_is_paused_only_until_the_escalation(api: Api) -> None:
    api.journeys(ESCALATED, THEMES)
    figures = ("lcsprs.paused_now", "national_reviews.taken", "lcsprs.published")
    expected = [
        # (as of, paused now, taken by the Panel in 2021/22)
        ("2021-05-03", [], []),  # the day before the pause
        ("2021-05-04", ["ESC"], []),
        ("2021-05-20", ["ESC"], []),
        ("2021-05-31", ["ESC"], []),  # the end of the day before the escalation
        ("2021-06-01", [], ["ESC"]),  # the old code still said paused from here on
        ("2021-07-01", [], ["ESC"]),
        ("2021-10-28", [], ["ESC"]),  # published, not yet recorded complete
        ("2021-11-01", [], ["ESC"]),
        (TODAY.isoformat(), [], ["ESC"]),
    ]
    for as_of, paused, taken in expected:
        assert counted(api, 2021, as_of, *figures) == {
            "lcsprs.paused_now": paused,
            "national_reviews.taken": taken,
            "lcsprs.published": [],  # a national review's publication, never an LCSPR's
        }, as_of
    # The report of 2020/21 (when the LCSPR was decided) answers the same for its day.
    for as_of, paused in (("2021-05-20", ["ESC"]), ("2021-06-01", [])):
        assert counted(api, 2020, as_of, "lcsprs.paused_now", "lcsprs.commissioned") == {
            "lcsprs.paused_now": paused,
            "lcsprs.commissioned": ["ESC"],
        }, as_of
    assert api.report(2021, as_of="2021-05-20")["lcsprs"]["paused_now"] == 1
    assert api.report(2021)["lcsprs"]["paused_now"] == 0


def test_a_first_submission_counts_what_it_recommended_not_what_a_resubmission_did(
    api: Api,
) -> None:
    """(c) The timeline keeps only the latest recommendation: a resubmission recommending
    another route used to change what 2020/21's first submission was counted as."""
    api.journeys(RESUBMITTED, THEMES)
    figures = (
        "rapid_reviews.submitted",
        "rapid_reviews.recommendations.lcspr",
        "rapid_reviews.recommendations.learning_review",
    )
    for as_of in ("2021-03-31", "2021-04-30", TODAY.isoformat()):
        assert counted(api, 2020, as_of, *figures) == {
            "rapid_reviews.submitted": ["REC"],
            "rapid_reviews.recommendations.lcspr": ["REC"],
            "rapid_reviews.recommendations.learning_review": [],
        }, as_of
    # The resubmission in 2021/22 is not a first submission: nothing to count there.
    assert counted(api, 2021, TODAY.isoformat(), *figures) == dict.fromkeys(figures, [])
