"""Routes: alert rules (CRUD), alerts (list, read, acknowledge, actions, close), the live stream,
the CAP feed, response metrics and webhook endpoints with their delivery log.

Thin: each route calls one service function; readers first catch alerts up (``current_alerts``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse

from ..deps import Admin, AlertRuleManager, Exporter, ReadConn, Reader, WriteConn
from ..input_checks import INT64_MAX, Id64, UtcDateTime
from . import cap, lifecycle, metrics, rules, service, stream, webhooks
from .models import (
    ActionIn,
    AlertOut,
    AlertPage,
    AlertStatus,
    CloseIn,
    Deleted,
    DeliveryList,
    ResponseTimes,
    RuleIn,
    RuleList,
    RuleOut,
    WebhookIn,
    WebhookList,
    WebhookOut,
)
from .worker import current_alerts

router = APIRouter(tags=["alerts"])
Current = [Depends(current_alerts)]


# -- rules ----------------------------------------------------------------------------------------
@router.get("/alert-rules", response_model=RuleList)
def list_rules(conn: ReadConn, me: AlertRuleManager) -> dict:
    """Every alert rule: conditions, audience, escalation ladder, shareable."""
    return rules.list_rules(conn)


@router.post("/alert-rules", status_code=201, response_model=RuleOut)
def create_rule(rule: RuleIn, conn: WriteConn, me: AlertRuleManager) -> dict:
    """A new rule; it applies to versions stored from now on."""
    return rules.create_rule(conn, me, rule=rule)


@router.put("/alert-rules/{rule_id}", response_model=RuleOut)
def replace_rule(rule_id: Id64, rule: RuleIn, conn: WriteConn, me: AlertRuleManager) -> dict:
    """Replace a rule's definition (alerts already raised keep their audience)."""
    return rules.replace_rule(conn, me, rule_id=rule_id, rule=rule)


@router.delete("/alert-rules/{rule_id}", response_model=Deleted)
def delete_rule(rule_id: Id64, conn: WriteConn, me: AlertRuleManager) -> dict:
    """Stop a rule raising alerts; its alerts stay."""
    return rules.delete_rule(conn, me, rule_id=rule_id)


# -- alerts ---------------------------------------------------------------------------------------
@router.get("/alerts", dependencies=Current, response_model=AlertPage)
def list_alerts(conn: ReadConn, me: Reader, status: Annotated[list[AlertStatus] | None, Query()] = None,
                rule_id: int | None = Query(None, ge=1, le=INT64_MAX), since: UtcDateTime | None = None,
                limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=INT64_MAX)) -> dict:
    """Alerts addressed to you whose every report you may read, newest first."""
    return service.list_alerts(conn, me, status=status, rule_id=rule_id, since=since, limit=limit, offset=offset)


@router.get("/alerts/stream", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def alert_stream(request: Request, me: Reader,
                       last_event_id: Annotated[str | None, Header()] = None,
                       after: int | None = Query(None, ge=0, le=INT64_MAX, description="Resume after this event id "
                                                                         "(as Last-Event-ID)")) -> EventSourceResponse:
    """Server-Sent Events: every change of an alert you may see; resume with Last-Event-ID; heartbeats."""
    start = stream.parse_last_event_id(last_event_id)
    return EventSourceResponse(stream.alert_events_for(request, me, after=start if start is not None else after),
                               ping=stream.HEARTBEAT_S)


@router.get("/alerts/cap", dependencies=Current, response_class=Response,
            responses={200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}}})
def cap_feed(conn: ReadConn, me: Exporter, limit: int = Query(100, ge=1, le=500)) -> Response:
    """Atom feed of CAP 1.2 alerts: shareable rules only, what the rule lets leave the mission."""
    return Response(cap.feed(conn, me, limit=limit), media_type="application/atom+xml")


@router.get("/alerts/metrics", dependencies=Current, response_model=ResponseTimes)
def response_metrics(conn: ReadConn, me: Reader, by: metrics.GroupBy = "rule",
                     since: UtcDateTime | None = None) -> dict:
    """Minutes from raising to acknowledgement and to first action, per rule, contingent or week."""
    return metrics.response_times(conn, me, by=by, since=since)


@router.get("/alerts/{alert_id}", dependencies=Current, response_model=AlertOut)
def get_alert(alert_id: Id64, conn: ReadConn, me: Reader) -> dict:
    """One alert with its reports, acknowledgement, actions and outcome."""
    return service.get_alert(conn, me, alert_id)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: Id64, conn: WriteConn, me: Reader) -> dict:
    """You have seen it: escalation stops."""
    return lifecycle.acknowledge(conn, me, alert_id=alert_id)


@router.post("/alerts/{alert_id}/actions", status_code=201, response_model=AlertOut)
def add_action(alert_id: Id64, action: ActionIn, conn: WriteConn, me: Reader) -> dict:
    """Log a response: patrol tasked, contingent informed, partner notified, or a note."""
    return lifecycle.add_action(conn, me, alert_id=alert_id, kind=action.kind, text=action.text)


@router.post("/alerts/{alert_id}/close", response_model=AlertOut)
def close(alert_id: Id64, body: CloseIn, conn: WriteConn, me: Reader) -> dict:
    """Close with an outcome."""
    return lifecycle.close(conn, me, alert_id=alert_id, outcome=body.outcome)


# -- webhooks (administrators) --------------------------------------------------------------------
@router.get("/alert-webhooks", response_model=WebhookList)
def list_webhooks(conn: ReadConn, me: Admin) -> dict:
    """Partner endpoints receiving shareable alerts (secrets are never shown)."""
    return webhooks.list_endpoints(conn)


@router.post("/alert-webhooks", status_code=201, response_model=WebhookOut)
def create_webhook(body: WebhookIn, conn: WriteConn, me: Admin) -> dict:
    """Add an endpoint; deliveries are signed with its secret (HMAC-SHA256)."""
    return webhooks.create_endpoint(conn, url=str(body.url), secret=body.secret)


@router.delete("/alert-webhooks/{endpoint_id}", response_model=Deleted)
def delete_webhook(endpoint_id: Id64, conn: WriteConn, me: Admin) -> dict:
    """Stop sending to an endpoint; its delivery log stays."""
    return webhooks.deactivate_endpoint(conn, endpoint_id=endpoint_id)


@router.get("/alert-webhooks/deliveries", response_model=DeliveryList)
def webhook_deliveries(conn: ReadConn, me: Admin, endpoint_id: int | None = Query(None, ge=1, le=INT64_MAX),
                       limit: int = Query(100, ge=1, le=1000)) -> dict:
    """The delivery log: attempts, last status, delivered or pending, newest first."""
    return webhooks.deliveries(conn, endpoint_id=endpoint_id, limit=limit)


