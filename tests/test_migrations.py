"""Migrations match the models, run both ways, and the database settings hold."""

import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect
from sqlmodel import Session, SQLModel, func, select

import review_engine.models  # noqa: F401  -- every table on the metadata
from review_engine.db import (
    alembic_config,
    create_db_engine,
    database_at_head,
    migrations_dir,
    upgrade_database,
    utcnow,
)
from review_engine.partnerships.models import Partnership


def test_models_and_migrations_agree(database_url: str) -> None:
    """The programmatic equivalent of `alembic check`, on each database."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()
    command.check(alembic_config(database_url))  # raises if autogenerate would emit anything


def test_upgrade_downgrade_upgrade(blank_database_url: str) -> None:
    engine = create_db_engine(blank_database_url)
    try:
        assert not database_at_head(engine)
        upgrade_database(blank_database_url)
        assert database_at_head(engine)
        upgrade_database(blank_database_url)  # already at head: a no-op

        command.downgrade(alembic_config(blank_database_url), "base")
        assert not database_at_head(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade_database(blank_database_url)
        assert database_at_head(engine)
        assert {"partnership", "api_key", "idempotency_record"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_several_processes_succeed(blank_database_url: str) -> None:
    script = (
        "import sys; from review_engine.db import upgrade_database; upgrade_database(sys.argv[1])"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, blank_database_url]) for _ in range(3)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0]
    engine = create_db_engine(blank_database_url)
    try:
        assert database_at_head(engine)
    finally:
        engine.dispose()


def test_every_constraint_and_index_is_named() -> None:
    """Named constraints are what let SQLite batch migrations drop them later."""
    for table in SQLModel.metadata.tables.values():
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
        for index in table.indexes:
            assert index.name, f"unnamed index on {table.name}"


def test_migrations_are_found_without_a_working_directory() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert any((migrations_dir() / "versions").glob("0001_*.py"))


def test_sqlite_connection_settings(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/pragmas.db"
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 15000
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_sqlite_writers_queue_instead_of_failing(database_url: str) -> None:
    """Read-then-write transactions from many threads: none fails with "database is locked".

    (On PostgreSQL the same code simply runs concurrently.)
    """
    engine = create_db_engine(database_url)
    start = threading.Barrier(8)

    def read_then_write(n: int) -> None:
        start.wait()
        with Session(engine) as session:
            session.exec(select(func.count()).select_from(Partnership)).one()
            time.sleep(0.01)  # hold the transaction open while others try to write
            session.add(Partnership(code=f"p{n}", name=f"P{n}"))
            session.commit()

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(read_then_write, n) for n in range(8)]:
                future.result(timeout=30)
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Partnership)).one() == 8
    finally:
        engine.dispose()


def test_in_memory_sqlite_shares_one_database() -> None:
    engine = create_db_engine("sqlite://")
    try:
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            session.add(Partnership(code="wessex", name="W"))
            session.commit()
        with Session(engine) as session:
            assert session.exec(select(Partnership.code)).all() == ["wessex"]
    finally:
        engine.dispose()


def test_datetimes_are_aware_utc(database_url: str) -> None:
    assert utcnow().tzinfo is UTC
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            session.add(Partnership(code="wessex", name="W"))
            session.commit()
        with Session(engine) as session:
            stored = session.exec(select(Partnership)).one()
            assert stored.created_at.utcoffset() is not None
            assert stored.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    finally:
        engine.dispose()


def _listed_values(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def test_check_constraints_in_the_database_match_the_code(database_url: str) -> None:
    """Autogenerate does not compare CHECK constraints, so a new state (role, status...)
    added to the code without a migration would be refused by the database on its first
    write. Every CHECK of the models is compared with the migrated database's, by name."""
    engine = create_db_engine(database_url)
    try:
        inspector = inspect(engine)
        compared = 0
        for table in SQLModel.metadata.tables.values():
            in_code = {
                str(constraint.name): _listed_values(str(constraint.sqltext))
                for constraint in table.constraints
                if isinstance(constraint, CheckConstraint)
            }
            in_database = {
                str(check["name"]): _listed_values(str(check["sqltext"]))
                for check in inspector.get_check_constraints(table.name)
            }
            for name, values in in_code.items():
                full_name = name if name.startswith("ck_") else f"ck_{table.name}_{name}"
                assert in_database.get(full_name) == values, f"{table.name}.{full_name}"
                compared += 1
        assert compared >= 5  # state, incident_type, role, clock start, idempotency status
    finally:
        engine.dispose()
