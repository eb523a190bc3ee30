"""`FieldError`: one rejected field of a request, and why (never its value).

Shared by the pure core (the workflow's payload checks) and the API's problem documents,
so both speak of a field the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldError", "field_errors", "field_of"]


@dataclass(frozen=True)
class FieldError:
    """One problem with a request: the field to correct (e.g. `body.notified_on`) and why."""

    field: str
    message: str


# The tags pydantic puts in an error's location for the member of a union that failed
# (`summary: Text | None` fails as `summary.function-after[...]` and `summary.none`; a
# constrained number as `constrained-int`).
_UNION_MEMBER_TAGS = frozenset({"none", "str", "int", "float", "bool", "date", "uuid"})


def _union_member(part: str) -> bool:
    return "[" in part or part in _UNION_MEMBER_TAGS or part.startswith("constrained-")


def field_of(loc: Sequence[int | str]) -> str:
    """The field a pydantic error location names, dotted (`children.0.name`), without the
    union members pydantic tried (which are not fields a client can correct)."""
    parts = [str(part) for part in loc if not (isinstance(part, str) and _union_member(part))]
    return ".".join(parts)


def field_errors(errors: Iterable[Mapping[str, Any]], *, whole: str = "") -> list[FieldError]:
    """pydantic's errors as `FieldError`s, one per field and message (`whole` names the
    whole input, for an error with no location). A field that may be left out (or be null)
    is named once, with what is wrong with the value given rather than "should be None"."""
    raw = [(field_of(error.get("loc", ())) or whole, error) for error in errors]
    explained = {field for field, error in raw if error.get("type") != "none_required"}
    found: list[FieldError] = []
    for field, error in raw:
        if error.get("type") == "none_required" and field in explained:
            continue
        candidate = FieldError(field=field, message=str(error.get("msg", "Invalid value")))
        if candidate not in found:
            found.append(candidate)
    return found
