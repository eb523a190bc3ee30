"""The action plan as CSV (`GET /actions` with `Accept: text/csv`), for a board meeting.

Cells a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, tab or carriage
return) are prefixed with `'`, as OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from review_engine.actions.models import Recommendation
from review_engine.actions.views import ActionView, action_read
from review_engine.cases.models import Case

CSV_MEDIA_TYPE = "text/csv"

COLUMNS = (
    "partnership",
    "case_reference",
    "recommendation_number",
    "recommendation_source",
    "recommendation",
    "action_id",
    "action",
    "lead_agency",
    "owner",
    "status",
    "rating",
    "due_on",
    "original_due_on",
    "slipped_days",
    "due_on_changes",
    "overdue",
    "completed_on",
    "evidence_of_completion",
    "assured_on",
    "assured_by",
    "evidence_of_impact",
    "cancelled_on",
    "cancellation_reason",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)  # a number, never a formula (slipped_days may be negative)
    text = value.isoformat() if isinstance(value, date) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def actions_csv(*, session: Session, views: Sequence[ActionView], as_of: date) -> str:
    """The actions as CSV, one row each, with their recommendation and case reference."""
    recommendations = {
        r.id: r
        for r in session.exec(
            select(Recommendation).where(
                col(Recommendation.id).in_({v.action.recommendation_id for v in views})
            )
        )
    }
    references: dict[uuid.UUID, str] = dict(
        session.exec(
            select(Case.id, Case.reference).where(
                col(Case.id).in_({v.action.case_id for v in views if v.action.case_id})
            )
        ).all()
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for view in views:
        read = action_read(view, as_of)
        recommendation = recommendations[read.recommendation_id]
        row = {
            **read.model_dump(),
            "case_reference": references.get(read.case_id) if read.case_id else None,
            "recommendation_number": recommendation.number,
            "recommendation_source": recommendation.source,
            "recommendation": recommendation.text,
            "action_id": read.id,
            "action": read.description,
        }
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return out.getvalue()
