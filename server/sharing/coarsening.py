"""Precision a partner receives: locations snapped to a grid of N km, times truncated to a day or week.

The grid is equal-angle in latitude (rows N km tall, 1° of latitude = 111.32 km) and, in each row,
equal-angle in longitude with cells N km wide at the row's middle latitude. A point goes to its
cell's centre, so every shared location is one of the grid's centres (a test checks it) and no
shared point is more than about N·√2/2 km from the truth, nor closer to it than the grid allows.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..exports.filters import parse_time

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


def coarsen_body(record: dict[str, Any], *, grid_km: float, precision: Literal["day", "week"]) -> dict[str, Any]:
    """A copy of a report record with its location, route and times coarsened (and the MGRS
    reference, which would give the precise square, removed)."""
    out = dict(record)
    location = record.get("location") or {}
    if location.get("lat") is not None and location.get("lon") is not None:
        lat, lon = snap(location["lat"], location["lon"], grid_km)
        out["location"] = {"lat": lat, "lon": lon, "precision_m": grid_km * 1000,
                           **({"place": location["place"]} if location.get("place") else {})}
    else:
        out["location"] = {}
    if record.get("route"):
        points = [snap(p["lat"], p["lon"], grid_km) for p in record["route"]]
        # Consecutive points in one cell say nothing more than the first.
        kept = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
        out["route"] = [{"lat": lat, "lon": lon} for lat, lon in kept]
        if not out["location"]:
            lat, lon = kept[0]
            out["location"] = {"lat": lat, "lon": lon, "precision_m": grid_km * 1000}
    for key in ("event_time", "start_time", "end_time", "received_at"):
        if record.get(key):
            out[key] = truncate_time(parse_time(record[key]), precision).isoformat().replace("+00:00", "Z")
    return out
