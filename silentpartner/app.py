"""FastAPI app factory. The lifespan opens the database (and migrates it), shared HTTP clients, the
components each package contributes, and the job worker; routes come from voice/, messaging/,
calendar/ and dashboard/."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from silentpartner import __version__
from silentpartner.access_log import AccessLog
from silentpartner.business import Businesses, load_businesses
from silentpartner.clock import Clock, SystemClock
from silentpartner.http_limits import BodySizeLimit
from silentpartner.logs import configure_logging, log_event
from silentpartner.metrics import Metrics, MetricsScope
from silentpartner.runtime import Component, Runtime, new_http_client
from silentpartner.settings import Settings, get_settings
from silentpartner.store import migrate
from silentpartner.store.db import Database

log = logging.getLogger("silentpartner.app")


def default_components() -> list[Component]:
    """Each package's long-lived parts, started in this order and stopped in reverse."""
    from silentpartner.brains import ChatBrainComponent
    from silentpartner.calendar.registry import CalendarComponent
    from silentpartner.dashboard.component import DashboardComponent
    from silentpartner.messaging.worker import JobWorker
    from silentpartner.store.changes_listener import ChangeListenerComponent
    from silentpartner.voice.realtime.connection import RealtimeComponent
    from silentpartner.voice.recording_files import RecordingFiler
    from silentpartner.voice.sweep import CallSweeper
    from silentpartner.voice.warmup import VoiceComponent

    # The job worker, the call sweeper and the recording filer do nothing when settings.run_jobs is false (they
    # check at start). The filer comes after the sweeper: it files the recordings of calls the sweep closed.
    # The change listener comes first: whatever another instance changes from then on reaches this one.
    return [
        ChangeListenerComponent(),
        CalendarComponent(),
        ChatBrainComponent(),
        JobWorker(),
        VoiceComponent(),
        RealtimeComponent(),
        CallSweeper(),
        RecordingFiler(),
        DashboardComponent(),
    ]


async def open_runtime(
    settings: Settings, businesses: Businesses | None = None, clock: Clock | None = None, migrate_db: bool = True
) -> Runtime:
    db = Database(settings.database_url)
    if migrate_db:
        await migrate.upgrade(db)
    return Runtime(
        settings=settings,
        businesses=businesses or load_businesses(settings),
        db=db,
        http=new_http_client(),
        clock=clock or SystemClock(),
    )


def create_app(
    settings: Settings | None = None,
    *,
    businesses: Businesses | None = None,
    clock: Clock | None = None,
    components: Callable[[], list[Component]] = default_components,
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, businesses, clock)
        app.state.runtime = runtime
        await runtime.start_components(components())
        log_event(
            log,
            "app.started",
            businesses=[b.slug for b in runtime.businesses],
            database="postgresql" if settings.is_postgres else "sqlite",
        )
        try:
            yield
        finally:
            await runtime.close()
            log_event(log, "app.stopped")

    app = FastAPI(
        title="Silent Partner", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.metrics = Metrics()  # this app's own registry: apps sharing a process count apart
    app.add_middleware(MetricsScope, metrics=app.state.metrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)  # outermost: it logs the refusals too

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready for traffic: the database answers and its schema is at the newest migration."""
        runtime: Runtime = app.state.runtime
        db_ok = await runtime.db.ping()
        schema_ok = db_ok and await migrate.is_current(runtime.db)
        ready = db_ok and schema_ok
        body = {"status": "ready" if ready else "unavailable", "database": db_ok, "migrations": schema_ok}
        return JSONResponse(body, status_code=200 if ready else 503)

    for include in _routers():
        include(app)
    return app


def _routers() -> list[Callable[[FastAPI], None]]:
    """Route groups contributed by the packages (voice, messaging, calendar webhooks, dashboard)."""
    from silentpartner import dashboard, metrics_endpoint
    from silentpartner.calendar import webhooks as calcom_webhooks
    from silentpartner.messaging import routes as messaging_routes
    from silentpartner.voice import routes as voice_routes

    return [
        voice_routes.include,
        messaging_routes.register,
        calcom_webhooks.register,
        metrics_endpoint.register,
        dashboard.include,
    ]
