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
from .models import (
    AliasIn,
    AliasOut,
    CommunityAlertDetail,
    CommunityAlertPage,
    ConfirmIn,
    DismissIn,
    HotlineIn,
    LinkIn,
    PlaceCandidates,
    SmsReceived,
)
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


def _decided(request: Request, background: BackgroundTasks, alert: dict[str, Any]) -> dict[str, Any]:
    """A decision's answer; after the commit, replies go out and a confirmed report raises alerts."""
    background.add_task(wake_workers, request)
    return alert


@router.post("/community/sms", status_code=202, response_model=SmsReceived,
             responses={200: {"model": SmsReceived, "description": "A duplicate of a message already stored"}})
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


@router.get("/community/alerts", response_model=CommunityAlertPage)
def list_alerts(conn: ReadConn, me: Community, status: str | None = Query("triage", max_length=16),
                limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=INT64_MAX)) -> dict:
    """The triage queue (``status=triage``) or alerts of another status; no caller identity."""
    return service.list_alerts(conn, me, status=status or None, limit=limit, offset=offset)


@router.post("/community/alerts", status_code=201, response_model=CommunityAlertDetail)
def log_call(body: HotlineIn, request: Request, background: BackgroundTasks, conn: WriteConn, me: Community,
             key: Key) -> dict:
    """The hotline log: a call as a community alert (confirmed at once when place and category are given)."""
    return _decided(request, background, service.log_call(conn, me, key=key, **body.model_dump()))


@router.get("/community/alerts/{alert_id}", response_model=CommunityAlertDetail)
def get_alert(alert_id: Id64, conn: WriteConn, me: Community, key: Key) -> dict:
    """One alert, its replies and possible duplicates; the caller's identity for liaison and protection (audited)."""
    out = service.get_alert(conn, me, alert_id, key=key)
    out["possible_duplicates"] = duplicates.possible_duplicates(conn, me, service._row(conn, me, alert_id))
    return out


@router.post("/community/alerts/{alert_id}/confirm", response_model=CommunityAlertDetail)
def confirm(alert_id: Id64, body: ConfirmIn, request: Request, background: BackgroundTasks, conn: WriteConn,
            me: Community, key: Key) -> dict:
    """Confirm place and category: the alert's report enters the early-warning pipeline."""
    return _decided(request, background, service.confirm(conn, me, key=key, alert_id=alert_id, **body.model_dump()))


@router.post("/community/alerts/{alert_id}/link", response_model=CommunityAlertDetail)
def link(alert_id: Id64, body: LinkIn, request: Request, background: BackgroundTasks, conn: WriteConn,
         me: Community, key: Key) -> dict:
    """Attach to an existing report or consolidated incident; the sender is told the mission responds."""
    return _decided(request, background, service.link(conn, me, key=key, alert_id=alert_id, **body.model_dump()))


@router.post("/community/alerts/{alert_id}/dismiss", response_model=CommunityAlertDetail)
def dismiss(alert_id: Id64, body: DismissIn, request: Request, background: BackgroundTasks, conn: WriteConn,
            me: Community, key: Key) -> dict:
    """Dismiss with a reason; the sender is told the alert was reviewed."""
    return _decided(request, background, service.dismiss(conn, me, key=key, alert_id=alert_id, reason=body.reason))


@router.get("/community/places", response_model=PlaceCandidates)
def places(conn: ReadConn, me: Community, q: str = Query(..., min_length=1, max_length=200)) -> dict:
    """Gazetteer candidates for a place as typed, with scores (best 3)."""
    return {"items": service.place_candidates(conn, me, text=q)}


@router.post("/community/places/{place_id}/aliases", status_code=201, response_model=AliasOut)
def add_alias(place_id: str, body: AliasIn, conn: WriteConn, me: Admin) -> dict:
    """An alternate spelling of a gazetteer place, matched from now on."""
    return gazetteer.add_alias(conn, me, place_id=place_id, name=body.name)
