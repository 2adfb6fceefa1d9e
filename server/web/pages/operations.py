"""The operations view: open alerts live (SSE), a title-bar count, one-click acknowledge, a small map.

The page's script loads the open alerts the visitor may see (``/operations/alerts.json``), then
follows ``/operations/stream``: the API's alert stream (``alerts.stream``) under the dashboard's
session cookie, since a browser's EventSource cannot send a bearer token. Acknowledging posts the
page's CSRF token; every open tab learns of it from its own stream. Beside them, new and changed
reports arrive live too (``/operations/reports/stream``: the change feed read under the read
policy, ``reports.live``), the latest first. Below, the measured response (``alerts.metrics``)
per rule, contingent and week.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from ...alerts import lifecycle, metrics, service, stream
from ...alerts.worker import current_alerts
from ...deps import ReadConn
from ...input_checks import Id64
from ...reports import live
from ...reports.filters import ReportFilters
from ...reports.service import list_reports
from ..i18n import request_language
from ..render import category_label, page
from ..services import WriteTx, as_page
from ..session import CSRF, ReaderPage

router = APIRouter(include_in_schema=False)

OPEN = ["new", "acknowledged", "in_response"]


@router.get("/operations", dependencies=[Depends(current_alerts)])
def operations_page(request: Request, conn: ReadConn, me: ReaderPage) -> Response:
    """Live alerts, and the measured response (minutes to acknowledge and to act) per rule, contingent, week."""
    response = {by: metrics.response_times(conn, me, by=by)["items"] for by in ("rule", "contingent", "week")}
    return page(request, "operations.html", me, response=response)


@router.get("/operations/alerts.json", dependencies=[Depends(current_alerts)])
def open_alerts(conn: ReadConn, me: ReaderPage) -> JSONResponse:
    """The open alerts the visitor may see, newest first (the stream keeps them current)."""
    return JSONResponse(service.list_alerts(conn, me, status=OPEN, limit=200))


@router.get("/operations/stream")
async def operations_stream(request: Request, me: ReaderPage,
                            last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """The visitor's alert stream; the browser resumes with Last-Event-ID after a drop."""
    return EventSourceResponse(stream.alert_events_for(request, me, after=stream.parse_last_event_id(last_event_id)),
                               ping=stream.HEARTBEAT_S)


@router.post("/operations/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: Id64, conn: WriteTx, me: ReaderPage, _csrf: CSRF) -> JSONResponse:
    with as_page(me):
        return JSONResponse(lifecycle.acknowledge(conn, me, alert_id=alert_id))


LATEST = 10  # reports shown when the page opens; the stream adds the new ones above


def _labelled(summary: dict[str, Any], lang: str) -> dict[str, Any]:
    return summary | {"category_label": category_label(summary.get("category"), lang)}


@router.get("/operations/reports.json")
def latest_reports(request: Request, conn: ReadConn, me: ReaderPage) -> JSONResponse:
    """The latest reports the visitor may read (as the reports list shows them), newest received first."""
    lang = request_language(request)
    items = list_reports(conn, me, ReportFilters(), cursor=None, limit=LATEST, sort="-received_at")["items"]
    return JSONResponse({"items": [_labelled(i, lang) for i in items]})


async def _report_events(request: Request, me: Any, after: int | None) -> AsyncIterator[dict[str, Any]]:
    engine = request.app.state.engine
    lang = request_language(request)
    deadline = time.monotonic() + request.app.state.settings.alert_stream_max_s
    limiter = stream._limiter()
    cursor = after if after is not None else await anyio.to_thread.run_sync(live.current_seq, engine,
                                                                            limiter=limiter)
    yield {"event": "ready", "id": str(cursor), "data": "{}"}
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        found, cursor = await anyio.to_thread.run_sync(live.reports_after, engine, me, cursor, limiter=limiter)
        for seq, summary in found:
            yield {"event": "report", "id": str(seq), "data": orjson.dumps(_labelled(summary, lang)).decode()}
        if not found:
            await asyncio.sleep(stream.POLL_S)


@router.get("/operations/reports/stream")
async def reports_stream(request: Request, me: ReaderPage,
                         last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """New and changed reports the visitor may read, live; the browser resumes with Last-Event-ID."""
    return EventSourceResponse(_report_events(request, me, stream.parse_last_event_id(last_event_id)),
                               ping=stream.HEARTBEAT_S)
