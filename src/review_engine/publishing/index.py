"""Keeps `published_review` in step with each case: called in the transaction of every
change to a case (`cases.changes.stage_change`) and by `db refresh-deadlines`. It copies
only the public facts of a publication out of the case, nothing else."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from review_engine.cases.models import Case
from review_engine.db import utcnow
from review_engine.publishing.models import PublishedReview
from review_engine.timeline import CaseTimeline

__all__ = ["store_publication"]


def _public_facts(case: Case, timeline: CaseTimeline) -> dict[str, Any] | None:
    if (
        timeline.published_on is None
        or timeline.publication_url is None
        or timeline.publication_title is None
    ):
        return None
    return {
        "partnership_id": case.partnership_id,
        "listed": timeline.archived_on is None,
        "review_type": timeline.published_review_type,
        "title": timeline.publication_title,
        "report_url": timeline.publication_url,
        "learning_summary_url": timeline.learning_summary_url,
        "publication_mode": timeline.publication_mode or "full",
        "published_on": timeline.published_on,
        "themes": list(case.themes),
        "archived_on": timeline.archived_on,
    }


def store_publication(
    *, session: Session, case: Case, timeline: CaseTimeline | None = None
) -> None:
    """Writes the case's row when what the public may see of it changed (in the caller's
    transaction). A review no longer published is unlisted, not deleted. `timeline` is the
    case's, already read (read from the case otherwise)."""
    timeline = timeline or CaseTimeline.model_validate(case.timeline)
    facts = _public_facts(case, timeline)
    row = session.get(PublishedReview, case.id)
    if facts is None:
        if row is not None and row.listed:
            row.listed, row.updated_at = False, utcnow()
            session.add(row)
        return
    if row is None:
        session.add(PublishedReview(case_id=case.id, updated_at=utcnow(), **facts))
        return
    if any(getattr(row, name) != value for name, value in facts.items()):
        row.sqlmodel_update({**facts, "updated_at": utcnow()})
        session.add(row)
