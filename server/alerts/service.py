"""Reading alerts as a principal sees them, and the event log every change of an alert goes through.

Every alert change calls ``record_event``: one row in ``alert_events`` (the live stream's
resumable log, whose id is the SSE event id) and one ``alert`` change in the change feed (which
tablets pull). Both carry only the alert's id: what a reader receives is rendered at read time
under the reader's own visibility, never a stored copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from .. import clock, feed
from ..access import Principal
from ..db.tables import (
    alert_actions,
    alert_events,
    alert_reports,
    alert_rules,
    alerts,
    contingents,
    reports,
    users,
)
from ..problems import not_found
from .visibility import visible_alerts

EVENT_TYPES = ("raised", "grown", "escalated", "acknowledged", "action", "closed")


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def record_event(conn: Connection, *, alert_id: int, type_: str, confidentiality: str) -> int:
    """Log one change of an alert for the stream and the tablets' pull; returns the event id."""
    now = clock.now()
    event_id = conn.execute(insert(alert_events).values(alert_id=alert_id, type=type_, created_at=now)
                            .returning(alert_events.c.id)).scalar_one()
    feed.append(conn, kind="alert", payload={"event": type_, "event_id": int(event_id)}, ref=str(alert_id),
                confidentiality=confidentiality)
    return int(event_id)


def record_raised(conn: Connection, raised: Mapping[int, str]) -> dict[int, int]:
    """``record_event(type_="raised")`` for many new alerts (alert id -> confidentiality) in two
    statements; returns alert id -> event id. Events and feed entries follow alert id order."""
    if not raised:
        return {}
    now = clock.now()
    rows = conn.execute(insert(alert_events).returning(alert_events.c.id, alert_events.c.alert_id),
                        [{"alert_id": a, "type": "raised", "created_at": now} for a in sorted(raised)]).all()
    event_ids = {int(r.alert_id): int(r.id) for r in rows}
    feed.append_many(conn, [{"kind": "alert", "payload": {"event": "raised", "event_id": event_ids[a]}, "ref": str(a),
                             "confidentiality": raised[a]} for a in sorted(raised, key=event_ids.__getitem__)])
    return event_ids


def _usernames(conn: Connection, ids: set[int]) -> dict[int, str]:
    ids.discard(None)  # type: ignore[arg-type]
    if not ids:
        return {}
    return dict(conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(ids))).tuples().all())


def alerts_out(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    """Alerts as JSON: rule, status, where and when, their reports' summaries, actions.

    Callers pass only rows the reader may see (``visible_alerts``), so every report named here is
    one the reader may read.
    """
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    named: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for m in conn.execute(
        select(alert_reports.c.alert_id, reports.c.id, reports.c.title, reports.c.category, reports.c.severity,
               reports.c.kind, reports.c.lat, reports.c.lon, reports.c.event_time, contingents.c.code)
        .select_from(alert_reports.join(reports, reports.c.id == alert_reports.c.report_id)
                     .join(contingents, contingents.c.id == reports.c.contingent_id))
        .where(alert_reports.c.alert_id.in_(ids)).order_by(reports.c.event_time, reports.c.id)
    ).mappings():
        named[m["alert_id"]].append({"id": m["id"], "title": m["title"], "kind": m["kind"], "category": m["category"],
                                     "severity": m["severity"], "contingent": m["code"], "lat": m["lat"],
                                     "lon": m["lon"], "event_time": iso(m["event_time"])})
    actions: dict[int, list[Any]] = {i: [] for i in ids}
    action_rows = conn.execute(select(alert_actions).where(alert_actions.c.alert_id.in_(ids))
                               .order_by(alert_actions.c.id)).mappings().all()
    names = _usernames(conn, {a["user_id"] for a in action_rows} | {r["acknowledged_by"] for r in rows}
                       | {r["closed_by"] for r in rows})
    for a in action_rows:
        actions[a["alert_id"]].append({"kind": a["kind"], "text": a["text"], "by": names.get(a["user_id"]),
                                       "at": iso(a["created_at"])})
    out = []
    for r in rows:
        out.append({
            "id": r["id"], "rule": {"id": r["rule_id"], "name": r["rule_name"]}, "status": r["status"],
            "level": r["level"], "confidentiality": r["confidentiality"],
            "where": {"lat": r["lat"], "lon": r["lon"]}, "when": iso(r["event_time"]),
            "raised_at": iso(r["raised_at"]), "trigger": r["trigger_key"].split(":", 1)[0],
            "reports": named[r["id"]],
            "acknowledged": ({"by": names.get(r["acknowledged_by"]), "at": iso(r["acknowledged_at"])}
                             if r["acknowledged_at"] else None),
            "actions": actions[r["id"]],
            "closed": ({"by": names.get(r["closed_by"]), "at": iso(r["closed_at"]), "outcome": r["outcome"]}
                       if r["closed_at"] else None),
        })
    return out


def _base(principal: Principal) -> Any:
    return (select(alerts, alert_rules.c.name.label("rule_name"))
            .select_from(alerts.join(alert_rules, alert_rules.c.id == alerts.c.rule_id))
            .where(visible_alerts(principal)))


def list_alerts(conn: Connection, principal: Principal, *, status: list[str] | None = None,
                rule_id: int | None = None, since: datetime | None = None, limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    """The alerts the caller may see, newest first, with the total for paging."""
    stmt = _base(principal)
    if status:
        stmt = stmt.where(alerts.c.status.in_(status))
    if rule_id is not None:
        stmt = stmt.where(alerts.c.rule_id == rule_id)
    if since is not None:
        stmt = stmt.where(alerts.c.raised_at >= since)
    total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = conn.execute(stmt.order_by(alerts.c.raised_at.desc(), alerts.c.id.desc())
                        .limit(limit).offset(offset)).mappings().all()
    return {"items": alerts_out(conn, list(rows)), "total": int(total), "limit": limit, "offset": offset}


def visible_rows(conn: Connection, principal: Principal, alert_ids: list[int]) -> list[Any]:
    """Of these alerts, the ones the caller may see, as rows (in id order)."""
    if not alert_ids:
        return []
    return list(conn.execute(_base(principal).where(alerts.c.id.in_(alert_ids)).order_by(alerts.c.id)).mappings())


def get_alert(conn: Connection, principal: Principal, alert_id: int) -> dict[str, Any]:
    """One alert, or 404 if it does not exist or the caller may not see it (the same answer)."""
    rows = visible_rows(conn, principal, [alert_id])
    if not rows:
        raise not_found("alert")
    return alerts_out(conn, rows)[0]
