"""Rules for free text that every API shape shares (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Callable
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


# What `strip_whitespace` trims (Unicode White_Space, as pydantic-core's `trim` does),
# spelled out: Python's `\s` also matches U+001C..U+001F, which are kept.
_WHITE_SPACE = (
    "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
    "\\u205f\\u3000"
)
NOT_BLANK_PATTERN = f"^[{_WHITE_SPACE}]*[^{_WHITE_SPACE}\\u0000][^\\u0000]*$"
"""Text with something besides white space in it, and no NUL."""


def _at_most(limit: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters, white space included")
        return value

    return check


class _NoNul:
    """Refuses U+0000, and says so in the JSON schema (a pattern), so generated clients and
    the fuzzer know the rule too. A stripped text that must not be empty (`minLength` 1)
    must also hold more than white space: its pattern says that as well. And a stripped
    text's length is checked as sent, as its `maxLength` says, before it is stripped."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        inner = handler(source)
        checked = core_schema.no_info_after_validator_function(_no_nul, inner)
        limit = inner.get("max_length") if inner.get("type") == "str" else None
        if isinstance(limit, int) and inner.get("strip_whitespace"):
            # `maxLength` in the JSON schema counts the text as sent; stripping first
            # would let longer text through than the schema allows.
            return core_schema.no_info_before_validator_function(_at_most(limit), checked)
        return checked

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        blank_refused = json_schema.get("minLength", 0) >= 1
        json_schema.setdefault("pattern", NOT_BLANK_PATTERN if blank_refused else "^[^\\u0000]*$")
        return json_schema


NoNul = _NoNul()
"""Use as `Annotated[str, ..., NoNul]` on every free-text field."""

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul
]
"""Why something was done or decided: free text, stripped, never empty."""
