"""The bare floor: the least a case transition must do, on review-engine's own stack.

    python benchmarks/compare.py                 # serves it beside review-engine, prints ratios
    FLOOR_DATABASE_URL=sqlite:///floor.db \\
        python -m uvicorn --app-dir benchmarks --factory floor:served_floor

FastAPI, SQLModel sessions and the engine from `review_engine.db.create_db_engine` (same
pool, same SQLite pragmas, BEGIN IMMEDIATE for writes and DEFERRED for reads), served by
uvicorn with sync routes (the threadpool), as review-engine is. Two tables: `floor_case`
and `floor_history`. Routes:

- `POST /cases`: insert one row; answer it as JSON with its ETag (201);
- `GET /cases/{id}`: read one row; answer it with its ETag;
- `POST /cases/{id}/events/{event}`: lock the row (`FOR UPDATE` on PostgreSQL), 428 without
  `If-Match`, 412 if it names another version; set the state to the event's name, merge the
  JSON body into the timeline, bump the version, insert one history row, commit, and answer
  with the new ETag;
- `GET /healthz`: no database.

The floor does no authentication, no validation of events or payloads, no deadlines, no
idempotency records and no access logging beyond uvicorn's own: it is what a transition
cannot do without, to compare review-engine against (benchmarks/compare.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Body, FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Column, Engine
from sqlmodel import Field, Session, SQLModel, select

from review_engine.db import SQLITE_BEGIN_OPTION, create_db_engine, utcnow

FLOOR_DATABASE_URL = "FLOOR_DATABASE_URL"


class FloorCase(SQLModel, table=True):
    __tablename__ = "floor_case"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = 1
    state: str = Field(default="referred", max_length=40)
    timeline: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class FloorHistory(SQLModel, table=True):
    __tablename__ = "floor_history"

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    version: int
    event: str = Field(max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    at: datetime = Field(default_factory=utcnow)


def etag(version: int) -> str:
    return f'"v{version}"'


def answer(case: FloorCase, status_code: int = 200) -> JSONResponse:
    body = {
        "id": str(case.id),
        "state": case.state,
        "version": case.version,
        "timeline": case.timeline,
    }
    return JSONResponse(body, status_code=status_code, headers={"ETag": etag(case.version)})


def create_floor_tables(database: str | Engine) -> None:
    """Create the floor's two tables on `database` (a URL or an engine), if missing."""
    engine = create_db_engine(database) if isinstance(database, str) else database
    tables = [SQLModel.metadata.tables[name] for name in ("floor_case", "floor_history")]
    SQLModel.metadata.create_all(engine, tables=tables)
    if engine is not database:
        engine.dispose()


def create_floor_app(database_url: str) -> FastAPI:
    """The floor app on `database_url`, its two tables created if missing."""
    engine = create_db_engine(database_url)
    create_floor_tables(engine)
    reader = engine
    if engine.dialect.name == "sqlite":
        reader = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="floor", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/cases")
    def create_case() -> JSONResponse:
        with Session(engine) as session:
            case = FloorCase()
            session.add(case)
            session.add(FloorHistory(case_id=case.id, version=1, event="create"))
            response = answer(case, status_code=201)  # before the commit expires the row
            session.commit()
            return response

    @app.get("/cases/{case_id}")
    def read_case(case_id: uuid.UUID) -> JSONResponse:
        with Session(reader) as session:
            case = session.get(FloorCase, case_id)
            if case is None:
                raise HTTPException(404, "no such case")
            return answer(case)

    @app.post("/cases/{case_id}/events/{event}")
    def fire_event(
        case_id: uuid.UUID,
        event: str,
        payload: dict[str, Any] = Body(default_factory=dict),  # noqa: B008
        if_match: str | None = Header(default=None),
    ) -> JSONResponse:
        if if_match is None:
            raise HTTPException(428, "If-Match is required")
        with Session(engine) as session:
            query = select(FloorCase).where(FloorCase.id == case_id).with_for_update()
            case = session.exec(query).one_or_none()
            if case is None:
                raise HTTPException(404, "no such case")
            if if_match.strip() != etag(case.version):
                raise HTTPException(
                    412, "the case has changed", headers={"ETag": etag(case.version)}
                )
            case.state = event
            case.timeline = {**case.timeline, **payload}
            case.version += 1
            session.add(case)
            session.add(
                FloorHistory(case_id=case.id, version=case.version, event=event, details=payload)
            )
            response = answer(case)  # as the engine does: no re-read after the commit
            session.commit()
            return response

    return app


def served_floor() -> FastAPI:
    """A uvicorn factory: the floor on the database `FLOOR_DATABASE_URL` names."""
    return create_floor_app(os.environ[FLOOR_DATABASE_URL])
