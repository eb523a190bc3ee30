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


def insert_new(
    session: Session, table: type[SQLModel], rows: list[dict[str, Any]], unique: Sequence[str]
) -> list[uuid.UUID]:
    """Inserts the rows that do not collide on the columns `unique` (a unique constraint's);
    returns the ids of those inserted (rowcount is not reliable with ON CONFLICT)."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.id)  # type: ignore[attr-defined]
    )
    return [inserted for (inserted,) in session.execute(statement).all()]
