"""The yearly report's figures drawn as SVG charts, rendered on the server with matplotlib
(its object API, not pyplot, so renders in several threads do not share a figure).

Each chart is a few panels of labelled horizontal bars read from the report exactly as the
JSON shows it, so a suppressed count ("c") is drawn as no bar with the label "c". Made to
be read without colour: every bar carries its count as text, late and waived bars are
hatched as well as coloured, and the SVG opens with a `<title>` and a `<desc>` that says
every figure in words (`role="img"`, `aria-labelledby`), for screen readers and for a
business manager pasting it into a report.
"""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import matplotlib
from matplotlib.figure import Figure

from review_engine.reports.schemas import AnnualReport, Count

__all__ = ["CHARTS", "ChartName", "chart_svg"]

# Text stays text (<text>, selectable and read aloud), not glyph outlines; ids are stable,
# so the same figures give the same bytes.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["svg.hashsalt"] = "review-engine"

_SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

# matplotlib is not documented as thread-safe, and the server renders in a thread pool: one
# chart at a time (a few tens of milliseconds each).
_RENDERING = threading.Lock()

ChartName = Literal["timeliness", "outcomes", "themes"]
_COLOUR = {"plain": "#1d4f91", "late": "#b35806", "waived": "#6b6b6b"}
_HATCH = {"plain": "", "late": "//", "waived": ".."}


@dataclass(frozen=True)
class Bar:
    label: str
    value: Count
    kind: Literal["plain", "late", "waived"] = "plain"


@dataclass(frozen=True)
class Panel:
    heading: str
    bars: tuple[Bar, ...]


def _timeliness(report: AnnualReport) -> tuple[str, list[Panel]]:
    notifications, rapid, lcsprs = report.notifications, report.rapid_reviews, report.lcsprs
    published, on_time = lcsprs.published, lcsprs.published_on_time
    later: Count = (
        published - on_time
        if isinstance(published, int) and isinstance(on_time, int)
        else "c"  # a difference beside a hidden count could give it away
    )
    return "timeliness against the statutory timescales", [
        Panel(
            "Panel notifications: within 5 working days of awareness",
            (
                Bar("on time", notifications.on_time),
                Bar("late", notifications.late, "late"),
                Bar("timescale waived", notifications.waived, "waived"),
            ),
        ),
        Panel(
            "Rapid reviews: sent to the Panel within 15 working days",
            (
                Bar("on time", rapid.on_time),
                Bar("late", rapid.late, "late"),
                Bar("timescale waived", rapid.waived, "waived"),
            ),
        ),
        Panel(
            "LCSPRs published: within six months of the decision",
            (Bar("on time", on_time), Bar("later", later, "late")),
        ),
    ]


def _outcomes(report: AnnualReport) -> tuple[str, list[Panel]]:
    said, panel = report.rapid_reviews.recommendations, report.rapid_reviews.panel_outcomes
    return "what the rapid reviews recommended and the Panel said", [
        Panel(
            "What the rapid reviews sent in the year recommended",
            (
                Bar("an LCSPR", said.lcspr),
                Bar("a local learning review", said.learning_review),
                Bar("a national review", said.national_review),
                Bar("no further review", said.no_further_review),
            ),
        ),
        Panel(
            "The Panel's responses received in the year",
            (
                Bar("agreed", panel.agreed),
                Bar("challenged", panel.challenged, "late"),
                Bar("national review", panel.national_review),
            ),
        ),
    ]


def _themes(report: AnnualReport) -> tuple[str, list[Panel]]:
    def order(theme: tuple[str, Count]) -> tuple[int, str]:
        name, value = theme
        return (-value if isinstance(value, int) else 0, name)

    themes = sorted(report.themes.items(), key=order)
    bars = tuple(Bar(name.replace("_", " "), value) for name, value in themes)
    return "themes of the cases notified", [Panel("Themes of the cases notified in the year", bars)]


CHARTS: dict[str, Callable[[AnnualReport], tuple[str, list[Panel]]]] = {
    "timeliness": _timeliness,
    "outcomes": _outcomes,
    "themes": _themes,
}
assert set(CHARTS) == set(get_args(ChartName))


def _hidden(below: int) -> str:
    return "a count of 1" if below == 2 else f"a count from 1 to {below - 1}"


def _describe(title: str, panels: list[Panel], report: AnnualReport) -> str:
    said = [
        f"{panel.heading}: "
        + (", ".join(f"{bar.label} {bar.value}" for bar in panel.bars) or "none")
        + "."
        for panel in panels
    ]
    hidden = (
        f' "c" is {_hidden(report.suppress_below)}, not shown.' if report.suppress_below else ""
    )
    return f"{title}. {' '.join(said)} Figures as of {report.as_of.isoformat()}.{hidden}"


def _draw(heading: str, panels: list[Panel], report: AnnualReport) -> str:
    rows = sum(max(len(panel.bars), 1) for panel in panels)
    figure = Figure(figsize=(7.5, 1.2 + 0.38 * rows + 0.55 * len(panels)), layout="constrained")
    figure.suptitle(heading, fontsize=12, fontweight="bold", x=0.01, ha="left")
    grid = figure.add_gridspec(len(panels), 1, height_ratios=[max(len(p.bars), 1) for p in panels])
    top = max([0, *(bar.value for p in panels for bar in p.bars if isinstance(bar.value, int))])
    for row, panel in enumerate(panels):
        axes = figure.add_subplot(grid[row, 0])
        axes.set_title(panel.heading, loc="left", fontsize=10)
        labels = [bar.label for bar in panel.bars]
        drawn = axes.barh(
            labels,
            [bar.value if isinstance(bar.value, int) else 0 for bar in panel.bars],
            color=[_COLOUR[bar.kind] for bar in panel.bars],
            hatch=[_HATCH[bar.kind] for bar in panel.bars],
            edgecolor="white",
        )
        axes.bar_label(drawn, labels=[str(bar.value) for bar in panel.bars], padding=4)
        axes.invert_yaxis()  # first bar on top, as read
        axes.set_xlim(0, max(top, 1) * 1.15)
        axes.xaxis.set_visible(False)
        axes.spines[["top", "right", "bottom"]].set_visible(False)
        if not panel.bars:
            axes.text(0, 0.5, "none", transform=axes.transAxes)
            axes.yaxis.set_visible(False)
    if report.suppress_below:
        note = f"c: {_hidden(report.suppress_below)}, not shown"
        figure.supxlabel(note, fontsize=8, x=0.01, ha="left")
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _drawn(heading: str, panels: list[Panel], report: AnnualReport) -> str:
    with _RENDERING:
        return _draw(heading, panels, report)


def chart_svg(name: ChartName, report: AnnualReport, partnership_name: str) -> str:
    """The chart `name` of the report, an accessible SVG document."""
    subject, panels = CHARTS[name](report)
    start = report.period.from_.year
    said = f"case reviews {start}/{(start + 1) % 100:02d}: {subject}"
    title = f"{partnership_name}, {said}"
    # Two lines on the drawing: a partnership's full name is long.
    svg = ET.fromstring(_drawn(f"{partnership_name}\n{said[0].upper()}{said[1:]}", panels, report))
    svg.set("role", "img")
    svg.set("aria-labelledby", "chart-title chart-desc")
    for position, (tag, text) in enumerate(
        (("title", title), ("desc", _describe(title, panels, report)))
    ):
        element = ET.Element(f"{{{_SVG}}}{tag}", {"id": f"chart-{tag}"})
        element.text = text
        svg.insert(position, element)
    return ET.tostring(svg, encoding="unicode", xml_declaration=True)
