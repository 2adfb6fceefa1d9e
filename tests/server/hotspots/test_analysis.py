"""Points to hotspot maps end to end: a planted cluster is hot, its GeoJSON covers the study area."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from peacewatch.server.hotspots.analysis import emerging_map, gaps_map, hotspot_map
from peacewatch.server.hotspots.coverage import PatrolRoute

CENTRE = (4.85, 31.6)


def _points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    lat = np.concatenate([rng.uniform(4.7, 5.0, 400), CENTRE[0] + rng.normal(0, 0.002, 80)])
    lon = np.concatenate([rng.uniform(31.45, 31.75, 400), CENTRE[1] + rng.normal(0, 0.002, 80)])
    return lat, lon


def test_planted_cluster_is_hot_and_geojson_covers_study_area() -> None:
    lat, lon = _points(np.random.default_rng(5))
    hm = hotspot_map(lat, lon)
    fc = hm.geojson()
    assert len(fc["features"]) == hm.cells.size and hm.counts.sum() == 480
    props = {f["properties"]["h3"]: f["properties"] for f in fc["features"]}
    hot = props[h3.latlng_to_cell(*CENTRE, 8)]
    assert hot["bin"] == 3 and hot["z"] > 5
    # Background cells far from the cluster are not flagged hot.
    far = [p for p in props.values() if h3.grid_distance(p["h3"], h3.latlng_to_cell(*CENTRE, 8)) > 3]
    assert sum(p["bin"] >= 2 for p in far) <= 2


def test_gaps_and_emerging_from_points() -> None:
    rng = np.random.default_rng(6)
    lat, lon = _points(rng)
    hm = hotspot_map(lat, lon)
    now = np.datetime64("2026-11-24T00:00:00", "s")
    gaps = gaps_map(hm, [], now=now)
    assert h3.latlng_to_cell(*CENTRE, 8) in {f["properties"]["h3"] for f in gaps["features"]}
    route = PatrolRoute(points=[(CENTRE[0] - 0.01, CENTRE[1]), (CENTRE[0] + 0.01, CENTRE[1])], end_time=now)
    gaps = gaps_map(hm, [route], now=now)
    assert h3.latlng_to_cell(*CENTRE, 8) not in {f["properties"]["h3"] for f in gaps["features"]}
    times = now - rng.integers(0, 60 * 86400, lat.size).astype("timedelta64[s]")
    result, fc = emerging_map(lat, lon, times, step="week")
    assert len(fc["features"]) == result.cells.size and fc["metadata"]["steps"] == result.steps
    assert {"category", "trend_z", "trend_p"} <= set(fc["features"][0]["properties"])


def test_no_reports_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="^area:"):
        hotspot_map(np.zeros(0), np.zeros(0))
