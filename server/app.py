"""The FastAPI application factory: settings, engine, routers, error handlers, middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .alerts.worker import alert_worker
from .api import build_router
from .community.outbox import reply_worker
from .community.protection import mission_key
from .config import Settings
from .db.engine import make_engine
from .feed_consumers import feed_worker
from .hotspots.service import HotspotCache
from .input_checks import refuse_unstorable_text
from .middleware import BodyLimitMiddleware, InFlightLimitMiddleware, SecurityHeadersMiddleware
from .problems import Problem, handle_http, handle_problem, handle_validation
from .sharing.push import push_worker
from .subscriptions import AFTER_PAUSE, SOON

log = logging.getLogger("peacewatch.server")


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # An unreachable database must read as "retry later", not as a crash; disk-full on SQLite too.
    text = str(getattr(exc, "orig", exc)).lower()
    if "disk" in text and "full" in text:
        return JSONResponse({"error": "storage_full", "message": "the server's disk is full; nothing was kept"},
                            status_code=507)
    log.warning("database unavailable: %s", exc)
    return JSONResponse({"error": "database_unavailable",
                         "message": "the mission database cannot be reached; retry later"},
                        status_code=503, headers={"Retry-After": "5"})


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = app.state.engine
    # The feed's consumers that follow it in the background, woken by every commit that appended:
    # at once (alerts), and once pushes pause (duplicate proposals).
    workers = {
        "feed_worker": feed_worker(engine, SOON, name="feed-consumers-soon", quiet_s=settings.alerts_quiet_s,
                                   max_delay_s=settings.alerts_max_delay_s),
        "proposal_worker": feed_worker(engine, AFTER_PAUSE, name="feed-consumers-after-pause",
                                       quiet_s=settings.proposals_quiet_s, max_delay_s=settings.proposals_max_delay_s),
        "alert_worker": alert_worker(engine),
        "reply_worker": reply_worker(engine, mission_key(settings)),
        "push_worker": push_worker(engine, mission_key(settings)),  # partners' sharing endpoints
    }
    for name, worker in workers.items():
        worker.start()
        setattr(app.state, name, worker)
    try:
        yield
    finally:
        for name, worker in reversed(workers.items()):
            setattr(app.state, name, None)
            worker.stop()


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; the caller runs migrations first (``peacewatch server`` does)."""
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="peacewatch mission server",
        version="1.0",
        description="Civilian-protection field reporting: reports, sync, review, duplicates, hotspots, exports.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        # Every route, API and page, refuses path and query text no database can hold.
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    # The background loops, started by the lifespan; without them readers catch up themselves.
    app.state.feed_worker = None
    app.state.proposal_worker = None
    app.state.alert_worker = None
    app.state.reply_worker = None  # replies to community callers; started by the lifespan
    app.state.push_worker = None  # pages pushed to partners' endpoints (sharing/push.py)
    app.state.hotspot_cache = HotspotCache()  # one per app: the API, the dashboard map and PDF exports share it
    app.state.engine = engine or make_engine(settings.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.include_router(build_router())
    app.add_exception_handler(Problem, handle_problem)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)
    # Only "cannot reach or lock the database" reads as retry-later; an integrity error is a bug.
    for exc in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(exc, _database_unavailable)
    if settings.serve_dashboard:
        # Optional, and ~2 s of imports (templates, pages) an API-only server does not pay.
        from .web.app import mount_web

        mount_web(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(InFlightLimitMiddleware, limit=settings.max_requests_in_flight)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
