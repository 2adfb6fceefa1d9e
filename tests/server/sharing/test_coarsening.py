"""The coarse grid and time truncation on their own: centres are fixed points, no point moves
further than half a cell's diagonal, times land on day and Monday boundaries."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from peacewatch.server.sharing.coarsening import coarsen_body, is_cell_centre, snap, truncate_time


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_points_snap_to_centres_within_half_a_diagonal() -> None:
    rng = random.Random(3)
    for grid in (1.0, 5.0, 25.0):
        for _ in range(2000):
            lat, lon = rng.uniform(-60, 60), rng.uniform(-180, 180)
            c_lat, c_lon = snap(lat, lon, grid)
            assert is_cell_centre(c_lat, c_lon, grid)
            assert _km(lat, lon, c_lat, c_lon) <= grid * math.sqrt(2) / 2 * 1.02
    # Two points in one cell become the same point: the partner cannot tell them apart.
    assert snap(1.5667, 30.25, 10) == snap(1.5668, 30.2501, 10)


def test_times_truncate_to_day_or_monday() -> None:
    moment = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)  # a Friday
    assert truncate_time(moment, "day") == datetime(2026, 11, 20, tzinfo=UTC)
    assert truncate_time(moment, "week") == datetime(2026, 11, 16, tzinfo=UTC)


def test_a_record_keeps_no_precise_position_or_time() -> None:
    record = {"event_time": "2026-11-20T14:30:00Z", "received_at": "2026-11-20T15:00:00Z",
              "location": {"lat": 1.5667, "lon": 30.25, "precision_m": 10, "mgrs": "36NUF1234567890"},
              "route": [{"lat": 1.5667, "lon": 30.25}, {"lat": 1.5668, "lon": 30.2501}, {"lat": 2.0, "lon": 31.0}]}
    out = coarsen_body(record, grid_km=10, precision="day")
    assert "mgrs" not in out["location"] and out["location"]["precision_m"] == 10000
    assert out["event_time"] == "2026-11-20T00:00:00Z" and out["received_at"] == "2026-11-20T00:00:00Z"
    assert len(out["route"]) == 2 and all(is_cell_centre(p["lat"], p["lon"], 10) for p in out["route"])
