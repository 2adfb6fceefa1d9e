"""Measured response: minutes from an alert being raised to its acknowledgement and to its first
action, per rule, contingent or ISO week, over the alerts the caller may see.

Medians and 90th percentiles (nearest rank) over the alerts that were acknowledged / acted on;
``open`` counts those still waiting. An alert naming reports of several contingents counts once
for each of them.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from ..access import Principal
from ..db.tables import alert_reports, alert_rules, alerts, contingents, reports
from .visibility import visible_alerts

GroupBy = Literal["rule", "contingent", "week"]


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)], 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def response_times(conn: Connection, principal: Principal, *, by: GroupBy = "rule",
                   since: datetime | None = None) -> dict[str, Any]:
    stmt = (select(alerts.c.id, alerts.c.raised_at, alerts.c.acknowledged_at, alerts.c.first_action_at,
                   alert_rules.c.name)
            .join(alert_rules, alert_rules.c.id == alerts.c.rule_id).where(visible_alerts(principal)))
    if since is not None:
        stmt = stmt.where(alerts.c.raised_at >= since)
    rows = conn.execute(stmt).all()
    keys: dict[int, list[str]] = {}
    if by == "contingent" and rows:
        for aid, code in conn.execute(
                select(alert_reports.c.alert_id, contingents.c.code).distinct()
                .join(reports, reports.c.id == alert_reports.c.report_id)
                .join(contingents, contingents.c.id == reports.c.contingent_id)
                .where(alert_reports.c.alert_id.in_([r.id for r in rows]))):
            keys.setdefault(aid, []).append(code)
    groups: dict[str, dict[str, list[float] | int]] = {}
    for r in rows:
        if by == "rule":
            names = [r.name]
        elif by == "week":
            year, week, _ = r.raised_at.isocalendar()
            names = [f"{year}-W{week:02d}"]
        else:
            names = sorted(keys.get(r.id, []))
        for name in names:
            g = groups.setdefault(name, {"ack": [], "action": [], "alerts": 0, "open": 0})
            g["alerts"] += 1  # type: ignore[operator]
            if r.acknowledged_at is None:
                g["open"] += 1  # type: ignore[operator]
            else:
                g["ack"].append((r.acknowledged_at - r.raised_at).total_seconds() / 60)  # type: ignore[union-attr]
            if r.first_action_at is not None:
                g["action"].append((r.first_action_at - r.raised_at).total_seconds() / 60)  # type: ignore[union-attr]
    items = [{"group": name, "alerts": g["alerts"], "unacknowledged": g["open"],
              "acknowledge_minutes": {"median": _median(g["ack"]), "p90": _p90(g["ack"])},  # type: ignore[arg-type]
              "first_action_minutes": {"median": _median(g["action"]), "p90": _p90(g["action"])}}  # type: ignore[arg-type]
             for name, g in sorted(groups.items())]
    return {"by": by, "items": items}
