"""Coverage gaps: buffered patrol routes in metres, the time window, and bad input."""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pytest

from peacewatch.server.hotspots.coverage import PatrolRoute, coverage_gaps, covered_cells

NOW = np.datetime64("2026-11-24T12:00:00", "s")
LAT, LON = 4.85, 31.6
CELL = h3i.latlng_to_cell(LAT, LON, 8)  # res-8 hexagons: ~0.46 km edge, ~0.8 km across


def _route_east_of_centre(metres: float, end: np.datetime64 = NOW) -> PatrolRoute:
    # A north-south line `metres` east of the cell centre (1 degree lon ~ 110.9 km at 4.85 N).
    lat, lon = h3i.cell_to_latlng(CELL)
    dlon = metres / (111_320.0 * np.cos(np.radians(lat)))
    return PatrolRoute(points=[(lat - 0.05, lon + dlon), (lat + 0.05, lon + dlon)], end_time=end)


def test_buffer_distance_is_in_metres() -> None:
    cells = np.array([CELL], dtype=np.uint64)
    far = _route_east_of_centre(2000.0)  # cell edge is <= ~0.46 km from its centre
    assert not covered_cells(cells, [far], buffer_m=1000.0)[0]
    assert covered_cells(cells, [far], buffer_m=1700.0)[0]
    assert covered_cells(cells, [_route_east_of_centre(0.0)], buffer_m=0.0)[0]


def test_gaps_are_hot_cells_without_a_recent_route() -> None:
    disk = np.unique(np.array(h3i.grid_disk(CELL, 8), dtype=np.uint64))
    bins = np.zeros(disk.size, dtype=np.int8)
    far_cell = h3i.grid_ring(CELL, 8)[0]
    hot_idx = np.searchsorted(disk, np.array([CELL, far_cell], dtype=np.uint64))
    bins[hot_idx] = 3
    recent = _route_east_of_centre(0.0, NOW - np.timedelta64(2, "D"))
    gaps = coverage_gaps(disk, bins, [recent], now=NOW)
    assert gaps.tolist() == [i == hot_idx[1] for i in range(disk.size)]
    # A route that ended 20 days ago covers nothing under the default 14-day window ...
    old = _route_east_of_centre(0.0, NOW - np.timedelta64(20, "D"))
    assert coverage_gaps(disk, bins, [old], now=NOW).sum() == 2
    # ... but does under a 30-day one; a single-point route is a buffered point.
    assert coverage_gaps(disk, bins, [old], now=NOW, days=30).sum() == 1
    point = PatrolRoute(points=[h3i.cell_to_latlng(far_cell)], end_time=NOW)
    assert coverage_gaps(disk, bins, [recent, point], now=NOW).sum() == 0
    # Cells only significant at 90 % are not hotspots for coverage purposes by default.
    bins[hot_idx] = 1
    assert coverage_gaps(disk, bins, [], now=NOW).sum() == 0


def test_bad_input_names_the_field() -> None:
    cells = np.array([CELL], dtype=np.uint64)
    bins = np.array([3], dtype=np.int8)
    with pytest.raises(ValueError, match="^route:"):
        coverage_gaps(cells, bins, [PatrolRoute(points=[(95.0, 0.0)], end_time=NOW)], now=NOW)
    with pytest.raises(ValueError, match="^route:"):
        coverage_gaps(cells, bins, [PatrolRoute(points=[], end_time=NOW)], now=NOW)
    with pytest.raises(ValueError, match="^days:"):
        coverage_gaps(cells, bins, [], now=NOW, days=0)
    with pytest.raises(ValueError, match="^buffer_m:"):
        covered_cells(cells, [_route_east_of_centre(0.0)], buffer_m=-1)
