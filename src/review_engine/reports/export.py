"""The yearly report as a two-column CSV table (what was counted, and the count) that a
business manager can paste into the partnership's report. Written with the standard
library's `csv`, which quotes as spreadsheets expect."""

from __future__ import annotations

import csv
import io
import operator
from functools import reduce
from typing import Any

from review_engine.reports.annual import FIGURES
from review_engine.reports.work import ACTION_FIGURES, CONTRIBUTION_FIGURES, SLIPPED_DAYS

__all__ = ["annual_csv"]

_GROUPS = {
    "notifications": "Notifications",
    "rapid_reviews": "Rapid reviews",
    "lcsprs": "LCSPRs",
    "learning_reviews": "Local learning reviews",
    "national_reviews": "National reviews",
}
_SAYS = {figure.name: figure.counts for figure in FIGURES}
_ACTIONS_SAY = {figure.name: figure.counts for figure in ACTION_FIGURES} | {
    SLIPPED_DAYS: "days their due dates moved, in total"
}
_CONTRIBUTIONS_SAY = {figure.name: figure.counts for figure in CONTRIBUTION_FIGURES}


def _label(name: str) -> str:
    group = name.split(".", 1)[0]
    return f"{_GROUPS[group]}: {_SAYS[name]}"


def annual_csv(report: dict[str, Any]) -> str:
    """`report` is the JSON's body (`AnnualReport`, dumped): the same values, in rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["figure", "count"])
    for figure in FIGURES:
        value = reduce(operator.getitem, figure.name.split("."), report)
        writer.writerow([_label(figure.name), value])
    for theme, value in report["themes"].items():
        writer.writerow([f"Themes of the cases notified in the year: {theme}", value])
    actions = dict(report["actions"])
    by_lead_agency = actions.pop("by_lead_agency")
    for name, value in actions.items():
        writer.writerow([f"Actions: {_ACTIONS_SAY[name]}", value])
    for agency, shown in by_lead_agency.items():
        for name, value in shown.items():
            writer.writerow([f"Actions led by {agency}: {_ACTIONS_SAY[name]}", value])
    for name, value in report["contributions"].items():
        writer.writerow([f"Contributions: {_CONTRIBUTIONS_SAY[name]}", value])
    return out.getvalue()
