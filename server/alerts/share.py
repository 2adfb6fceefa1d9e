"""What an alert may carry out of the mission: the shared view used by CAP and webhooks.

Only alerts of rules marked shareable, never one raised from a restricted version, and only the
rule's name, the categories and highest severity, the time and a position rounded to about a
kilometre. No report id, title, text, contingent or person leaves: the receiver is outside the
read policy, so the shared view names no report at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from ..db.tables import alert_reports, alert_rules, alerts, reports
from .service import iso

POSITION_DECIMALS = 2  # ~1.1 km: enough to act on, too coarse to locate a witness's house


def shareable_clause() -> Any:
    return and_(alert_rules.c.shareable, alerts.c.confidentiality != "restricted")


def shared_views(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    """The shared view of each alert row (rows of ``alerts`` joined with the rule's name)."""
    ids = [r["id"] for r in rows]
    facts: dict[int, dict[str, Any]] = {i: {"categories": set(), "severity": 0} for i in ids}
    for aid, category, severity in conn.execute(
            select(alert_reports.c.alert_id, reports.c.category, reports.c.severity)
            .join(reports, reports.c.id == alert_reports.c.report_id).where(alert_reports.c.alert_id.in_(ids))):
        facts[aid]["categories"].add(category)
        facts[aid]["severity"] = max(facts[aid]["severity"], severity or 0)
    out = []
    for r in rows:
        lat, lon = r["lat"], r["lon"]
        out.append({
            "alert_id": r["id"], "rule": r["rule_name"], "status": r["status"],
            "categories": sorted(facts[r["id"]]["categories"]), "severity": facts[r["id"]]["severity"],
            "event_time": iso(r["event_time"]), "raised_at": iso(r["raised_at"]),
            "lat": round(lat, POSITION_DECIMALS) if lat is not None else None,
            "lon": round(lon, POSITION_DECIMALS) if lon is not None else None,
        })
    return out


def shared_rows(conn: Connection, *, alert_ids: list[int] | None = None, limit: int = 100) -> list[Any]:
    stmt = (select(alerts, alert_rules.c.name.label("rule_name"))
            .join(alert_rules, alert_rules.c.id == alerts.c.rule_id).where(shareable_clause()))
    if alert_ids is not None:
        stmt = stmt.where(alerts.c.id.in_(alert_ids))
    return list(conn.execute(stmt.order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(limit)).mappings())
