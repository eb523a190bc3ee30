"""Fields a change may leave out: left out means "keep as it is"; `null` is refused (422
naming the field) wherever the stored value cannot be null, so a `null` can never be
stored where a list or a name belongs."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator

__all__ = ["NotNull", "no_default"]


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null: leave the field out to keep it as it is")
    return value


NotNull = BeforeValidator(_refuse_null)
"""Use as `Annotated[T | SkipJsonSchema[None], NotNull] = None`: optional, never null."""


def no_default(schema: dict[str, Any]) -> None:
    """`json_schema_extra` for such a field: left out means "unchanged", which no default
    value describes (and `null` would be refused)."""
    schema.pop("default", None)
