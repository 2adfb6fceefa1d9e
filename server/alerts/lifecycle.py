"""An alert's lifecycle and escalation: new -> acknowledged -> in_response (actions) -> closed.

Every step is taken by someone who may see the alert (else it is a 404, as for reading it), is
audited, and goes through ``service.record_event`` so the live stream and tablets learn of it.
Escalation runs on the server clock (``clock.now``, moved by tests): an alert still ``new``
``after_minutes`` after it was raised is addressed to the ladder's next audience. Only stored
facts decide (when it was raised, which level it reached), so a restart loses no escalation; the
worker calls ``escalate_due`` every few seconds and readers call it before reading.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .. import clock, feed
from ..access import Principal
from ..audit.service import record
from ..db.tables import alert_actions, alert_rules, alerts
from ..problems import Code, Problem
from .raising import add_recipients
from .service import get_alert, record_event, visible_rows


def _visible(conn: Connection, principal: Principal, alert_id: int) -> Any:
    get_alert(conn, principal, alert_id)  # 404 unless the caller may see it
    return visible_rows(conn, principal, [alert_id])[0]


def _audit(conn: Connection, principal: Principal, action: str, alert_id: int, detail: dict[str, Any]) -> None:
    record(conn, action=action, actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=str(alert_id), detail=detail)


def acknowledge(conn: Connection, principal: Principal, *, alert_id: int) -> dict[str, Any]:
    """Someone has seen it: stops escalation."""
    feed.take_write_lock(conn)  # two people acknowledging at once: one wins, the other gets a 409
    row = _visible(conn, principal, alert_id)
    if row["status"] != "new":
        raise Problem(Code.CONFLICT, f"the alert is already {row['status']}", field="status")
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(
        status="acknowledged", acknowledged_by=principal.user_id, acknowledged_at=clock.now()))
    record_event(conn, alert_id=alert_id, type_="acknowledged", confidentiality=row["confidentiality"])
    _audit(conn, principal, "alert_acknowledged", alert_id, {})
    return get_alert(conn, principal, alert_id)


def add_action(conn: Connection, principal: Principal, *, alert_id: int, kind: str, text: str) -> dict[str, Any]:
    """Log a response (patrol tasked, contingent informed, partner notified, note); acknowledges if new."""
    feed.take_write_lock(conn)
    row = _visible(conn, principal, alert_id)
    if row["status"] == "closed":
        raise Problem(Code.CONFLICT, "the alert is closed", field="status")
    now = clock.now()
    conn.execute(insert(alert_actions).values(alert_id=alert_id, kind=kind, text=text, user_id=principal.user_id,
                                              created_at=now))
    values: dict[str, Any] = {"status": "in_response"}
    if row["acknowledged_at"] is None:
        values |= {"acknowledged_by": principal.user_id, "acknowledged_at": now}
    if row["first_action_at"] is None:
        values["first_action_at"] = now
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
    record_event(conn, alert_id=alert_id, type_="action", confidentiality=row["confidentiality"])
    _audit(conn, principal, "alert_action", alert_id, {"kind": kind})
    return get_alert(conn, principal, alert_id)


def close(conn: Connection, principal: Principal, *, alert_id: int, outcome: str) -> dict[str, Any]:
    """Close with an outcome; nothing more can be logged on it."""
    feed.take_write_lock(conn)
    row = _visible(conn, principal, alert_id)
    if row["status"] == "closed":
        raise Problem(Code.CONFLICT, "the alert is already closed", field="status")
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(
        status="closed", closed_by=principal.user_id, closed_at=clock.now(), outcome=outcome))
    record_event(conn, alert_id=alert_id, type_="closed", confidentiality=row["confidentiality"])
    _audit(conn, principal, "alert_closed", alert_id, {})
    return get_alert(conn, principal, alert_id)


def escalation_pending(conn: Connection) -> bool:
    """Whether some unacknowledged alert has reached a ladder step it was not yet escalated to."""
    now = clock.now()
    rows = conn.execute(
        select(alerts.c.level, alerts.c.raised_at, alert_rules.c.escalation)
        .join(alert_rules, alert_rules.c.id == alerts.c.rule_id).where(alerts.c.status == "new")).all()
    for level, raised_at, ladder in rows:
        if len(ladder or []) > level and now >= raised_at + timedelta(minutes=ladder[level]["after_minutes"]):
            return True
    return False


def escalate_due(conn: Connection) -> int:
    """Address every unacknowledged alert to the ladder steps its age has reached; returns how many moved."""
    feed.take_write_lock(conn)
    now = clock.now()
    rows = conn.execute(
        select(alerts.c.id, alerts.c.level, alerts.c.raised_at, alerts.c.confidentiality, alert_rules.c.escalation)
        .join(alert_rules, alert_rules.c.id == alerts.c.rule_id)
        .where(alerts.c.status == "new")).mappings().all()
    moved = 0
    for row in rows:
        ladder = row["escalation"] or []
        reached = sum(1 for step in ladder if now >= row["raised_at"] + timedelta(minutes=step["after_minutes"]))
        if reached <= row["level"]:
            continue
        for level in range(row["level"], reached):
            add_recipients(conn, alert_id=row["id"], audience=ladder[level], level=level + 1)
        conn.execute(update(alerts).where(alerts.c.id == row["id"]).values(level=reached))
        record_event(conn, alert_id=row["id"], type_="escalated", confidentiality=row["confidentiality"])
        moved += 1
    return moved
