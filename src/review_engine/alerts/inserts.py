"""`INSERT … ON CONFLICT DO NOTHING RETURNING id` on SQLite and PostgreSQL: how the alerts
tables stay idempotent. A unique constraint decides what is new, not a read before the
write, so two runners at once still insert each row once. And `… DO UPDATE`, for rows
that are kept up to date (detection's progress)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

__all__ = ["insert_new", "upsert"]

_PARAMETERS = 30_000  # well under PostgreSQL's 65,535 and SQLite's 32,766 (before 3.32)


def insert_new(
    session: Session, table: type[SQLModel], rows: list[dict[str, Any]], unique: Sequence[str]
) -> list[uuid.UUID]:
    """Inserts the rows that do not collide on the columns `unique` (a unique constraint's);
    returns the ids of those inserted (rowcount is not reliable with ON CONFLICT). Sent
    in statements of at most `_PARAMETERS` bound values: PostgreSQL's protocol takes at
    most 65,535 a statement, and a first run over a backlog records thousands of rungs."""
    inserted: list[uuid.UUID] = []
    for values in _statements(rows):
        statement = (
            _dialect(session)
            .insert(table)
            .values(values)
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(table.id)  # type: ignore[attr-defined]
        )
        inserted += [row_id for (row_id,) in session.execute(statement).all()]
    return inserted


def upsert(
    session: Session,
    table: type[SQLModel],
    rows: list[dict[str, Any]],
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """Inserts the rows, or, where one collides on the columns `unique`, sets its columns
    `update` to the new row's."""
    for values in _statements(rows):
        insert = _dialect(session).insert(table).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=list(unique),
            set_={column: insert.excluded[column] for column in update},
        )
        session.execute(statement)


def _dialect(session: Session) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _statements(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows in groups of at most `_PARAMETERS` bound values."""
    if not rows:
        return
    per_statement = max(1, _PARAMETERS // len(rows[0]))
    for start in range(0, len(rows), per_statement):
        yield rows[start : start + per_statement]
