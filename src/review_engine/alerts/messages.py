"""What a receiver is told, whatever the channel: one alert, a daily digest of everything
due soon or overdue, or a fallback notice that a delivery failed. Each has a title, one or
more sections of facts with a link, and a JSON body for webhooks; the Teams card
(`teams.py`) and the email (`mail.py`) are drawn from the same title and sections.

Every message says what is due and where to look, never who: no child's name, date of
birth, address or narrative, only the partnership, the case's own reference, the clock and
dates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

__all__ = ["AlertMessage", "DigestMessage", "FallbackMessage", "Message", "Section"]

_TITLES = {
    "due_soon": "Due soon",
    "due_today": "Due today",
    "overdue": "Overdue",
    "overdue_reminder": "Still overdue",
}


@dataclass(frozen=True)
class Section:
    """One block of a card or an email: an optional heading, facts, and a link."""

    heading: str | None
    facts: list[tuple[str, str]]
    link: str


class Message(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def subject_line(self) -> str: ...

    def sections(self) -> list[Section]: ...

    def body(self, sent_at: datetime) -> str: ...


def _dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


@dataclass(frozen=True)
class AlertMessage:
    """What a receiver is told about one alert."""

    alert_id: str | None  # None in a digest entry whose rung was skipped
    rung: str
    sequence: int
    partnership: str
    subject: str  # case | action | contribution
    subject_id: str
    case_reference: str | None
    clock: str
    due_on: date
    working_days_overdue: int
    link: str

    @property
    def title(self) -> str:
        """What a person reads first, e.g. "Overdue: rapid review"."""
        return f"{_TITLES[self.rung]}: {self.clock.replace('_', ' ')}"

    @property
    def subject_line(self) -> str:
        reference = f" ({self.case_reference})" if self.case_reference else ""
        return f"[{self.partnership}] {self.title}{reference}"

    def facts(self) -> list[tuple[str, str]]:
        """The facts a card or an email lists, in order (never who: see the module)."""
        facts = [
            ("Partnership", self.partnership),
            ("Case", self.case_reference or "-"),
            ("Deadline", self.clock.replace("_", " ")),
            ("Due", self.due_on.strftime("%a %d %b %Y")),
        ]
        if self.working_days_overdue:
            facts.append(("Overdue by", self.overdue_by))
        return facts

    def sections(self) -> list[Section]:
        return [Section(heading=None, facts=self.facts(), link=self.link)]

    @property
    def overdue_by(self) -> str:
        """How late it is, in words: "1 working day", "3 working days"."""
        days = self.working_days_overdue
        return f"{days} working day{'' if days == 1 else 's'}"

    def data(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "rung": self.rung,
            "reminder": self.sequence or None,
            "partnership": self.partnership,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "case_reference": self.case_reference,
            "clock": self.clock,
            "due_on": self.due_on.isoformat(),
            "working_days_overdue": self.working_days_overdue,
            "link": self.link,
        }

    def body(self, sent_at: datetime) -> str:
        event = {"type": f"alert.{self.rung}", "timestamp": sent_at.isoformat()}
        return _dumps({**event, "data": self.data()})


@dataclass(frozen=True)
class DigestMessage:
    """A day's digest: every deadline of the subscription's partnerships that is due soon,
    due today or overdue as it is sent, most overdue first. Each entry is the alert of the
    furthest rung its deadline has reached (alert_id null when that rung was skipped)."""

    digest_on: date
    partnerships: tuple[str, ...]
    entries: tuple[AlertMessage, ...]

    @property
    def title(self) -> str:
        count = len(self.entries)
        overdue = sum(1 for entry in self.entries if entry.working_days_overdue)
        return (
            f"Daily digest for {self.digest_on.strftime('%a %d %b %Y')}: "
            f"{count} deadline{'' if count == 1 else 's'} due soon or overdue, {overdue} overdue"
        )

    @property
    def subject_line(self) -> str:
        return f"[{', '.join(self.partnerships)}] {self.title}"

    def sections(self) -> list[Section]:
        return [
            Section(heading=entry.title, facts=entry.facts(), link=entry.link)
            for entry in self.entries
        ]

    def body(self, sent_at: datetime) -> str:
        return _dumps(
            {
                "type": "alert.digest",
                "timestamp": sent_at.isoformat(),
                "data": {
                    "digest_on": self.digest_on.isoformat(),
                    "partnerships": list(self.partnerships),
                    "entries": [entry.data() for entry in self.entries],
                },
            }
        )


@dataclass(frozen=True)
class FallbackMessage:
    """To a partnership's fallback address: a delivery failed for good (its retries ran out,
    or the target answered 410 Gone), and what it was to say."""

    failed_delivery_id: str
    channel: str
    target_host: str  # never the URL's path or query: they may hold a token
    attempts: int
    last_error: str
    partnership: str
    original: AlertMessage | DigestMessage

    @property
    def title(self) -> str:
        return f"Not delivered: {self.original.title}"

    @property
    def subject_line(self) -> str:
        return f"[{self.partnership}] Alert not delivered to {self.channel} {self.target_host}"

    def sections(self) -> list[Section]:
        failure = Section(
            heading="What failed",
            facts=[
                ("Channel", self.channel),
                ("Target", self.target_host),
                ("Attempts", str(self.attempts)),
                ("Last error", self.last_error),
                ("Delivery", self.failed_delivery_id),
            ],
            link="",
        )
        return [failure, *self.original.sections()]

    def body(self, sent_at: datetime) -> str:
        return self.original.body(sent_at)  # a fallback is an email: never posted
