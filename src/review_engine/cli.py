"""The `review-engine` command: run the API and administer keys, partnerships and the DB.

Output never contains a secret, except the one new key `keys create` prints (last line).
The database is `REVIEW_ENGINE_DATABASE_URL` (see `Settings`).
"""

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key, list_api_keys, revoke_api_key
from review_engine.cases.service import refresh_stored_deadlines
from review_engine.db import create_db_engine, upgrade_database
from review_engine.deadline_context import clock_context
from review_engine.demo import load_demo
from review_engine.errors import Problem
from review_engine.idempotency import purge_expired_records
from review_engine.partnerships.schemas import PartnershipCreate
from review_engine.partnerships.service import create_partnership
from review_engine.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Case review workflow engine for SCPs.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations and housekeeping.")
keys_app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API keys.")
partnerships_app = typer.Typer(no_args_is_help=True, help="Register partnerships.")
openapi_app = typer.Typer(no_args_is_help=True, help="The OpenAPI document.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(partnerships_app, name="partnerships")
app.add_typer(openapi_app, name="openapi")
demo_app = typer.Typer(no_args_is_help=True, help="Fictional demonstration data.")
app.add_typer(demo_app, name="demo")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database; problems become a one-line error and exit 1."""
    engine = create_db_engine(Settings().database_url)
    try:
        with Session(engine) as session:
            yield session
    except Problem as exc:
        raise _fail(exc.detail) from exc
    except SQLAlchemyError as exc:
        # No exception text: it may quote SQL. The usual cause is a missing migration.
        raise _fail(
            f"database error ({type(exc).__name__}); is it migrated? "
            "Run `review-engine db upgrade`."
        ) from exc
    finally:
        engine.dispose()


def _migrate(settings: Settings) -> None:
    """Apply pending migrations; after any, recompute the stored deadline rows (the clock
    rules may have changed with them)."""
    if upgrade_database(settings.database_url):
        with _session() as session:
            refresh_stored_deadlines(session=session, context=clock_context(settings))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the API with uvicorn (migrating a SQLite database first)."""
    import uvicorn  # noqa: PLC0415  -- only this command needs the server

    settings = Settings()
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        # A single-file deployment has no separate release step; PostgreSQL deployments
        # run `db upgrade` explicitly before rolling out.
        _migrate(settings)
    uvicorn.run("review_engine.app:create_app", factory=True, host=host, port=port, workers=workers)


@demo_app.command("load")
def demo_load() -> None:
    """Add two fictional partnerships and a dozen cases at every stage (idempotent)."""
    settings = Settings()
    with _session() as session:
        loaded = load_demo(session=session, context=clock_context(settings))
    typer.echo(
        f"demo data loaded: {loaded.partnerships_created} partnership(s) and "
        f"{loaded.cases_created} case(s) added"
    )


@demo_app.command("run")
def demo_run(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate, load the demo data, issue an admin key, print it, and serve the API."""
    import uvicorn  # noqa: PLC0415  -- only the serving commands need the server

    settings = Settings()
    _migrate(settings)
    with _session() as session:
        loaded = load_demo(session=session, context=clock_context(settings))
        _, raw_key = create_api_key(
            session=session,
            name=f"demo-admin-{secrets.token_hex(3)}",
            role=Role.ADMIN,
            partnership_codes=None,
        )
    url = f"http://{host}:{port}"
    typer.echo(f"demo data: {loaded.cases_created} new case(s) in {settings.database_url}")
    typer.echo(f"review-engine is starting at {url} (API docs at {url}/docs)")
    typer.echo("an admin key for this demo (shown once):")
    typer.echo(f"  export KEY={raw_key}")
    typer.echo(f'  curl -H "Authorization: Bearer $KEY" {url}/cases')
    uvicorn.run("review_engine.app:create_app", factory=True, host=host, port=port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (then recompute the stored deadline rows, if any ran)."""
    _migrate(Settings())
    typer.echo("database is at the latest migration")


@db_app.command("refresh-deadlines")
def db_refresh_deadlines() -> None:
    """Recompute every case's stored deadline rows (after a calendar or closure-day change)."""
    settings = Settings()
    with _session() as session:
        count = refresh_stored_deadlines(session=session, context=clock_context(settings))
    typer.echo(f"recomputed the stored deadlines of {count} case(s)")


@db_app.command("purge-idempotency")
def db_purge_idempotency() -> None:
    """Delete idempotency records past their 24-hour expiry (safe to run from cron)."""
    with _session() as session:
        count = purge_expired_records(session=session)
    typer.echo(f"deleted {count} expired idempotency record(s)")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Unique name, e.g. the client system.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    partnership: Annotated[
        list[str] | None,
        typer.Option(help="Limit the key to this partnership code (repeatable). Default: all."),
    ] = None,
) -> None:
    """Issue a key. It is printed once, alone on the last line; store it now."""
    with _session() as session:
        api_key, raw_key = create_api_key(
            session=session, name=name, role=role, partnership_codes=partnership
        )
        scope = ", ".join(api_key.partnership_codes or []) or "all partnerships"
        typer.echo(f"created {api_key.role} key {api_key.name!r} (id {api_key.key_id}; {scope})")
    typer.echo("the key is shown only once:")
    typer.echo(raw_key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    with _session() as session:
        keys = list_api_keys(session=session)
    if not keys:
        typer.echo("no API keys")
        return
    typer.echo("name\tkey_id\trole\tpartnerships\tcreated_at\tlast_used_at\trevoked_at")
    for key in keys:
        fields = [
            key.name,
            key.key_id,
            key.role,
            ",".join(key.partnership_codes or []) or "*",
            key.created_at.isoformat(timespec="seconds"),
            key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "-",
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-",
        ]
        typer.echo("\t".join(fields))


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Option(help="The key's name.")]) -> None:
    """Revoke a key; it is refused from its next request."""
    with _session() as session:
        api_key = revoke_api_key(session=session, name=name)
        assert api_key.revoked_at is not None
        typer.echo(f"revoked key {api_key.name!r} at {api_key.revoked_at.isoformat()}")


@partnerships_app.command("create")
def partnerships_create(
    code: Annotated[str, typer.Option(help="Lowercase slug, e.g. north-shire.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    rapid_review_clock_start: Annotated[
        str, typer.Option(help="When the rapid review clock starts: notified or aware.")
    ] = "notified",
) -> None:
    """Register a partnership."""
    try:
        data = PartnershipCreate.model_validate(
            {"code": code, "name": name, "rapid_review_clock_start": rapid_review_clock_start}
        )
    except ValueError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in getattr(exc, "errors", list)()})
        raise _fail(f"invalid {', '.join(fields) or 'input'}") from exc
    with _session() as session:
        partnership = create_partnership(session=session, data=data)
        typer.echo(f"created partnership {partnership.code!r}")


@openapi_app.command("export")
def openapi_export(
    output: Annotated[Path, typer.Option(help="Where to write the JSON.")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document (sorted keys, stable output for diffing in CI)."""
    from review_engine.app import create_app  # noqa: PLC0415  -- keeps CLI start-up light

    document = create_app(Settings(docs_enabled=True)).openapi()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")
