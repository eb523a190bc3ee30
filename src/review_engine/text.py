"""Rules for free text that every API shape shares (pure: no I/O)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

__all__ = ["NoNul", "Reason"]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000, and no legitimate case text needs it: refuse it
    # as bad input (422) on every database rather than fail on one of them.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


class _NoNul:
    """Refuses U+0000, and says so in the JSON schema (a pattern), so generated clients and
    the fuzzer know the rule too."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", "^[^\\u0000]*$")
        return json_schema


NoNul = _NoNul()
"""Use as `Annotated[str, ..., NoNul]` on every free-text field."""

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul
]
"""Why something was done or decided: free text, stripped, never empty."""
