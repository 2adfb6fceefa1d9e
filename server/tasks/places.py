"""A task's place: a GeoJSON Point, LineString or Polygon, checked, and its point for maps."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import shape

from ..problems import invalid

TYPES = ("Point", "LineString", "Polygon")
MAX_POINTS = 2000


def representative_point(place: dict[str, Any], *, field: str) -> tuple[float, float]:
    """(lat, lon) inside the place, or an ``invalid_input`` problem naming ``field``."""
    if not isinstance(place, dict) or place.get("type") not in TYPES:
        raise invalid(f"{field}.type", f"must be one of {', '.join(TYPES)}")
    coords = place.get("coordinates")
    try:
        geom = shape(place)
    except (GEOSException, ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise invalid(f"{field}.coordinates", f"not valid coordinates for a {place['type']}") from None
    points = shapely.get_coordinates(geom)
    if len(points) == 0 or len(points) > MAX_POINTS:
        raise invalid(f"{field}.coordinates", f"between 1 and {MAX_POINTS} positions")
    lon, lat = points[:, 0], points[:, 1]
    if not (abs(lat) <= 90).all() or not (abs(lon) <= 180).all():
        raise invalid(f"{field}.coordinates", "positions are [lon, lat] within [-180, 180] and [-90, 90]")
    if isinstance(coords, list) and place["type"] == "Polygon" and not geom.is_valid:
        raise invalid(f"{field}.coordinates", "the polygon crosses itself")
    p = geom.representative_point() if not geom.is_empty else None
    if p is None:
        raise invalid(f"{field}.coordinates", "empty geometry")
    return round(p.y, 7), round(p.x, 7)
