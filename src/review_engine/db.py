"""Database plumbing: engine, per-request session, migrations, and the UTC clock.

Importing this module sets the constraint naming convention on `SQLModel.metadata`, so every
table module must import it (directly or via `utcnow`) before defining tables. Named
constraints let Alembic's SQLite batch mode drop and recreate them later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

import review_engine

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SQLITE_BEGIN_OPTION = "sqlite_begin"
"""Execution option choosing how a SQLite transaction begins: "IMMEDIATE" (default) or "DEFERRED".

IMMEDIATE takes the write lock up front, so two writers queue on `busy_timeout` instead of one
failing with "database is locked" when it upgrades a read lock. Read-only inspection (tests,
reports) may pass `engine.execution_options(sqlite_begin="DEFERRED")` to avoid blocking writers.
"""


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (SQLModel rejects naive ones)."""
    return datetime.now(UTC)


def create_db_engine(database_url: str) -> Engine:
    """Create the engine for `database_url`, with the per-dialect settings this app relies on."""
    url = make_url(database_url)
    # hide_parameters keeps bound values (which may be a child's name) out of error messages.
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)

    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own DB
    engine = create_engine(url, hide_parameters=True, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver (it never begins before SELECT, so reads would
    # not be repeatable); `_sqlite_begin` emits it instead. The documented pysqlite pattern.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default, per connection
    cursor.execute("PRAGMA busy_timeout=15000")  # wait for the write lock rather than fail
    cursor.execute("PRAGMA synchronous=FULL")  # WAL+NORMAL can lose the last commits on power loss
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
        raise ValueError(f"unsupported {SQLITE_BEGIN_OPTION} mode")
    connection.exec_driver_sql(f"BEGIN {mode}")


# Methods that only read: on SQLite their transactions begin DEFERRED, so readers never wait
# for (or hold up) the single writer. WAL gives them a consistent snapshot.
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session on the app's engine for one request; closed (rolled back) afterwards."""
    engine: Engine = request.app.state.engine
    if request.method in _READ_ONLY_METHODS and engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def migrations_dir() -> Path:
    """Locate the Alembic scripts: shipped in the wheel, or the repository's `migrations/`."""
    packaged = Path(review_engine.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    """Build an Alembic config in code, independent of the working directory and alembic.ini."""
    config = Config()
    # ConfigParser interpolates "%"; escape it so odd install paths survive.
    config.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    if database_url is not None:
        # Passed as an attribute, not a main option, so a password with "%" is not mangled.
        config.attributes["database_url"] = database_url
    return config


_upgrade_lock = threading.Lock()


def upgrade_database(database_url: str) -> bool:
    """Migrate the database at `database_url` to the latest revision (a no-op when at head);
    return whether any migration was applied.

    Safe to call from several processes at once: SQLite's BEGIN IMMEDIATE and a PostgreSQL
    advisory lock (in env.py) queue them. Alembic's `context` is process-global, so calls
    within one process are serialised here.
    """
    engine = create_db_engine(database_url)
    try:
        with _upgrade_lock:
            before = _current_revisions(engine)
            command.upgrade(alembic_config(database_url), "head")
            return _current_revisions(engine) != before
    finally:
        engine.dispose()


def _current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


@lru_cache(maxsize=1)
def _head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_at_head(engine: Engine) -> bool:
    """Whether the database has every migration applied (and no unknown newer ones)."""
    return _current_revisions(engine) == _head_revisions()
