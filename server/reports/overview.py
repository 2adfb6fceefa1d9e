"""The overview an HQ analyst or a commander opens first: what is new, what is critical, what waits.

Every figure is computed over the reports the principal may read (the access policy's
``visible_clause``), so a commander's overview counts only what the commander may open, and each
figure comes with the filters (``ReportFilters`` fields) that list exactly the reports behind it.

Figures: reports received since the user's last visit (by server receipt, so thirty reports synced
after four days offline are new, whatever their event time); critical reports (severity >= 4) and
casualty totals over the last 24 hours and 7 days (by event time); the review backlog by age;
the last contact of each contingent's tablets; and weekly trends by category and by contingent
with casualties over the last twelve weeks.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ..access import HQ_ROLES, Principal, visible_clause
from ..db.tables import contingents, devices, reports, users

__all__ = ["CRITICAL_SEVERITY", "TREND_WEEKS", "Figure", "overview"]

CRITICAL_SEVERITY = 4
TREND_WEEKS = 12
CASUALTY_KEYS = ("killed", "injured", "abducted", "displaced")
# Backlog buckets by time since receipt: (label msgid, from hours, until hours or None).
BACKLOG_AGES: tuple[tuple[str, int, int | None], ...] = (
    ("under 24 h", 0, 24), ("1 to 3 days", 24, 72), ("3 to 7 days", 72, 168), ("over 7 days", 168, None),
)


@dataclass
class Figure:
    """One number on the page and the report-list filters that show the reports behind it."""

    value: int
    filters: dict[str, Any] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def overview(conn: Connection, principal: Principal, *, now: datetime, since: datetime) -> dict[str, Any]:
    """Every figure of the overview page for ``principal`` (see the module docstring)."""
    visible = visible_clause(principal, reports)
    r = reports.c

    def count(*where: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(reports).where(visible, *where)).scalar_one())

    new = Figure(count(r.received_at >= since), {"received_start": _iso(since)})

    critical: dict[str, dict[str, Any]] = {}
    for label, hours in (("24h", 24), ("7d", 168)):
        start = now - timedelta(hours=hours)
        rows = conn.execute(select(r.severity, r.body).where(visible, r.event_time >= start, r.event_time <= now,
                                                             r.kind != "patrol")).all()
        totals = Counter[str]()
        for row in rows:
            for key in CASUALTY_KEYS:
                value = ((row.body or {}).get("casualties") or {}).get(key)
                if isinstance(value, int):
                    totals[key] += value
        critical[label] = {
            "critical": Figure(sum(1 for row in rows if row.severity >= CRITICAL_SEVERITY),
                               {"start": _iso(start), "severity_min": CRITICAL_SEVERITY}),
            "all": Figure(len(rows), {"start": _iso(start)}),
            "casualties": {key: totals.get(key, 0) for key in CASUALTY_KEYS},
        }

    backlog = []
    for label, low, high in BACKLOG_AGES:
        where = [r.review_status == "unreviewed", r.received_at <= now - timedelta(hours=low)]
        filters: dict[str, Any] = {"review_status": "unreviewed", "received_end": _iso(now - timedelta(hours=low))}
        if high is not None:
            where.append(r.received_at > now - timedelta(hours=high))
            filters["received_start"] = _iso(now - timedelta(hours=high))
        backlog.append((label, Figure(count(*where), filters)))

    return {
        "since": since,
        "new": new,
        "critical": critical,
        "backlog": backlog,
        "freshness": _freshness(conn, principal, now=now),
        "trends": _trends(conn, visible, now=now),
    }


def _freshness(conn: Connection, principal: Principal, *, now: datetime) -> list[dict[str, Any]]:
    """Per contingent (a commander: their own only): tablets, the last contact of any, the oldest."""
    stmt = (select(contingents.c.code, func.count(devices.c.id), func.max(devices.c.last_seen_at),
                   func.min(devices.c.last_seen_at))
            .select_from(devices.join(users, users.c.id == devices.c.user_id)
                         .join(contingents, contingents.c.id == users.c.contingent_id))
            .where(devices.c.revoked_at.is_(None))
            .group_by(contingents.c.code).order_by(contingents.c.code))
    if principal.role not in HQ_ROLES:
        stmt = stmt.where(contingents.c.id == principal.contingent_id)
    out = []
    for code, tablets, latest, oldest in conn.execute(stmt):
        out.append({"contingent": code, "tablets": tablets, "latest": latest, "oldest": oldest,
                    "stale": latest is None or now - latest > timedelta(days=2)})
    return out


def _trends(conn: Connection, visible: Any, *, now: datetime) -> dict[str, Any]:
    """Incidents per week by category and by contingent, and casualties per week (oldest week first)."""
    first = _week_start(now) - timedelta(weeks=TREND_WEEKS - 1)
    weeks = [first + timedelta(weeks=i) for i in range(TREND_WEEKS)]
    r = reports.c
    rows = conn.execute(
        select(r.event_time, r.category, contingents.c.code, r.body)
        .select_from(reports.join(contingents, contingents.c.id == r.contingent_id))
        .where(visible, r.event_time >= first, r.event_time <= now, r.kind != "patrol")
    ).all()
    by_category: dict[str, Counter[int]] = defaultdict(Counter)
    by_contingent: dict[str, Counter[int]] = defaultdict(Counter)
    casualties: dict[str, Counter[int]] = {key: Counter() for key in ("killed", "injured")}
    for event_time, category, contingent, body in rows:
        week = min((event_time - first).days // 7, TREND_WEEKS - 1)
        by_category[category][week] += 1
        by_contingent[contingent][week] += 1
        for key in casualties:
            value = ((body or {}).get("casualties") or {}).get(key)
            if isinstance(value, int):
                casualties[key][week] += value
    totals = [sum(c[i] for c in by_category.values()) for i in range(TREND_WEEKS)]
    return {
        "weeks": weeks,
        "totals": totals,
        # Largest first, then by code: a stable order for the legend and the stacks.
        "by_category": sorted(((code, [c[i] for i in range(TREND_WEEKS)]) for code, c in by_category.items()),
                              key=lambda item: (-sum(item[1]), item[0])),
        "by_contingent": sorted(((code, [c[i] for i in range(TREND_WEEKS)]) for code, c in by_contingent.items()),
                                key=lambda item: (-sum(item[1]), item[0])),
        "casualties": {key: [c[i] for i in range(TREND_WEEKS)] for key, c in casualties.items()},
    }
