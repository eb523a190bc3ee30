"""`GET /reports/annual`: a partnership's yearly figures on case reviews (viewers and above,
scoped like cases), as JSON or, with `Accept: text/csv`, as a table; and
`GET /reports/annual/charts/{chart}.svg`, the same figures drawn. Thin: parse, call the
service, shape the answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import JSONResponse

from review_engine.auth.dependencies import ViewerDep
from review_engine.cases.representation import AsOf
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.negotiation import prefers_csv
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.reports.annual import reporting_year
from review_engine.reports.charts import ChartName, chart_svg
from review_engine.reports.export import annual_csv
from review_engine.reports.schemas import AnnualReport
from review_engine.reports.service import Report, annual_report
from review_engine.reports.shape import nest, suppressed, work_detail, work_figures

router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 422))

CSV_MEDIA_TYPE = "text/csv"
SVG_MEDIA_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class Asked:
    """What every form of the report is asked for."""

    report: Report
    year: int
    as_of: date
    suppress_below: int | None


def asked(
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    partnership: Annotated[str, Query(pattern=CODE_PATTERN, description="Partnership code")],
    year: Annotated[
        int,
        Query(ge=2000, le=2099, description="The year the reporting year starts: 2020 is 2020/21."),
    ],
    as_of: AsOf = None,
    suppress_below: Annotated[
        int | None, Query(ge=2, le=100, description='Show counts from 1 to this minus 1 as "c".')
    ] = None,
) -> Asked:
    day: date = as_of or context.today
    report = annual_report(
        session=session,
        principal=principal,
        code=partnership,
        period=reporting_year(year),
        as_of=day,
        context=context,
    )
    return Asked(report=report, year=year, as_of=day, suppress_below=suppress_below)


AskedDep = Annotated[Asked, Depends(asked)]


def _shown(asked: Asked, *, detail: bool) -> AnnualReport:
    report, below = asked.report, asked.suppress_below
    period = reporting_year(asked.year)
    traced = None
    if detail:
        traced = (
            dict(report.figures)
            | {f"themes.{name}": refs for name, refs in report.themes.items()}
            | work_detail(report.work)
        )
    return AnnualReport.model_validate(
        {
            "period": {"from": period.start, "to": period.end},
            "partnership": report.partnership,
            "as_of": asked.as_of,
            "suppress_below": below,
            **nest({name: suppressed(refs, below) for name, refs in report.figures.items()}),
            **work_figures(report.work, below),
            "themes": {name: suppressed(refs, below) for name, refs in report.themes.items()},
            "detail": traced,
        }
    )


@router.get(
    "/annual",
    response_model=AnnualReport,
    summary="A partnership's figures for one reporting year (1 April to 31 March), JSON or CSV",
    description=(
        "Counts notifications, rapid reviews (on time, late, waived; recommendations; the "
        "Panel's responses), LCSPRs, local learning reviews and national reviews dated in "
        "the year, the themes of the cases notified in it, the actions live in it and the "
        "agency contributions requested in it, with every case replayed as of `as_of` "
        "(default today). `detail=true` lists the case references (action ids) behind each "
        'figure. `suppress_below=N` shows counts from 1 to N-1 as "c", for publication. '
        "With `Accept: text/csv`, the figures as a two-column table."
    ),
    responses={
        200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **problem_responses(404),
    },
)
def annual(
    asked: AskedDep,
    detail: Annotated[
        bool, Query(description="List the case references behind each figure.")
    ] = False,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    body = _shown(asked, detail=detail and not prefers_csv(accept))
    if prefers_csv(accept):
        figures = body.model_dump(mode="json", by_alias=True)
        year = asked.year
        return Response(
            annual_csv(figures),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{body.partnership}-{year}-{(year + 1) % 100:02d}.csv"'
                )
            },
        )
    return JSONResponse(body.model_dump(mode="json", by_alias=True))


@router.get(
    "/annual/charts/{chart}.svg",
    summary="A chart of a partnership's figures for one reporting year, as SVG",
    description=(
        "`timeliness`: notifications, rapid reviews and LCSPR publications on time, late or "
        "waived. `outcomes`: what the rapid reviews recommended and what the Panel said. "
        "`themes`: the themes of the cases notified in the year. The same figures and "
        "query as `GET /reports/annual` (`suppress_below` draws hidden counts as "
        '"c"). Accessible: a `<title>` and a `<desc>` giving every figure in words, a text '
        "label on every bar, and late or waived bars hatched as well as coloured."
    ),
    response_class=Response,
    responses={
        200: {"content": {SVG_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **problem_responses(404),
    },
)
def chart(chart: ChartName, asked: AskedDep) -> Response:
    body = _shown(asked, detail=False)
    svg = chart_svg(chart, body, asked.report.partnership_name)
    return Response(
        svg,
        media_type=SVG_MEDIA_TYPE,
        # Opened on its own, the drawing may not run or fetch anything.
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )
