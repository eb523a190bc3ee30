"""A delivery as a Standard Webhooks message: the message's thin JSON body
(`messages.py`), the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers
(HMAC-SHA256, signed by the reference `standardwebhooks` library; during a secret rotation
both signatures), and one POST with timeouts and no redirects followed.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

__all__ = ["Outcome", "post", "retry_after", "signature"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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
