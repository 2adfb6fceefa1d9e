"""Routes: SMS intake for gateways, the triage queue and its decisions, the hotline log, place
candidates and alternate spellings. Thin: each calls one service function.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from ..access import Permission
from ..deps import Admin, Public, ReadConn, SettingsDep, WriteConn, require
from ..input_checks import INT64_MAX, Id64
from . import duplicates, gazetteer, intake, service
from .models import AliasIn, ConfirmIn, DismissIn, HotlineIn, LinkIn
from .protection import mission_key

router = APIRouter(tags=["community"])
Community = Annotated[Any, Depends(require(Permission.COMMUNITY))]


def get_key(request: Request) -> bytes:
    """The mission key, read once per app."""
    key = getattr(request.app.state, "mission_key", None)
    if key is None:
        key = request.app.state.mission_key = mission_key(request.app.state.settings)
    return key


Key = Annotated[bytes, Depends(get_key)]


async def raw_body(request: Request) -> bytes:
    return await request.body()


def wake_workers(request: Request, names: tuple[str, ...] = ("reply_worker", "alert_worker")) -> None:
    """After the commit: send replies now, raise alerts for a confirmed alert's report now."""
    for name in names:
        worker = getattr(request.app.state, name, None)
        if worker is not None:
            worker.poke()


@router.post("/community/sms", status_code=202)
def receive_sms(request: Request, background: BackgroundTasks, conn: WriteConn, _: Public, key: Key,
                settings: SettingsDep, body: Annotated[bytes, Depends(raw_body)],
                x_peacewatch_gateway: Annotated[str | None, Header()] = None,
                x_peacewatch_signature: Annotated[str | None, Header()] = None) -> JSONResponse:
    """An SMS from a registered gateway, signed with its secret (``X-Peacewatch-Signature: sha256=<hex>``).

    Body: ``{"from", "text", "message_id", "received_at"}`` (or a RapidPro form / Android-gateway
    webhook, see docs/community-alerts.md). 202 ``stored`` or ``throttled``; 200 ``duplicate``.
    """
    gateway = intake.authenticate_gateway(conn, key=key, name=x_peacewatch_gateway, body=body,
                                          signature=x_peacewatch_signature)
    message = intake.normalise(body, request.headers.get("content-type", "application/json"))
    out = intake.receive_sms(conn, key=key, gateway=gateway, message=message,
                             per_hour=settings.sms_per_number_per_hour)
    if out.get("reply_queued"):
        # Intake writes nothing to the change feed, so only the reply sender has work.
        background.add_task(wake_workers, request, ("reply_worker",))
    return JSONResponse(out, status_code=200 if out["status"] == "duplicate" else 202)


@router.get("/community/alerts")
def list_alerts(conn: ReadConn, me: Community, status: str | None = Query("triage", max_length=16),
                limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=INT64_MAX)) -> dict:
    """The triage queue (``status=triage``) or alerts of another status; no caller identity."""
    return service.list_alerts(conn, me, status=status or None, limit=limit, offset=offset)


@router.post("/community/alerts", status_code=201)
def log_call(body: HotlineIn, request: Request, background: BackgroundTasks, conn: WriteConn, me: Community,
             key: Key) -> dict:
    """The hotline log: a call as a community alert (confirmed at once when place and category are given)."""
    out = service.log_call(conn, me, key=key, **body.model_dump())
    background.add_task(wake_workers, request)
    return out


@router.get("/community/alerts/{alert_id}")
def get_alert(alert_id: Id64, conn: WriteConn, me: Community, key: Key) -> dict:
    """One alert, its replies and possible duplicates; the caller's identity for liaison and protection (audited)."""
    out = service.get_alert(conn, me, alert_id, key=key)
    out["possible_duplicates"] = duplicates.possible_duplicates(conn, me, service._row(conn, me, alert_id))
    return out


@router.post("/community/alerts/{alert_id}/confirm")
def confirm(alert_id: Id64, body: ConfirmIn, request: Request, background: BackgroundTasks, conn: WriteConn,
            me: Community, key: Key) -> dict:
    """Confirm place and category: the alert's report enters the early-warning pipeline."""
    out = service.confirm(conn, me, key=key, alert_id=alert_id, **body.model_dump())
    background.add_task(wake_workers, request)
    return out


@router.post("/community/alerts/{alert_id}/link")
def link(alert_id: Id64, body: LinkIn, request: Request, background: BackgroundTasks, conn: WriteConn,
         me: Community, key: Key) -> dict:
    """Attach to an existing report or consolidated incident; the sender is told the mission responds."""
    out = service.link(conn, me, key=key, alert_id=alert_id, **body.model_dump())
    background.add_task(wake_workers, request)
    return out


@router.post("/community/alerts/{alert_id}/dismiss")
def dismiss(alert_id: Id64, body: DismissIn, request: Request, background: BackgroundTasks, conn: WriteConn,
            me: Community, key: Key) -> dict:
    """Dismiss with a reason; the sender is told the alert was reviewed."""
    out = service.dismiss(conn, me, key=key, alert_id=alert_id, reason=body.reason)
    background.add_task(wake_workers, request)
    return out


@router.get("/community/places")
def places(conn: ReadConn, me: Community, q: str = Query(..., min_length=1, max_length=200)) -> dict:
    """Gazetteer candidates for a place as typed, with scores (best 3)."""
    return {"items": service.place_candidates(conn, me, text=q)}


@router.post("/community/places/{place_id}/aliases", status_code=201)
def add_alias(place_id: str, body: AliasIn, conn: WriteConn, me: Admin) -> dict:
    """An alternate spelling of a gazetteer place, matched from now on."""
    return gazetteer.add_alias(conn, me, place_id=place_id, name=body.name)
