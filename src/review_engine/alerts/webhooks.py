"""A delivery as a Standard Webhooks message: a thin JSON body, the `webhook-id`,
`webhook-timestamp` and `webhook-signature` headers (HMAC-SHA256, signed by the reference
`standardwebhooks` library; during a secret rotation both signatures), and one POST with
timeouts and no redirects followed.

The body says what is due and where to look, never who: no child's name, date of birth,
address or narrative, only the partnership, the case's own reference, the clock and dates.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

__all__ = ["AlertMessage", "Outcome", "post", "retry_after", "signature"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

_TITLES = {
    "due_soon": "Due soon",
    "due_today": "Due today",
    "overdue": "Overdue",
    "overdue_reminder": "Still overdue",
}


@dataclass(frozen=True)
class AlertMessage:
    """What a receiver is told about one alert."""

    alert_id: str
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

    @property
    def overdue_by(self) -> str:
        """How late it is, in words: "1 working day", "3 working days"."""
        days = self.working_days_overdue
        return f"{days} working day{'' if days == 1 else 's'}"

    def body(self, sent_at: datetime) -> str:
        data: dict[str, Any] = {
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
        event = {"type": f"alert.{self.rung}", "timestamp": sent_at.isoformat(), "data": data}
        return json.dumps(event, separators=(",", ":"))


def signature(secrets: list[str], message_id: str, sent_at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,` signature per secret, space-separated."""
    return " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in secrets)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: a status code (HTTP, or SMTP's 250), or the class of the
    error; how long it took; the seconds a `Retry-After` asked for; whether it was taken."""

    status_code: int | None
    error: str | None
    latency_ms: int
    retry_after: float | None = None
    accepted: bool = False  # the target took the message (a 2xx; an SMTP server's 250)


def retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds()) if when.tzinfo else None


def post(
    client: httpx.Client,
    url: str,
    *,
    message_id: str,
    sent_at: datetime,
    body: str,
    secrets: list[str],
) -> Outcome:
    """POSTs the signed message once (the client follows no redirects)."""
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature(secrets, message_id, sent_at, body),
    }
    started = time.perf_counter()
    try:
        response = client.post(url, content=body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Outcome(status_code=None, error=type(exc).__name__, latency_ms=elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return Outcome(
        status_code=response.status_code,
        error=None,
        latency_ms=elapsed,
        retry_after=retry_after(response.headers.get("retry-after"), sent_at),
        accepted=response.is_success,
    )
