"""Alerts in the tablets' pull: the feed's ``alert`` changes a principal may receive, and their content.

Every alert change (raised, escalated, acknowledged, ...) is one ``alert`` change in the feed whose
``ref`` is the alert id. A puller receives it only if the alert, as it stands now, is addressed to
them and names only reports they may read (``visible_alerts``), and the change carries the alert
as they see it now: the tablet shows the latest state, whichever of its changes it pulls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, String, and_, cast, exists, select

from ..access import Principal
from ..db.tables import alerts, changes
from .service import alerts_out, visible_rows
from .visibility import visible_alerts


def feed_clause(principal: Principal) -> ColumnElement[bool]:
    """SQL on ``changes``: the alert changes this principal may pull."""
    return and_(changes.c.kind == "alert",
                exists(select(alerts.c.id).where(cast(alerts.c.id, String) == changes.c.ref,
                                                 visible_alerts(principal))))


def rendered(conn: Connection, principal: Principal, refs: list[str]) -> dict[str, dict[str, Any]]:
    """The alerts named by these feed refs, as the principal sees them, by ref."""
    ids = sorted({int(r) for r in refs if r and r.isdigit()})
    return {str(a["id"]): a for a in alerts_out(conn, visible_rows(conn, principal, ids))}
