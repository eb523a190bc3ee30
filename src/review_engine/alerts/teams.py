"""An alert as a Microsoft Teams message: an Adaptive Card POSTed to a channel's Workflows
webhook URL (the successor of the retired Office 365 connectors; its URL carries its own
signature, so the message is not signed again). Workflows answers 202 Accepted.

The card says what is due and where, never who, exactly as a webhook body does.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx

from review_engine.alerts.webhooks import AlertMessage, Outcome, retry_after

__all__ = ["card", "post_card"]


def card(message: AlertMessage) -> dict[str, Any]:
    """The Workflows message: one Adaptive Card (schema 1.4) with the facts and a link."""
    facts = [{"title": name, "value": value} for name, value in message.facts()]
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Medium",
                "weight": "Bolder",
                "text": message.title,
                "wrap": True,
            },
            {"type": "FactSet", "facts": facts},
        ],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Open in the review engine", "url": message.link}
        ]
        if message.link.startswith("https://")
        else [],
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


def post_card(client: httpx.Client, url: str, message: AlertMessage, sent_at: datetime) -> Outcome:
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
