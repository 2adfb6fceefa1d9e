"""Alerts on the tablet: those HQ addressed to this tablet's user, as pulled, and which were read.

The server sends an ``alert`` change each time an alert changes (raised, escalated, acknowledged,
closed...), carrying the alert as the user may see it; the latest one wins here, so the home
screen shows its current status. ``read_at`` is local: opening the banner marks the alert read
on this tablet and nothing is sent back (acknowledging is for HQ's dashboard).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlcipher3

from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.store import Store


def apply_change(conn: sqlcipher3.Connection, change: dict[str, Any], where: str) -> None:
    """Store or refresh one pulled alert (inside the pull page's transaction)."""
    alert = change.get("alert")
    if not isinstance(alert, dict) or not isinstance(alert.get("id"), int):
        raise InvalidInput(f"{where}.alert", "must be an object with an integer id")
    status = alert.get("status")
    if not isinstance(status, str):
        raise InvalidInput(f"{where}.alert.status", "must be a string")
    conn.execute(
        "INSERT INTO alerts (alert_id, status, raised_at, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(alert_id) DO UPDATE SET status = excluded.status, data = excluded.data",
        (alert["id"], status, str(alert.get("raised_at") or ""), json.dumps(alert, ensure_ascii=False)),
    )


def unread(store: Store) -> list[dict[str, Any]]:
    """Open alerts not yet read on this tablet, newest first: what the home screen's banner shows."""
    rows = store.query("SELECT data FROM alerts WHERE read_at IS NULL AND status != 'closed' "
                       "ORDER BY raised_at DESC, alert_id DESC")
    return [json.loads(r[0]) for r in rows]


def mark_read(store: Store, alert_id: int) -> None:
    """The user has seen it: the banner stops showing it (a later change does not bring it back)."""
    with store.transaction() as conn:
        conn.execute("UPDATE alerts SET read_at = ? WHERE alert_id = ? AND read_at IS NULL",
                     (datetime.now(UTC).isoformat(), alert_id))


def headline(alert: dict[str, Any]) -> str:
    """One line for the banner: the rule and where its reports are."""
    reports = alert.get("reports") or []
    places = ", ".join(sorted({str(r.get("category", "")) for r in reports if r.get("category")}))
    return f"{alert.get('rule', {}).get('name', 'Alert')} ({len(reports)}: {places})" if reports else str(
        alert.get("rule", {}).get("name", "Alert"))
