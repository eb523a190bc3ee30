"""`FieldError`: one rejected field of a request, and why (never its value).

Shared by the pure core (the workflow's payload checks) and the API's problem documents,
so both speak of a field the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FieldError"]


@dataclass(frozen=True)
class FieldError:
    """One problem with a request: the field to correct (e.g. `body.notified_on`) and why."""

    field: str
    message: str
