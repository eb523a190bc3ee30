"""The yearly report's shape. Each count is a number, or "c" where `suppress_below` hides a
small one (the statistical convention for small cells in published tables). The figure
models are the FIGURES table (`annual.py`) nested by group: a figure missing here fails
every report (`extra="forbid"`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AnnualReport", "Count"]

Count = int | Literal["c"]
_FIGURES = ConfigDict(extra="forbid")


class NotificationFigures(BaseModel):
    model_config = _FIGURES
    total: Count
    on_time: Count
    late: Count
    waived: Count
    not_notified_decisions: Count


class RecommendationFigures(BaseModel):
    model_config = _FIGURES
    lcspr: Count
    learning_review: Count
    no_further_review: Count
    national_review: Count


class PanelOutcomeFigures(BaseModel):
    model_config = _FIGURES
    agreed: Count
    national_review: Count
    challenged: Count


class RapidReviewFigures(BaseModel):
    model_config = _FIGURES
    submitted: Count
    on_time: Count
    late: Count
    waived: Count
    recommendations: RecommendationFigures
    panel_outcomes: PanelOutcomeFigures


class LcsprFigures(BaseModel):
    model_config = _FIGURES
    commissioned: Count
    published: Count
    published_on_time: Count
    withheld: Count
    paused_now: Count


class LearningReviewFigures(BaseModel):
    model_config = _FIGURES
    started: Count
    completed: Count


class NationalReviewFigures(BaseModel):
    model_config = _FIGURES
    taken: Count
    completed: Count


class LeadAgencyActionFigures(BaseModel):
    model_config = _FIGURES
    open: Count
    overdue: Count
    completed: Count
    assured: Count
    cancelled: Count
    slipped: Count
    slipped_days: Count = Field(
        description='Days the slipped actions\' due dates moved, in total; "c" with `slipped`.'
    )


class ActionFigures(LeadAgencyActionFigures):
    by_lead_agency: dict[str, LeadAgencyActionFigures] = Field(
        description="The same figures for each lead agency's actions, by the agency's name."
    )


class ContributionFigures(BaseModel):
    model_config = _FIGURES
    requested: Count
    returned_on_time: Count
    returned_late: Count
    not_coming: Count
    outstanding: Count


class ReportPeriod(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="1 April of the year.")
    to: date = Field(description="31 March of the next year.")


class AnnualReport(BaseModel):
    """A partnership's figures for one reporting year, as the data stood on `as_of`."""

    model_config = ConfigDict(extra="forbid")

    period: ReportPeriod
    partnership: str
    as_of: date = Field(description="The day the data is replayed as of.")
    suppress_below: int | None = Field(description='Counts from 1 below this are "c".')
    notifications: NotificationFigures
    rapid_reviews: RapidReviewFigures
    lcsprs: LcsprFigures
    learning_reviews: LearningReviewFigures
    national_reviews: NationalReviewFigures
    actions: ActionFigures = Field(
        description=(
            "Actions live in the year (recorded by its end, not assured or cancelled before "
            "it began), as each stood at the year's end or on `as_of` if earlier."
        )
    )
    contributions: ContributionFigures = Field(
        description="Agency contributions requested in the year, as each stood on `as_of`."
    )
    themes: dict[str, Count] = Field(
        description="Cases notified in the year, by theme (a case counts once per theme)."
    )
    detail: dict[str, list[str]] | None = Field(
        description=(
            "With `detail=true`: for each figure (`group.figure`, `themes.<theme>`), the "
            "references of the cases it counts; for actions (`actions.<figure>`, "
            "`actions.by_lead_agency.<agency>.<figure>`), the actions' ids. Internal: never "
            "for publication."
        )
    )
