"""`INSERT … ON CONFLICT DO NOTHING RETURNING id` on SQLite and PostgreSQL: how the alerts
tables stay idempotent. A unique constraint decides what is new, not a read before the
write, so two runners at once still insert each row once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

__all__ = ["insert_new"]

_PARAMETERS = 30_000  # well under PostgreSQL's 65,535 and SQLite's 32,766 (before 3.32)


def insert_new(
    session: Session, table: type[SQLModel], rows: list[dict[str, Any]], unique: Sequence[str]
) -> list[uuid.UUID]:
    """Inserts the rows that do not collide on the columns `unique` (a unique constraint's);
    returns the ids of those inserted (rowcount is not reliable with ON CONFLICT). Sent
    in statements of at most `_PARAMETERS` bound values: PostgreSQL's protocol takes at
    most 65,535 a statement, and a first run over a backlog records thousands of rungs."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    per_statement = max(1, _PARAMETERS // len(rows[0]))
    inserted: list[uuid.UUID] = []
    for start in range(0, len(rows), per_statement):
        statement = (
            dialect.insert(table)
            .values(rows[start : start + per_statement])
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(table.id)  # type: ignore[attr-defined]
        )
        inserted += [row_id for (row_id,) in session.execute(statement).all()]
    return inserted
