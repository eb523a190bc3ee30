"""The `review-engine` command: run the API and administer keys, partnerships and the DB.

Output never contains a secret, except the one new key `keys create` (last line) or
`demo run` prints. The database is `REVIEW_ENGINE_DATABASE_URL` (see `Settings`).

Exit statuses: 0 done; 1 the request was refused (a duplicate name, an unknown partnership,
an invalid value); 2 the setup is wrong (a setting, the database, a port in use, as well as
typer's own usage errors), so retrying cannot help until it is fixed. Either way, one line on
stderr says what is wrong and what to do, never with a password or a traceback.
"""

import errno
import json
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated

import typer
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from review_engine.alerts.cli import alerts_app
from review_engine.auth.models import Principal, Role
from review_engine.auth.service import create_api_key, list_api_keys, revoke_api_key
from review_engine.cases.service import refresh_stored_deadlines
from review_engine.cli_support import database_session as _session
from review_engine.cli_support import misconfigured as _misconfigured
from review_engine.cli_support import refuse as _refuse
from review_engine.cli_support import settings_or_exit as _settings
from review_engine.cli_support import usable_engine as _usable_engine
from review_engine.db import (
    DatabaseState,
    create_db_engine,
    describe_database,
    diagnose_database,
    normalise_database_url,
    sqlite_file,
    upgrade_database,
)
from review_engine.deadline_context import clock_context
from review_engine.demo import load_demo
from review_engine.idempotency import purge_expired_records
from review_engine.partnerships.schemas import PartnershipCreate
from review_engine.partnerships.service import create_partnership, list_partnerships
from review_engine.settings import Settings

DEMO_KEY_PREFIX = "demo-admin-"
"""`demo run` names its keys so; each run revokes the live ones earlier runs issued."""

_OPERATOR = Principal(key_name="command-line", role=Role.ADMIN, partnership_codes=None)
"""Whoever runs the command line administers the deployment: it sees every partnership."""

# rich_markup_mode=None (inherited by the sub-apps): typer 0.29's rich help gives every option,
# even --help, a type placeholder such as <bool> or <str>; the plain layout shows each value
# option's metavar (given explicitly below) and nothing for flags.
app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Case review workflow engine for SCPs."
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations and housekeeping.")
keys_app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API keys.")
partnerships_app = typer.Typer(no_args_is_help=True, help="Register and list partnerships.")
openapi_app = typer.Typer(no_args_is_help=True, help="The OpenAPI document.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(partnerships_app, name="partnerships")
app.add_typer(openapi_app, name="openapi")
demo_app = typer.Typer(no_args_is_help=True, help="Fictional demonstration data.")
app.add_typer(demo_app, name="demo")
app.add_typer(alerts_app, name="alerts")

HostOption = Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")]
PortOption = Annotated[
    int, typer.Option(metavar="PORT", min=1, max=65535, help="Port to listen on.")
]


def _migrate(settings: Settings) -> None:
    """Apply pending migrations; after any, recompute the stored deadline rows (the clock
    rules may have changed with them). A missing SQLite file is created; a missing PostgreSQL
    database is not (that needs the server's administrator)."""
    engine = create_db_engine(settings.database_url)
    try:
        before = diagnose_database(engine)
        creatable = before.state is DatabaseState.MISSING and sqlite_file(engine.url) is not None
        if before.state not in (DatabaseState.READY, DatabaseState.BEHIND) and not creatable:
            raise _misconfigured(before.explain(engine.url))
        try:
            applied = upgrade_database(settings.database_url)
        except (SQLAlchemyError, CommandError) as exc:
            after = diagnose_database(engine)
            where = describe_database(engine.url)
            if after.state is DatabaseState.MISSING:
                raise _misconfigured(
                    f"cannot create {where}; check its directory exists and is writable"
                ) from exc
            if after.state not in (DatabaseState.READY, DatabaseState.BEHIND):
                raise _misconfigured(after.explain(engine.url)) from exc
            raise _misconfigured(
                f"migrating {where} failed ({type(exc).__name__}); "
                "see the database server's log, then retry"
            ) from exc
    finally:
        engine.dispose()
    if applied:
        with _session(settings) as session:
            refresh_stored_deadlines(session=session, context=clock_context(settings))


def _require_free_port(*, host: str, port: int) -> None:
    """Refuse before doing anything when the address is taken (uvicorn would only log it)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise _misconfigured(f"cannot listen on {host!r} ({exc.strerror}); pass --host") from exc
    with socket.socket(family, kind, proto) as probe:
        if os.name == "posix":
            # As uvicorn does, so a port left in TIME_WAIT by an earlier run counts as free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _misconfigured(f"port {port} on {host} is in use; pass --port") from exc
            raise _misconfigured(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass --host or --port"
            ) from exc


# --- commands ---------------------------------------------------------------------------------


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option(metavar="COUNT", min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the API with uvicorn.

    A SQLite database is migrated first (created if missing). A PostgreSQL database must
    exist and be fully migrated (run `review-engine db upgrade` as a release step): otherwise
    this refuses to start.
    """
    import uvicorn  # noqa: PLC0415  -- only this command needs the server

    settings = _settings()
    _require_free_port(host=host, port=port)
    if normalise_database_url(settings.database_url).get_backend_name() == "sqlite":
        # A single-file deployment has no separate release step; PostgreSQL deployments
        # run `db upgrade` explicitly before rolling out.
        _migrate(settings)
    else:
        _usable_engine(settings).dispose()
    uvicorn.run("review_engine.app:served_app", factory=True, host=host, port=port, workers=workers)


@demo_app.command("load")
def demo_load() -> None:
    """Add two fictional partnerships and a dozen cases at every stage (idempotent)."""
    settings = _settings()
    with _session(settings) as session:
        loaded = load_demo(session=session, context=clock_context(settings))
    typer.echo(
        f"demo data loaded: {loaded.partnerships_created} partnership(s) and "
        f"{loaded.cases_created} case(s) added"
    )


def _revoke_earlier_demo_keys(*, session: Session) -> int:
    live = [key for key in list_api_keys(session=session) if key.revoked_at is None]
    earlier = [key.name for key in live if key.name.startswith(DEMO_KEY_PREFIX)]
    for name in earlier:
        revoke_api_key(session=session, name=name)
    return len(earlier)


@demo_app.command("run")
def demo_run(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Migrate, load the demo data, issue an admin key (revoking those of earlier runs), print
    it, and serve the API."""
    import uvicorn  # noqa: PLC0415  -- only the serving commands need the server

    settings = _settings()
    _require_free_port(host=host, port=port)  # before the key: a refused run leaves none behind
    _migrate(settings)
    with _session(settings) as session:
        loaded = load_demo(session=session, context=clock_context(settings))
        revoked = _revoke_earlier_demo_keys(session=session)
        _, raw_key = create_api_key(
            session=session,
            name=f"{DEMO_KEY_PREFIX}{secrets.token_hex(3)}",
            role=Role.ADMIN,
            partnership_codes=None,
        )
    url = f"http://{host}:{port}"
    database = normalise_database_url(settings.database_url).render_as_string(hide_password=True)
    earlier = f"; {revoked} earlier demo key(s) revoked" if revoked else ""
    typer.echo(f"demo data: {loaded.cases_created} new case(s) in {database}")
    typer.echo(f"review-engine is starting at {url} (API docs at {url}/docs)")
    typer.echo(f"an admin key for this demo (shown once{earlier}):")
    typer.echo(f"  export KEY={raw_key}")
    typer.echo(f'  curl -H "Authorization: Bearer $KEY" {url}/cases')
    uvicorn.run("review_engine.app:served_app", factory=True, host=host, port=port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (then recompute the stored deadline rows, if any ran)."""
    _migrate(_settings())
    typer.echo("database is at the latest migration")


@db_app.command("refresh-deadlines")
def db_refresh_deadlines() -> None:
    """Recompute every case's stored deadline rows (after a calendar or closure-day change)."""
    settings = _settings()
    with _session(settings) as session:
        count = refresh_stored_deadlines(session=session, context=clock_context(settings))
    typer.echo(f"recomputed the stored deadlines of {count} case(s)")


@db_app.command("purge-idempotency")
def db_purge_idempotency() -> None:
    """Delete idempotency records past their 24-hour expiry (safe to run from cron)."""
    with _session(_settings()) as session:
        count = purge_expired_records(session=session)
    typer.echo(f"deleted {count} expired idempotency record(s)")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(metavar="NAME", help="Unique name, e.g. the client system.")],
    role: Annotated[
        Role,
        typer.Option(metavar=f"[{'|'.join(Role)}]", help="What the key may do."),
    ],
    partnership: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CODE",
            help="Limit the key to this partnership code (repeatable). Default: all.",
        ),
    ] = None,
) -> None:
    """Issue a key. It is printed once, alone on the last line; store it now."""
    with _session(_settings()) as session:
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
    with _session(_settings()) as session:
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
def keys_revoke(
    name: Annotated[str, typer.Option(metavar="NAME", help="The key's name.")],
) -> None:
    """Revoke a key; it is refused from its next request."""
    with _session(_settings()) as session:
        api_key = revoke_api_key(session=session, name=name)
        assert api_key.revoked_at is not None
        typer.echo(f"revoked key {api_key.name!r} at {api_key.revoked_at.isoformat()}")


@partnerships_app.command("create")
def partnerships_create(
    code: Annotated[str, typer.Option(metavar="CODE", help="Lowercase slug, e.g. north-shire.")],
    name: Annotated[str, typer.Option(metavar="NAME", help="Display name.")],
    rapid_review_clock_start: Annotated[
        str,
        typer.Option(
            metavar="[notified|aware]",
            help="When the rapid review clock starts: on the Panel notification, or on awareness.",
        ),
    ] = "notified",
) -> None:
    """Register a partnership."""
    try:
        data = PartnershipCreate.model_validate(
            {"code": code, "name": name, "rapid_review_clock_start": rapid_review_clock_start}
        )
    except ValueError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in getattr(exc, "errors", list)()})
        raise _refuse(f"invalid {', '.join(fields) or 'input'}") from exc
    with _session(_settings()) as session:
        partnership = create_partnership(session=session, data=data)
        typer.echo(f"created partnership {partnership.code!r}")


@partnerships_app.command("list")
def partnerships_list() -> None:
    """List every partnership: code, name, and when its rapid review clock starts."""
    with _session(_settings()) as session:
        partnerships = list_partnerships(session=session, principal=_OPERATOR)
    if not partnerships:
        typer.echo("no partnerships")
        return
    typer.echo("code\tname\trapid_review_clock_start")
    for partnership in partnerships:
        typer.echo(
            f"{partnership.code}\t{partnership.name}\t{partnership.rapid_review_clock_start}"
        )


@openapi_app.command("export")
def openapi_export(
    output: Annotated[Path, typer.Option(metavar="FILE", help="Where to write the JSON.")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document (sorted keys, stable output for diffing in CI)."""
    from review_engine.app import create_app  # noqa: PLC0415  -- keeps CLI start-up light

    document = create_app(_settings().model_copy(update={"docs_enabled": True})).openapi()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")
