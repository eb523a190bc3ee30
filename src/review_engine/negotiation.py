"""Content negotiation for the routes that can answer CSV as well as JSON (RFC 9110
§12.5.1): CSV when the client's `Accept` prefers `text/csv` to JSON; JSON otherwise,
including when `Accept` is missing or names neither."""

from __future__ import annotations

__all__ = ["prefers_csv"]


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type` (exactly, by its type's `*`, or by `*/*`)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)  # (how specific the match was, q)
    for part in accept.split(","):
        name, *parameters = (piece.strip() for piece in part.split(";"))
        name = name.lower()
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name)
        if specificity is None or specificity < best[0]:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        best = (specificity, quality)
    return best[1]


def prefers_csv(accept: str | None) -> bool:
    if not accept:
        return False
    csv = _quality(accept, "text/csv")
    return csv > 0 and csv > _quality(accept, "application/json")
