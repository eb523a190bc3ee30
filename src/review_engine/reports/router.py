"""`GET /reports/annual`: a partnership's yearly figures on case reviews (viewers and above,
scoped like cases), as JSON or, with `Accept: text/csv`, as a table. Thin: parse, call the
service, shape the answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from review_engine.auth.dependencies import ViewerDep
from review_engine.cases.representation import AsOf
from review_engine.db import SessionDep
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.negotiation import prefers_csv
from review_engine.partnerships.models import CODE_PATTERN
from review_engine.reports.annual import reporting_year
from review_engine.reports.export import annual_csv
from review_engine.reports.schemas import AnnualReport
from review_engine.reports.service import annual_report, nest, suppressed

router = APIRouter(prefix="/reports", tags=["reports"], responses=problem_responses(401, 422))

CSV_MEDIA_TYPE = "text/csv"


@router.get(
    "/annual",
    response_model=AnnualReport,
    summary="A partnership's figures for one reporting year (1 April to 31 March), JSON or CSV",
    description=(
        "Counts notifications, rapid reviews (on time, late, waived; recommendations; the "
        "Panel's responses), LCSPRs, local learning reviews and national reviews dated in "
        "the year, and the themes of the cases notified in it, with every case replayed as "
        "of `as_of` (default today). `detail=true` lists the case references behind each "
        'figure. `suppress_below=N` shows counts from 1 to N-1 as "c", for publication. '
        "With `Accept: text/csv`, the figures as a two-column table."
    ),
    responses={
        200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **problem_responses(404),
    },
)
def annual(
    principal: ViewerDep,
    session: SessionDep,
    context: ClockContextDep,
    partnership: Annotated[str, Query(pattern=CODE_PATTERN, description="Partnership code")],
    year: Annotated[
        int,
        Query(ge=2000, le=2099, description="The year the reporting year starts: 2020 is 2020/21."),
    ],
    as_of: AsOf = None,
    detail: Annotated[
        bool, Query(description="List the case references behind each figure.")
    ] = False,
    suppress_below: Annotated[
        int | None, Query(ge=2, le=100, description='Show counts from 1 to this minus 1 as "c".')
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    period = reporting_year(year)
    day: date = as_of or context.today
    report = annual_report(
        session=session,
        principal=principal,
        code=partnership,
        period=period,
        as_of=day,
        context=context,
    )
    figures = {name: suppressed(refs, suppress_below) for name, refs in report.figures.items()}
    themes = {name: suppressed(refs, suppress_below) for name, refs in report.themes.items()}
    if prefers_csv(accept):
        return Response(
            annual_csv(figures, themes),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{report.partnership}-{year}-{(year + 1) % 100:02d}.csv"'
                )
            },
        )
    traced = None
    if detail:
        traced = dict(report.figures) | {
            f"themes.{name}": refs for name, refs in report.themes.items()
        }
    body = AnnualReport.model_validate(
        {
            "period": {"from": period.start, "to": period.end},
            "partnership": report.partnership,
            "as_of": day,
            "suppress_below": suppress_below,
            **nest(figures),
            "themes": themes,
            "detail": traced,
        }
    )
    return JSONResponse(body.model_dump(mode="json", by_alias=True))
