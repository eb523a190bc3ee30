"""Archiving a published review: it comes off the public feed, no earlier than its
`keep_published_until` date (a year after publication: docs/statutory-basis.md#keep-published).
The case keeps everything else; the archive is dated in its timeline and its history."""

from __future__ import annotations

import uuid

from sqlmodel import Session
from starlette.responses import Response

from review_engine.cases import deadlines as stored_deadlines
from review_engine.cases.changes import ChangeRequest, open_for_change, save_change
from review_engine.errors import ArchiveTooEarly, ChangeNotAllowed, FieldError, UnprocessableContent
from review_engine.publishing.schemas import ArchivePublication

__all__ = ["archive_publication"]

KEEP_PUBLISHED = "keep_published_until"


def archive_publication(
    *, session: Session, change: ChangeRequest, case_id: uuid.UUID, archive: ArchivePublication
) -> Response:
    view = open_for_change(session=session, change=change, case_id=case_id)
    timeline = view.timeline
    if timeline.published_on is None:
        raise ChangeNotAllowed("The case has no published review to archive.")
    if timeline.archived_on is not None:
        raise ChangeNotAllowed(
            f"The review was archived on {timeline.archived_on.isoformat()} already."
        )
    today = change.context.today
    for problem in (
        f"cannot be after today ({today.isoformat()})" if archive.archived_on > today else None,
        (
            f"must be on or after publication ({timeline.published_on.isoformat()})"
            if archive.archived_on < timeline.published_on
            else None
        ),
    ):
        if problem is not None:
            raise UnprocessableContent(
                "Invalid archive date.",
                errors=[FieldError(field="body.archived_on", message=problem)],
            )
    deadlines = stored_deadlines.evaluate(timeline, context=change.context, as_of=today)
    keep = next(d.due_on for d in deadlines if d.name == KEEP_PUBLISHED)
    if archive.archived_on < keep:
        raise ArchiveTooEarly(
            f"A published review stays on the website until {keep.isoformat()} "
            "(a year after publication); archive it on or after that date.",
            keep_published_until=keep.isoformat(),
        )
    view.case.timeline = timeline.model_copy(
        update={"archived_on": archive.archived_on}
    ).model_dump(mode="json")
    return save_change(
        session=session,
        change=change,
        view=view,
        action="publication_archived",
        details={"archived_on": archive.archived_on.isoformat()},
        moves_deadlines=False,
    )
