"""What the tablet's map shows besides tiles: its own reports by state, places and sensitive sites.

UI-free, read-only. Own reports are placed at the position of their newest version (or, for a
draft, the position typed or taken so far) and carry the state the home screen lists them under,
so the map and the lists never disagree: ``draft``, ``waiting`` (in the outbox), ``sent``,
``updated`` (HQ changed something not yet looked at) and ``rejected``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from peacewatch.mobile.core.reference import _COLUMNS, Place, _place
from peacewatch.mobile.core.store import Store

STATES = ("draft", "waiting", "sent", "updated", "rejected")


@dataclass(frozen=True)
class Marker:
    report_id: str
    state: str
    lat: float
    lon: float
    title: str


def _position(location: Any) -> tuple[float, float] | None:
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("lat"), location.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and -90 <= lat <= 90 and -180 <= lon <= 180:
        return float(lat), float(lon)
    return None


def report_markers(store: Store) -> list[Marker]:
    """Every own report and draft that has a position, with its list state."""
    out: list[Marker] = []
    drafted: set[str] = set()
    for report_id, fields in store.query("SELECT report_id, fields FROM drafts"):
        data = json.loads(fields)
        pos = _position(data.get("location"))
        drafted.add(report_id)
        if pos:
            out.append(Marker(report_id, "draft", pos[0], pos[1], str(data.get("title") or "")))
    rows = store.query(
        "SELECT r.report_id, r.status, r.hq_updated, r.title, v.body FROM reports r "
        "JOIN versions v ON v.seq = (SELECT max(seq) FROM versions WHERE report_id = r.report_id) "
        # Own reports only: one this tablet wrote a version of (reports pulled from others are not
        # the patrol's to track here).
        "WHERE EXISTS (SELECT 1 FROM versions o WHERE o.report_id = r.report_id AND o.origin = 'local')")
    for report_id, status, hq_updated, title, body in rows:
        if report_id in drafted:
            continue  # being edited: the draft's position is the one the user is working on
        pos = _position(json.loads(body).get("location"))
        if pos is None:
            continue
        state = "updated" if hq_updated else status if status in STATES else "sent"
        out.append(Marker(report_id, state, pos[0], pos[1], str(title or "")))
    return out


def places(store: Store) -> list[Place]:
    """Place names and sensitive sites pulled from HQ's reference data."""
    # The reference module's own row shape, so a Place reads the same everywhere.
    return [_place(row) for row in store.query(f"SELECT {_COLUMNS} FROM places p ORDER BY p.sensitive, p.place_id")]
