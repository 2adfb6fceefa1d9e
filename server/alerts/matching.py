"""Does a report match a rule? The report conditions, the geography and clusters.

A rule's conditions are all required: kind, category, minimum severity, confidentiality,
contingent; within a distance of a reference item (a named site or place, or any sensitive
site); inside an area (given as GeoJSON or as a reference item); inside a current hot spot or
coverage gap (``inside``, tested last: see ``analysis``); and, for a cluster rule, at
least ``count`` reports matching all the other conditions whose event times lie within ``hours``
of the triggering report's and whose positions lie within ``km`` of it (the triggering report
included). Distances are geodesic (WGS84, pyproj); distances to areas use shapely on a local
azimuthal-equidistant projection centred on the report, exact enough at tens of kilometres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from pyproj import Geod, Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform
from sqlalchemy import Connection, and_, select

from ..db.fast import in_ids
from ..db.tables import contingents, reference_items, reports
from . import analysis

GEOD = Geod(ellps="WGS84")
KM_PER_DEGREE_LAT = 111.0  # only to size a bounding box before the exact distance


def report_columns() -> list[Any]:
    """The projection columns matching needs, with the contingent's code."""
    return [reports.c.id, reports.c.kind, reports.c.category, reports.c.severity, reports.c.confidentiality,
            reports.c.contingent_id, contingents.c.code.label("contingent"), reports.c.lat, reports.c.lon,
            reports.c.event_time, reports.c.title, reports.c.author_user_id]


def load_reports(conn: Connection, report_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The projection rows matching reads, in one query: id -> report (absent ids left out)."""
    rows = conn.execute(select(*report_columns()).select_from(reports.join(contingents))
                        .where(in_ids(reports.c.id, list(report_ids), conn.dialect.name))).mappings()
    return {r["id"]: dict(r) for r in rows}


def _plain_match(cond: dict[str, Any], r: dict[str, Any]) -> bool:
    if cond.get("kinds") and r["kind"] not in cond["kinds"]:
        return False
    if cond.get("categories") and r["category"] not in cond["categories"]:
        return False
    if cond.get("min_severity") is not None and (r["severity"] or 0) < cond["min_severity"]:
        return False
    if cond.get("confidentiality") and r["confidentiality"] not in cond["confidentiality"]:
        return False
    return not (cond.get("contingents") and r["contingent"] not in cond["contingents"])


@lru_cache(maxsize=64)
def _local_projection(lat: float, lon: float) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +units=km +ellps=WGS84",
                                always_xy=True)


def distance_km(lat: float, lon: float, geometry: BaseGeometry) -> float:
    """Geodesic distance from a point to a geometry (0 inside an area)."""
    if isinstance(geometry, Point):
        _, _, metres = GEOD.inv(lon, lat, geometry.x, geometry.y)
        return float(metres) / 1000.0
    local = transform(_local_projection(round(lat, 4), round(lon, 4)).transform, geometry)
    return float(local.distance(Point(0, 0)))


def _reference_geometries(conn: Connection, *, reference_id: str | None, kind: str | None) -> list[BaseGeometry]:
    stmt = select(reference_items.c.geometry)
    stmt = stmt.where(reference_items.c.id == reference_id) if reference_id else stmt.where(
        reference_items.c.kind == kind)
    return [shape(g) for (g,) in conn.execute(stmt)]


def _geo_match(conn: Connection, cond: dict[str, Any], r: dict[str, Any]) -> bool:
    needs_geo = cond.get("near") or cond.get("area") or cond.get("area_reference_id") or cond.get("inside")
    if not needs_geo:
        return True
    if r["lat"] is None or r["lon"] is None:
        return False  # a report without a position cannot be placed near anything
    lat, lon = float(r["lat"]), float(r["lon"])
    near = cond.get("near")
    if near:
        sites = _reference_geometries(conn, reference_id=near.get("reference_id"),
                                      kind=None if near.get("reference_id") else "sensitive_site")
        if not any(distance_km(lat, lon, g) <= near["km"] for g in sites):
            return False
    if cond.get("area") and not shape(cond["area"]).covers(Point(lon, lat)):
        return False
    if cond.get("area_reference_id"):
        areas = _reference_geometries(conn, reference_id=cond["area_reference_id"], kind=None)
        if not any(g.covers(Point(lon, lat)) for g in areas):
            return False
    return not cond.get("inside") or in_current_analysis(conn, cond["inside"], lat, lon)


def in_current_analysis(conn: Connection, what: str, lat: float, lon: float) -> bool:
    """Inside a current hot spot or coverage gap (``analysis``: HQ's map, cached so raising stays fast)."""
    return analysis.inside(conn, what, lat, lon)


def matches(conn: Connection, cond: dict[str, Any], r: dict[str, Any]) -> bool:
    """Whether this one report meets every condition but the cluster's."""
    return _plain_match(cond, r) and _geo_match(conn, cond, r)


def cluster_members(conn: Connection, cond: dict[str, Any], r: dict[str, Any]) -> list[dict[str, Any]]:
    """The matching reports around ``r`` (itself included), or [] if fewer than the rule's count."""
    cluster = cond["cluster"]
    if r["lat"] is None or r["lon"] is None or r["event_time"] is None:
        return []
    lat, lon, km = float(r["lat"]), float(r["lon"]), float(cluster["km"])
    window = timedelta(hours=cluster["hours"])
    dlat = km / KM_PER_DEGREE_LAT
    dlon = 180.0 if abs(lat) > 89 else km / (KM_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(lat))))
    where = [reports.c.event_time >= r["event_time"] - window, reports.c.event_time <= r["event_time"] + window,
             reports.c.lat.between(lat - dlat, lat + dlat), reports.c.lon.between(lon - dlon, lon + dlon)]
    if cond.get("categories"):
        where.append(reports.c.category.in_(cond["categories"]))
    if cond.get("kinds"):
        where.append(reports.c.kind.in_(cond["kinds"]))
    if cond.get("confidentiality"):
        where.append(reports.c.confidentiality.in_(cond["confidentiality"]))
    rows = conn.execute(select(*report_columns()).select_from(reports.join(contingents))
                        .where(and_(*where)).order_by(reports.c.event_time, reports.c.id)).mappings().all()
    members = [dict(m) for m in rows if matches(conn, cond, dict(m))
               and distance_km(lat, lon, Point(float(m["lon"]), float(m["lat"]))) <= km]
    return members if len(members) >= cluster["count"] else []
