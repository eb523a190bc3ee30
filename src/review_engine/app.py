"""The ASGI application: `create_app()` wires settings, database, errors, middleware, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from review_engine.actions.recommendation_routes import router as recommendations_router
from review_engine.actions.router import router as actions_router
from review_engine.agencies.router import router as agencies_router
from review_engine.alerts.health import AlertsHealth, alerts_health
from review_engine.alerts.router import router as alerts_router
from review_engine.alerts.runner import Scheduler
from review_engine.auth.usage import KeyUsage, KeyUsageWriter
from review_engine.body_limit import MAX_BODY_BYTES, BodySizeLimitMiddleware
from review_engine.calendar_feeds.router import router as calendar_feeds_router
from review_engine.cases.diagram import router as case_diagram_router
from review_engine.cases.event_routes import router as case_events_router
from review_engine.cases.router import router as cases_router
from review_engine.concurrency import RequestSlots
from review_engine.contributions.router import router as contributions_router
from review_engine.db import create_db_engine, database_at_head
from review_engine.errors import (
    ServiceUnavailable,
    install_problem_handlers,
    problem_responses,
)
from review_engine.idempotency import IdempotencyMiddleware
from review_engine.openapi import complete
from review_engine.partnerships.router import router as partnerships_router
from review_engine.publishing.archive_routes import router as archive_router
from review_engine.publishing.router import router as public_router
from review_engine.reports.router import router as reports_router
from review_engine.request_checks import NoStoreMiddleware, check_request
from review_engine.server_errors import ServerErrors
from review_engine.settings import Settings, get_settings

API_TITLE = "Review Engine API"
API_VERSION = "0.1.0"


class Readiness(BaseModel):
    """Ready to serve; and the alert runner's health, for an on-call engineer (it does not
    decide readiness: a stuck runner must not take the API down)."""

    status: Literal["ok"]
    alerts: AlertsHealth


class ReviewEngineAPI(FastAPI):
    """FastAPI, with its OpenAPI document completed as a contract (`review_engine.openapi`)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = complete(super().openapi())
        return self.openapi_schema


def operation_id(route: APIRoute) -> str:
    """Client-friendly operation ids: `partnerships-create_partnership`, not FastAPI's long form."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None, *, run_alerts: bool = False) -> FastAPI:
    """Build the app. The engine is created now and disposed when the lifespan ends. With
    `run_alerts`, the lifespan also runs the alert runner in a background thread."""
    settings = settings or get_settings()
    engine = create_db_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = Scheduler(engine, settings) if run_alerts else None
        if scheduler is not None:
            scheduler.start()
        key_usage_writer = KeyUsageWriter(app.state.key_usage, engine)
        key_usage_writer.start()
        yield
        if scheduler is not None:
            scheduler.stop()
        key_usage_writer.stop()
        engine.dispose()

    app = ReviewEngineAPI(
        dependencies=[Depends(check_request)],
        title=API_TITLE,
        version=API_VERSION,
        summary="Case review workflow for Safeguarding Children Partnerships in England.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.key_usage = KeyUsage()  # each key's last use, stored apart from requests

    install_problem_handlers(app)
    # add_middleware wraps: the last added runs first. The size cap must see the body
    # before the idempotency middleware buffers it.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    # An unexpected exception below gets its 500 here, and the connection stays open.
    app.add_middleware(ServerErrors)
    app.add_middleware(NoStoreMiddleware)
    # Outermost of ours: a request waits here, holding no thread and no connection.
    app.add_middleware(RequestSlots)

    app.include_router(partnerships_router)
    app.include_router(cases_router)
    app.include_router(case_events_router)
    app.include_router(case_diagram_router)
    app.include_router(agencies_router)
    app.include_router(recommendations_router)
    app.include_router(actions_router)
    app.include_router(contributions_router)
    app.include_router(alerts_router)
    app.include_router(archive_router)
    app.include_router(public_router)
    app.include_router(reports_router)
    app.include_router(calendar_feeds_router)

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is serving requests")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: the database answers and is fully migrated; how alerts are doing",
        responses=problem_responses(503),
    )
    def readyz() -> Readiness:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            at_head = database_at_head(engine)
        except SQLAlchemyError as exc:
            raise ServiceUnavailable("The database is not answering.") from exc
        if not at_head:
            raise ServiceUnavailable("The database schema is not at the latest migration.")
        try:
            with Session(engine) as session:
                alerts = alerts_health(session)
        except SQLAlchemyError as exc:
            raise ServiceUnavailable("The database is not answering.") from exc
        return Readiness(status="ok", alerts=alerts)

    return app


def served_app() -> FastAPI:
    """The app `review-engine serve` runs (a uvicorn factory): with the alert runner unless
    REVIEW_ENGINE_SERVE_ALERTS=false."""
    settings = get_settings()
    return create_app(settings, run_alerts=settings.serve_alerts)


__all__ = [
    "API_TITLE",
    "API_VERSION",
    "ReviewEngineAPI",
    "create_app",
    "operation_id",
    "served_app",
]
