"""Possible duplicates of a community alert: other community alerts and patrol reports about the
same place, time and category.

Same place is the confirmed place (or, before confirmation, the top candidate) for community
alerts, and a report within ``KM`` of that place; same time is within ``WINDOW`` of the alert's
event time (else its reception); same category is equal or related in the taxonomy, and is not
required when the alert has none yet. Reports are filtered by the read policy in SQL, so a
restricted report the liaison may not read is never named.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from ...common.taxonomy import load_taxonomy
from ..access import Principal
from ..access import visible_clause as report_visible
from ..db.tables import community_alerts, reports
from ..duplicates.service import taxonomy_related
from . import gazetteer
from .service import _iso, visible_clause

WINDOW = timedelta(hours=48)
KM = 10.0
LIMIT = 10


def _place_of(row: Any) -> str | None:
    if row["place_id"]:
        return row["place_id"]
    return row["candidates"][0]["place_id"] if row["candidates"] else None


def possible_duplicates(conn: Connection, principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    """Community alerts and reports that may be about the same event as ``row``."""
    when = row["event_time"] or row["received_at"]
    place_id = _place_of(row)
    related = taxonomy_related(row["category"]) | {row["category"]} if row["category"] else None
    out: dict[str, Any] = {"community_alerts": [], "reports": []}
    if place_id is None:
        return out
    others = conn.execute(
        select(community_alerts).where(
            community_alerts.c.id != row["id"], visible_clause(principal),
            community_alerts.c.status != "throttled",
            community_alerts.c.received_at.between(row["received_at"] - WINDOW, row["received_at"] + WINDOW))
        .order_by(community_alerts.c.received_at.desc()).limit(200)).mappings().all()
    for o in others:
        if _place_of(o) != place_id:
            continue
        if related and o["category"] and o["category"] not in related:
            continue
        out["community_alerts"].append({"id": o["id"], "status": o["status"], "category": o["category"],
                                        "received_at": _iso(o["received_at"]), "text": o["text"][:140]})
        if len(out["community_alerts"]) >= LIMIT:
            break
    place = gazetteer.get_place(conn, place_id)
    dlat = KM / 111.0
    dlon = KM / (111.0 * max(0.01, math.cos(math.radians(place.lat))))
    where = [report_visible(principal, reports), reports.c.event_time.between(when - WINDOW, when + WINDOW),
             reports.c.lat.between(place.lat - dlat, place.lat + dlat),
             reports.c.lon.between(place.lon - dlon, place.lon + dlon)]
    if related:
        where.append(reports.c.category.in_(sorted(related)))
    if row["report_id"]:
        where.append(reports.c.id != row["report_id"])
    taxonomy = load_taxonomy()
    for r in conn.execute(select(reports.c.id, reports.c.title, reports.c.category, reports.c.event_time,
                                 reports.c.incident_id).where(and_(*where))
                          .order_by(reports.c.event_time.desc()).limit(LIMIT)).mappings():
        out["reports"].append({"id": r["id"], "title": r["title"], "category": r["category"],
                               "category_label": taxonomy.label(r["category"], "en"),
                               "event_time": _iso(r["event_time"]), "incident_id": r["incident_id"]})
    return out
