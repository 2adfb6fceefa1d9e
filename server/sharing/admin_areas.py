"""Admin-area precision: a shared location becomes the admin area it lies in (its point and name).

This module owns which areas a partner's locations may be, and which one a point belongs to. The
areas come from the reference data the server already keeps (``server/reference``):

- the ``admin_boundary`` polygons, when the mission has any: a point goes to the smallest
  boundary containing it (the most specific of nested levels, as drawn by the admins), shared as
  that area's representative point (its centroid, or shapely's point-on-surface when the centroid
  falls outside, as for a crescent-shaped area) with its name and, as ``precision_m``, the
  distance from that point to the farthest corner of the area. A point inside no boundary is
  shared without a location: naming an area it is not in would be false, and the grid would say
  more than the agreement allows.
- otherwise the ``place`` points (the gazetteer's towns and villages): a point goes to the nearest
  place, shared as that place's position and name, with no ``precision_m`` (a place's surroundings
  have no edge). This is coarser than it looks near a town and finer far from any.

Every shared location is therefore one of `AdminAreas.points()` (a test checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point, shape
from shapely.prepared import PreparedGeometry, prep
from sqlalchemy import Connection, select

from peacewatch.server.db.tables import reference_items

KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class Area:
    id: str
    names: dict[str, str]
    lat: float
    lon: float
    precision_m: float | None
    size: float = 0.0  # square degrees: only to prefer the smaller of nested boundaries
    geometry: PreparedGeometry | None = field(default=None, compare=False, repr=False)

    def name(self, lang: str = "en") -> str:
        return self.names.get(lang) or self.names.get("en") or next((n for n in self.names.values() if n), self.id)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: plenty for an area's size and for the nearest of a few places."""
    x = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, lat2 - lat1) * KM_PER_DEGREE * 1000


@dataclass(frozen=True)
class AdminAreas:
    """The mission's admin areas (or places) and `locate` to find the one a point belongs to."""

    source: str  # "admin_boundary" or "place"
    areas: tuple[Area, ...]

    def points(self) -> set[tuple[float, float]]:
        return {(a.lat, a.lon) for a in self.areas}

    def locate(self, lat: float, lon: float) -> Area | None:
        if not self.areas:
            return None
        if self.source == "place":
            return min(self.areas, key=lambda a: (_metres(lat, lon, a.lat, a.lon), a.id))
        point = Point(lon, lat)
        inside = [a for a in self.areas if a.geometry is not None and a.geometry.covers(point)]
        return min(inside, key=lambda a: (a.size, a.id)) if inside else None


def _boundary(row: Any) -> Area:
    geom = shape(row["geometry"])
    centre = geom.centroid
    if not geom.covers(centre):
        centre = geom.representative_point()
    lat, lon = round(centre.y, 6), round(centre.x, 6)
    hull = geom.convex_hull
    corners = list(hull.exterior.coords) if hasattr(hull, "exterior") else list(hull.coords)
    reach = max((_metres(lat, lon, y, x) for x, y in corners), default=0.0)
    return Area(row["id"], dict(row["names"]), lat, lon, round(reach, -2), geom.area, prep(geom))


def load(conn: Connection) -> AdminAreas:
    """The admin boundaries of the reference data, or its places if it has no boundary."""
    rows = conn.execute(select(reference_items.c.id, reference_items.c.kind, reference_items.c.names,
                               reference_items.c.geometry)
                        .where(reference_items.c.kind.in_(("admin_boundary", "place")))
                        .order_by(reference_items.c.id)).mappings().all()
    boundaries = [_boundary(r) for r in rows if r["kind"] == "admin_boundary"]
    if boundaries:
        return AdminAreas("admin_boundary", tuple(boundaries))
    places = []
    for r in rows:
        lon, lat = r["geometry"]["coordinates"][:2]
        places.append(Area(r["id"], dict(r["names"]), round(float(lat), 6), round(float(lon), 6), None))
    return AdminAreas("place", tuple(places))
