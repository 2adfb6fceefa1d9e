"""The operations view: open alerts live (SSE), a title-bar count, one-click acknowledge, a small map.

The page's script loads the open alerts the visitor may see (``/operations/alerts.json``), then
follows ``/operations/stream``: the API's alert stream (``alerts.stream``) under the dashboard's
session cookie, since a browser's EventSource cannot send a bearer token. Acknowledging posts the
page's CSRF token; every open tab learns of it from its own stream. Below, the measured response
(``alerts.metrics``) per rule, contingent and week.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from ...alerts import lifecycle, metrics, service, stream
from ...alerts.worker import current_alerts
from ...deps import ReadConn
from ...input_checks import Id64
from ..render import page
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
