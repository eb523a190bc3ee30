"""Rules for free text that every API shape shares (pure: no I/O)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000, and no legitimate case text needs it: refuse it
    # as bad input (422) on every database rather than fail on one of them.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


NoNul = AfterValidator(_no_nul)
"""Use as `Annotated[str, ..., NoNul]` on every free-text field."""

Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), NoNul
]
"""Why something was done or decided: free text, stripped, never empty."""
