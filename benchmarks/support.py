"""What the benchmark scripts share: a throwaway database to run against, migrated and
given an admin key."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import Session

from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.db import create_db_engine, normalise_database_url, upgrade_database


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A SQLite file in a temporary directory, or a new database on the PostgreSQL server
    `postgres` names (dropped afterwards)."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    server = make_url(normalise_database_url(postgres))
    name = f"review_engine_bench_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_with_admin_key(database_url: str) -> str:
    """Migrates the database to head and returns a new admin key's secret."""
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        _, key = create_api_key(
            session=session, name="bench", role=Role.ADMIN, partnership_codes=None
        )
    engine.dispose()
    return key
