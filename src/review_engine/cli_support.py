"""What every `review-engine` command shares: its exit statuses, the settings, and a session
on a usable database (see `review_engine.cli` for the rules on output and exit statuses)."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from review_engine.db import DatabaseState, create_db_engine, describe_database, diagnose_database
from review_engine.errors import Problem
from review_engine.settings import Settings, explain_invalid_settings

EXIT_REFUSED = 1
EXIT_MISCONFIGURED = 2


def refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=EXIT_REFUSED)


def misconfigured(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=EXIT_MISCONFIGURED)


def settings_or_exit() -> Settings:
    """The settings, or exit 2 naming each bad variable (never its value: it may be secret)."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise misconfigured(explain_invalid_settings(exc)) from exc


# --- the database ----------------------------------------------------------------------------


def _database_failure(engine: Engine, exc: Exception) -> typer.Exit:
    """Exit for an error part-way through a command: why, if the database has become unusable;
    otherwise only the error's type, as its text may quote SQL or case data."""
    diagnosis = diagnose_database(engine)
    if diagnosis.state is not DatabaseState.READY:
        return misconfigured(diagnosis.explain(engine.url))
    return misconfigured(
        f"database error ({type(exc).__name__}) on {describe_database(engine.url)}; "
        "see the database server's log, then retry"
    )


def usable_engine(settings: Settings) -> Engine:
    """An engine on the configured database, which must exist and be fully migrated."""
    engine = create_db_engine(settings.database_url)
    diagnosis = diagnose_database(engine)
    if diagnosis.state is not DatabaseState.READY:
        engine.dispose()
        raise misconfigured(diagnosis.explain(engine.url))
    return engine


@contextmanager
def database_session(settings: Settings) -> Iterator[Session]:
    """A session on the configured database; a refusal exits 1, a database problem 2."""
    engine = usable_engine(settings)
    try:
        with Session(engine) as session:
            yield session
    except Problem as exc:
        raise refuse(exc.detail) from exc
    except SQLAlchemyError as exc:
        raise _database_failure(engine, exc) from exc
    finally:
        engine.dispose()
