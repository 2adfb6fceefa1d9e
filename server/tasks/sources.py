"""One-click tasks: the kind, title and place a task gets from what it was made from.

A coverage gap or hot spot is named by its H3 cell (the map's ``h3`` property) and becomes a
patrol task over that hexagon; an alert, a community alert or a report becomes a task to verify it
at its place. The creator must be able to see the source (else it is "not found", as everywhere).
A task about a report carries its id, so only who may read that report sees the task; a restricted
alert gives no task (make it from the alert's report instead). The task names its
source by id only: no report text, caller or alert content is copied into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import h3
from sqlalchemy import Connection, select

from ..access import Principal
from ..alerts.service import visible_rows
from ..community import gazetteer
from ..community import service as community
from ..db.tables import reports
from ..problems import invalid, not_found
from ..reports.service import load_readable
from .models import Source


@dataclass(frozen=True)
class Filled:
    kind: str = "other"
    title: str = ""
    place: dict[str, Any] | None = None
    report_id: str | None = None
    report: dict[str, Any] | None = None
    cells: list[str] | None = None
    source_ref: str | None = None


def _point(lat: float | None, lon: float | None) -> dict[str, Any] | None:
    return {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None


def _cell(ref: str | None) -> str:
    cell = (ref or "").strip().lower()
    if cell.isdigit():
        cell = h3.int_to_str(int(cell)) if int(cell) < 2**64 else ""
    try:
        ok = bool(cell) and h3.is_valid_cell(cell)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise invalid("source.ref", "an H3 cell id, as the map's h3 property gives it")
    return cell


def fill_from_source(conn: Connection, principal: Principal, source: Source) -> Filled:
    """What a task made from ``source`` defaults to; not found if the creator may not see it."""
    kind, ref = source.kind, source.ref
    if kind == "manual":
        return Filled()
    if ref is None or not ref.strip():
        raise invalid("source.ref", f"name the {kind.replace('_', ' ')}")
    if kind in ("coverage_gap", "hotspot"):
        cell = _cell(ref)
        ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
        place = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        what = "coverage gap" if kind == "coverage_gap" else "hot spot"
        return Filled(kind="patrol", title=f"Patrol the {what}", place=place, cells=[cell], source_ref=cell)
    if not ref.isdigit() and kind in ("alert", "community_alert"):
        raise invalid("source.ref", "an id (a whole number)")
    if kind == "alert":
        rows = visible_rows(conn, principal, [int(ref)]) if int(ref) < 2**63 else []
        if not rows:
            raise not_found(f"alert {ref}")
        a = rows[0]
        if a["confidentiality"] == "restricted":
            # A task has no confidentiality of its own; one about a restricted case is made from
            # the report, so that the report's read policy keeps it with those who may read it.
            raise invalid("source", "this alert is about a restricted case: make the task from its report")
        return Filled(kind="verify", title=f"Verify alert #{a['id']}", place=_point(a["lat"], a["lon"]),
                      source_ref=str(a["id"]))
    if kind == "community_alert":
        row = community.visible_row(conn, principal, int(ref)) if int(ref) < 2**63 else None
        if row is None:
            raise not_found(f"community alert {ref}")
        place = None
        if row["place_id"]:
            p = gazetteer.get_place(conn, row["place_id"])
            place = _point(p.lat, p.lon)
        return Filled(kind="verify", title=f"Verify community alert #{row['id']}", place=place,
                      source_ref=str(row["id"]))
    # kind == "report"
    report = load_readable(conn, principal, ref.strip())
    row = conn.execute(select(reports.c.lat, reports.c.lon).where(reports.c.id == report["id"])).one()
    return Filled(kind="verify", title="Verify a report", place=_point(row.lat, row.lon), report_id=report["id"],
                  report=report, source_ref=report["id"])
