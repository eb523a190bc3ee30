"""The base of every workflow event's payload, and what the payload modules share.

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads). Holds `EventPayload` (with
its `problems` check: the second of the two steps described in `review_engine.workflow.events`),
the `FieldError` it reports, the annotated field types (`Reason`, `PublicTitle`, `PublicUrl`)
and the `_on_or_after` date check shared by `review_engine.workflow.events` and
`review_engine.workflow.publication`. It imports neither of them, so both can import
it; `review_engine.workflow.events` re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from review_engine.calendar import Calendar, default_calendar
from review_engine.field_error import FieldError
from review_engine.text import NoNul, Reason
from review_engine.timeline import CaseTimeline, IncidentFacts

__all__ = [
    "EventPayload",
    "FieldError",
    "PublicTitle",
    "PublicUrl",
    "Reason",
]


def _http_url(value: str) -> str:
    # Validate with pydantic's URL rules but keep the caller's text: HttpUrl would
    # normalise it (e.g. add a trailing slash), and the published address is quoted as given.
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("must be an http:// or https:// URL") from None
    return value


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)

PublicTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NoNul
]
PublicUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    NoNul,
    AfterValidator(_http_url),
    Field(json_schema_extra={"format": "uri"}),
]


def _on_or_after(
    field: str, value: date | None, earliest: date | None, what: str
) -> FieldError | None:
    """A problem when `value` is before `earliest` (either unknown means nothing to check)."""
    if value is None or earliest is None or value >= earliest:
        return None
    return FieldError(
        field, f"must be on or after {what} ({earliest.isoformat()}); got {value.isoformat()}"
    )


class EventPayload(BaseModel):
    """Base of every event's payload: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    def problems(
        self,
        timeline: CaseTimeline,
        calendar: Calendar | None = None,
        incident: IncidentFacts | None = None,
    ) -> list[FieldError]:
        """Every cross-field and timeline problem, at most one per field, in field order.

        `incident` is what the case records about the incident (None: not known).
        """
        calendar = calendar or default_calendar()
        found: list[FieldError] = []
        for name, value in self:
            # Nothing about a case can happen before the local authority knew of it.
            if isinstance(value, date):
                problem = _on_or_after(
                    name, value, timeline.aware_on, "the date the local authority became aware"
                )
                if problem is not None:
                    found.append(problem)
        found.extend(problem for problem in self._check(timeline, calendar) if problem is not None)
        found.extend(problem for problem in self._check_incident(incident) if problem is not None)
        first_per_field: dict[str, FieldError] = {}
        for problem in found:
            first_per_field.setdefault(problem.field, problem)
        return list(first_per_field.values())

    def _check(self, timeline: CaseTimeline, calendar: Calendar) -> Iterator[FieldError | None]:
        """The event's own rules; `None` entries mean "this one passed"."""
        return iter(())

    def _check_incident(self, incident: IncidentFacts | None) -> Iterator[FieldError | None]:
        """Rules on what the case records about the incident (its type, looked-after status)."""
        return iter(())
