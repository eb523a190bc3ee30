"""Alembic environment for review-engine.

The database URL comes from, in order: the caller (`review_engine.db.alembic_config`),
`sqlalchemy.url` in alembic.ini, or `REVIEW_ENGINE_DATABASE_URL` (via `Settings`).
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import review_engine.models  # noqa: F401  -- registers every table on SQLModel.metadata
from review_engine.db import create_db_engine
from review_engine.settings import Settings

config = context.config
if config.config_file_name is not None:  # run from the `alembic` CLI with alembic.ini
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = SQLModel.metadata

# Any fixed number works; it only has to be the same for every process migrating this DB.
_PG_MIGRATION_LOCK = 0x7265766965770001


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return str(url) if url else Settings().database_url


def run_migrations_offline() -> None:
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(_database_url())
    try:
        with engine.connect() as connection:
            is_sqlite = connection.dialect.name == "sqlite"
            if is_sqlite:
                # SQLite's documented schema-change procedure: foreign keys off (it cannot be
                # changed inside a transaction, hence the driver connection) so that batch
                # mode's table rebuild does not cascade deletes; checked again before commit.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=is_sqlite,
                compare_type=True,
                # Our engine emits BEGIN itself, so SQLite DDL is transactional too.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Two processes migrating at once queue here instead of racing.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _PG_MIGRATION_LOCK}
                    )
                context.run_migrations()
                if is_sqlite:
                    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if violations:
                        raise RuntimeError("migration left rows violating foreign keys")
            if is_sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
