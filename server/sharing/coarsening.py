"""Precision a partner receives: locations snapped to a grid of N km (or moved to their admin area,
``admin_areas``), times truncated to a day or week.

The grid is equal-angle in latitude (rows N km tall, 1° of latitude = 111.32 km) and, in each row,
equal-angle in longitude with cells N km wide at the row's middle latitude. A point goes to its
cell's centre, so every shared location is one of the grid's centres (a test checks it) and no
shared point is more than about N·√2/2 km from the truth, nor closer to it than the grid allows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..exports.filters import parse_time

if TYPE_CHECKING:
    from .admin_areas import AdminAreas

KM_PER_DEGREE = 111.32


def _lat_step(grid_km: float) -> float:
    return grid_km / KM_PER_DEGREE


def _lon_step(grid_km: float, row_centre_lat: float) -> float:
    # Near the poles a row's width shrinks to nothing; cap so the step stays finite.
    return grid_km / (KM_PER_DEGREE * max(math.cos(math.radians(row_centre_lat)), 0.01))


def snap(lat: float, lon: float, grid_km: float) -> tuple[float, float]:
    """The centre of the grid cell containing (lat, lon)."""
    dlat = _lat_step(grid_km)
    row = math.floor(lat / dlat)
    centre_lat = (row + 0.5) * dlat
    dlon = _lon_step(grid_km, centre_lat)
    col = math.floor(lon / dlon)
    centre_lon = (col + 0.5) * dlon
    return round(centre_lat, 6), round(centre_lon, 6)


def is_cell_centre(lat: float, lon: float, grid_km: float) -> bool:
    """Is (lat, lon) a centre of the grid (to the 6 decimals shared)? For tests and audits."""
    return snap(lat, lon, grid_km) == (round(lat, 6), round(lon, 6))


def truncate_time(moment: datetime, precision: Literal["day", "week"]) -> datetime:
    """Midnight UTC of the day, or of the Monday starting the ISO week."""
    utc = moment.astimezone(UTC)
    day = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "week":
        day -= timedelta(days=day.weekday())
    return day


def _grid_location(lat: float, lon: float, grid_km: float) -> dict[str, Any]:
    clat, clon = snap(lat, lon, grid_km)
    return {"lat": clat, "lon": clon, "precision_m": grid_km * 1000}


def _area_location(lat: float, lon: float, areas: AdminAreas, lang: str) -> dict[str, Any]:
    area = areas.locate(lat, lon)
    if area is None:  # inside no admin area: no location rather than a wrong one (admin_areas)
        return {}
    return {"lat": area.lat, "lon": area.lon, "precision_m": area.precision_m, "place": area.name(lang)}


def coarsen_body(record: dict[str, Any], *, grid_km: float, precision: Literal["day", "week"],
                 areas: AdminAreas | None = None, lang: str = "en") -> dict[str, Any]:
    """A copy of a report record with its location, route and times coarsened (and the MGRS
    reference, which would give the precise square, removed).

    With `areas`, locations go to their admin area instead of the grid, and the place is the
    area's name (the reporter's own place text could name a spot inside it)."""
    out = dict(record)
    location = record.get("location") or {}

    def coarse(lat: float, lon: float) -> dict[str, Any]:
        return _area_location(lat, lon, areas, lang) if areas is not None else _grid_location(lat, lon, grid_km)

    if location.get("lat") is not None and location.get("lon") is not None:
        out["location"] = coarse(location["lat"], location["lon"])
        if areas is None and location.get("place"):
            out["location"]["place"] = location["place"]
    else:
        out["location"] = {}
    if record.get("route"):
        points = [coarse(p["lat"], p["lon"]) for p in record["route"]]
        points = [p for p in points if p]  # admin areas: a point in no area is left out
        # Consecutive points in one cell (or area) say nothing more than the first.
        kept = [p for i, p in enumerate(points) if i == 0 or (p["lat"], p["lon"]) != (points[i - 1]["lat"],
                                                                                     points[i - 1]["lon"])]
        out["route"] = [{"lat": p["lat"], "lon": p["lon"]} for p in kept]
        if not out["location"] and kept:
            out["location"] = kept[0]
    for key in ("event_time", "start_time", "end_time", "received_at"):
        if record.get(key):
            out[key] = truncate_time(parse_time(record[key]), precision).isoformat().replace("+00:00", "Z")
    return out
