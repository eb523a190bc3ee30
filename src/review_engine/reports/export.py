"""The yearly report as a two-column CSV table (what was counted, and the count) that a
business manager can paste into the partnership's report. Written with the standard
library's `csv`, which quotes as spreadsheets expect."""

from __future__ import annotations

import csv
import io

from review_engine.reports.annual import FIGURES
from review_engine.reports.schemas import Count

__all__ = ["annual_csv"]

_GROUPS = {
    "notifications": "Notifications",
    "rapid_reviews": "Rapid reviews",
    "lcsprs": "LCSPRs",
    "learning_reviews": "Local learning reviews",
    "national_reviews": "National reviews",
}
_SAYS = {figure.name: figure.counts for figure in FIGURES}


def _label(name: str) -> str:
    group = name.split(".", 1)[0]
    return f"{_GROUPS[group]}: {_SAYS[name]}"


def annual_csv(figures: dict[str, Count], themes: dict[str, Count]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["figure", "count"])
    for name, value in figures.items():
        writer.writerow([_label(name), value])
    for theme, value in themes.items():
        writer.writerow([f"Themes of the cases notified in the year: {theme}", value])
    return out.getvalue()
