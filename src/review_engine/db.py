"""Database plumbing: engine, per-request session, migrations, and the UTC clock.

Importing this module sets the constraint naming convention on `SQLModel.metadata`, so every
table module must import it (directly or via `utcnow`) before defining tables. Named
constraints let Alembic's SQLite batch mode drop and recreate them later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session, SQLModel

import review_engine
from review_engine.concurrency import POOL_OVERFLOW, POOL_SIZE

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


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL of a CHECK that `column` holds one of `values` (from the code's one list)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (SQLModel rejects naive ones)."""
    return datetime.now(UTC)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def normalise_database_url(database_url: str | URL) -> URL:
    """Parse `database_url`, sending `postgres://` and `postgresql://` to psycopg 3 (the
    PostgreSQL driver this package installs), and check it names a usable database.

    Raises ValueError saying what is wrong; its text never quotes the URL (it may hold a
    password).
    """
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):  # e.g. a port that is not a number
        raise ValueError("not a database URL") from None  # the cause may quote the URL
    if url.drivername in ("postgres", "postgresql"):
        # `postgres://` is what Heroku-style platforms hand out; SQLAlchemy rejects it.
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(f"unsupported database {url.get_backend_name()!r}")
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ValueError(f"the database driver {url.drivername!r} is not installed") from None
    return url


def create_db_engine(database_url: str | URL) -> Engine:
    """Create the engine for `database_url`, with the per-dialect settings this app relies on."""
    url = normalise_database_url(database_url)
    # hide_parameters keeps bound values (which may be a child's name) out of error messages.
    # A pool of POOL_SIZE + POOL_OVERFLOW connections, more than the requests one process
    # lets in at once (`concurrency.REQUESTS_IN_FLIGHT`).
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, **pool)

    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own DB
    else:
        kwargs.update(pool)
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


@contextmanager
def read_apart(session: Session) -> Iterator[None]:
    """Runs the block's reads in a transaction of their own, ended after it, when `session`
    has not begun one and would begin it holding SQLite's write lock (IMMEDIATE). A write
    request reads its API key this way, so the lock is taken only when its change begins.
    Objects the block loaded are expired after it: take what is needed inside."""
    bind = session.get_bind()
    mode = bind.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    if bind.dialect.name != "sqlite" or mode != "IMMEDIATE" or session.in_transaction():
        yield
        return
    session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
    try:
        yield
    finally:
        session.rollback()  # nothing was written: this only ends the read


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
        # Passed as an attribute, not a main option, so a password with "%" is not mangled;
        # normalised here so that env.py's offline mode accepts `postgres://` too.
        url = normalise_database_url(database_url)
        config.attributes["database_url"] = url.render_as_string(hide_password=False)
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


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


class DatabaseState(StrEnum):
    """Whether the configured database can be used, and if not, why."""

    READY = "ready"
    """It answers and has every migration applied."""
    MISSING = "missing"
    """The PostgreSQL server answers but has no such database, or the SQLite file is absent."""
    UNREACHABLE = "unreachable"
    """It cannot be opened: the server is down, the credentials are refused, and so on."""
    BEHIND = "behind"
    """It exists with migrations still to apply (a blank database included)."""
    AHEAD = "ahead"
    """It has migrations this version does not know: a newer release migrated it."""


@dataclass(frozen=True, kw_only=True)
class DatabaseDiagnosis:
    """The outcome of `diagnose_database`."""

    state: DatabaseState
    reason: str = ""
    """For UNREACHABLE, the driver's one-line reason, with any password masked."""

    def explain(self, url: URL) -> str:
        """What is wrong and what to do, in one line for an operator; never the password."""
        where = describe_database(url)
        match self.state:
            case DatabaseState.READY:
                return f"{where} is ready"
            case DatabaseState.MISSING if sqlite_file(url) is not None:
                return (
                    f"{where} does not exist; correct REVIEW_ENGINE_DATABASE_URL (or the working "
                    "directory), or create it with `review-engine db upgrade`"
                )
            case DatabaseState.MISSING:
                return f"{where} does not exist; create it, or correct REVIEW_ENGINE_DATABASE_URL"
            case DatabaseState.BEHIND:
                return f"{where} is not at the latest migration; run `review-engine db upgrade`"
            case DatabaseState.AHEAD:
                return (
                    f"{where} has migrations this version of review-engine does not know; "
                    "run the release that applied them"
                )
            case DatabaseState.UNREACHABLE:
                return (
                    f"cannot open {where} ({self.reason}); check REVIEW_ENGINE_DATABASE_URL "
                    "and that the database server is running"
                )


def describe_database(url: URL) -> str:
    """The database `url` names, for messages: never the password (nor the user)."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        return f"the SQLite database {path}" if path else "the in-memory SQLite database"
    return f'database "{url.database}" on {url.host or "the local server"}:{url.port or 5432}'


def diagnose_database(engine: Engine) -> DatabaseDiagnosis:
    """Find out whether `engine`'s database can be used, without changing it (in particular,
    without creating a missing SQLite file, as merely connecting would)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and not _sqlite_file_exists(url):
        return DatabaseDiagnosis(state=DatabaseState.MISSING)
    try:
        current = _current_revisions(engine)
    except SQLAlchemyError as exc:
        if url.get_backend_name() == "postgresql" and _postgres_database_missing(url):
            return DatabaseDiagnosis(state=DatabaseState.MISSING)
        return DatabaseDiagnosis(state=DatabaseState.UNREACHABLE, reason=_reason(exc, url))
    if current == _head_revisions():
        return DatabaseDiagnosis(state=DatabaseState.READY)
    if current - _known_revisions():
        return DatabaseDiagnosis(state=DatabaseState.AHEAD)
    return DatabaseDiagnosis(state=DatabaseState.BEHIND)


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for any other URL, or an in-memory or URI-style one."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if url.query.get("uri") else Path(database)


def _sqlite_file_exists(url: URL) -> bool:
    path = sqlite_file(url)
    return path is None or path.exists()


def _postgres_database_missing(url: URL) -> bool:
    """Whether the server answers but has no database by that name. Asked through the
    `postgres` maintenance database, because the server's own message is localised."""
    if not url.database or url.database == "postgres":
        return False
    probe = create_engine(url.set(database="postgres"), poolclass=NullPool)
    try:
        with probe.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
        return found is None
    except SQLAlchemyError:
        return False  # cannot tell: the connection failure itself is reported instead
    finally:
        probe.dispose()


def _reason(exc: SQLAlchemyError, url: URL) -> str:
    # The driver's first line only: connection failures say enough there, and later lines
    # (DETAIL, HINT) could quote data. libpq never quotes the password; mask it regardless.
    message = str(exc.orig) if isinstance(exc, DBAPIError) else ""
    reason = (message.strip().splitlines() or [type(exc).__name__])[0].strip()
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason[:300]
