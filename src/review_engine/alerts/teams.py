"""A message as Microsoft Teams sees it: an Adaptive Card POSTed to a channel's Workflows
webhook URL (the successor of the retired Office 365 connectors; its URL carries its own
signature, so the message is not signed again). Workflows answers 202 Accepted.

The card says what is due and where, never who, exactly as a webhook body does (it is
drawn from the same message: `messages.py`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx

from review_engine.alerts.messages import Message
from review_engine.alerts.webhooks import Outcome, retry_after

__all__ = ["card", "post_card"]


MAX_SECTIONS = 40
"""A Workflows message is capped (about 28 KB): a digest's card shows its first 40 entries."""


def _open(link: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": "Open in the review engine", "url": link}


def card(message: Message) -> dict[str, Any]:
    """The Workflows message: one Adaptive Card (schema 1.4) with the title, each section's
    facts, and links (https only: Teams opens nothing else). One linked section has its
    link as the card's action; several each carry their own."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": message.title,
         "wrap": True},
    ]  # fmt: skip
    listed = message.sections()
    sections = listed[:MAX_SECTIONS]
    linked = [section for section in sections if section.link.startswith("https://")]
    for section in sections:
        if section.heading:
            body.append(
                {"type": "TextBlock", "weight": "Bolder", "text": section.heading, "wrap": True,
                 "separator": True, "spacing": "Medium"}
            )  # fmt: skip
        facts = [{"title": name, "value": value} for name, value in section.facts]
        body.append({"type": "FactSet", "facts": facts})
        if len(linked) > 1 and section in linked:
            body.append({"type": "ActionSet", "actions": [_open(section.link)]})
    if len(listed) > len(sections):
        more = len(listed) - len(sections)
        body.append(
            {"type": "TextBlock", "text": f"… and {more} more: see the email or the API.",
             "wrap": True, "separator": True}
        )  # fmt: skip
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [_open(linked[0].link)] if len(linked) == 1 else [],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": content,
            }
        ],
    }


def post_card(client: httpx.Client, url: str, message: Message, sent_at: datetime) -> Outcome:
    """POSTs the card once (the client follows no redirects)."""
    body = json.dumps(card(message), separators=(",", ":"))
    started = time.perf_counter()
    try:
        response = client.post(
            url, content=body.encode(), headers={"content-type": "application/json"}
        )
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
