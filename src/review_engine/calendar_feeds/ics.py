"""Running deadlines as an iCalendar document (RFC 5545), written with `icalendar`: one
all-day event per deadline, named by the case's reference and the clock, with a link to
the case in the API. Never a child's name or the case narrative: nothing else is read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

__all__ = ["DeadlineEntry", "calendar_document"]


@dataclass(frozen=True)
class DeadlineEntry:
    uid: str  # stable across reads, so a calendar updates an event rather than adding one
    partnership: str
    case_reference: str | None
    what: str  # the clock, e.g. "rapid review", "action due"
    due_on: date
    link: str


def calendar_document(entries: Iterable[DeadlineEntry], *, name: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//review-engine//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.due_on)
        event.add("dtend", entry.due_on + timedelta(days=1))
        reference = entry.case_reference or "no case"
        due = "" if entry.what.endswith(" due") else " due"  # "action due", not "… due due"
        event.add("summary", f"[{entry.partnership}] {reference}: {entry.what}{due}")
        event.add("description", f"Due {entry.due_on:%a %d %b %Y}. {entry.link}")
        event.add("url", entry.link)
        event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: shows as free
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document
