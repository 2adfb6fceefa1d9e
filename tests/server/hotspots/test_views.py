"""Hotspot routes over a real server: access, visibility, parameters, caching, coverage and emerging."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import h3
import numpy as np
import pytest

from factories import Mission, report_body, store
from peacewatch.server.hotspots.emerging import CATEGORIES

CLUSTER = (1.5667, 30.25)
CLUSTER_CELL = h3.latlng_to_cell(*CLUSTER, 8)
RECENT = datetime.now(UTC) - timedelta(days=3)


def _seed(mission: Mission, *, cluster: int = 20, background: int = 20, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    for i in range(cluster):
        lat = CLUSTER[0] + rng.uniform(-0.0015, 0.0015)
        lon = CLUSTER[1] + rng.uniform(-0.0015, 0.0015)
        author, contingent = ("patrol_a", "ALPHA") if i % 2 else ("patrol_b", "BRAVO")
        store(
            mission,
            author,
            report_body(
                lat=lat,
                lon=lon,
                author=author,
                contingent=contingent,
                event_time=RECENT - timedelta(days=int(i % 20)),
            ),
        )
    for _ in range(background):
        lat = CLUSTER[0] + rng.uniform(-0.15, 0.15)
        lon = CLUSTER[1] + rng.uniform(-0.15, 0.15)
        store(mission, "patrol_a", report_body(lat=lat, lon=lon, event_time=RECENT))


def _cell(fc: dict, cell: str) -> dict:
    return next(f["properties"] for f in fc["features"] if f["properties"]["h3"] == cell)


@pytest.fixture
def seeded(mission: Mission) -> Mission:
    _seed(mission)
    return mission


def test_analyst_gets_a_significant_hotspot_over_every_study_cell(seeded: Mission) -> None:
    r = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    props = [f["properties"] for f in fc["features"]]
    assert sum(p["count"] for p in props) == 40
    assert fc["metadata"]["cells"] == len(props) > 40  # zero-count neighbours are in the study area
    assert sum(p["count"] == 0 for p in props) > 0
    hot = _cell(fc, CLUSTER_CELL)
    assert hot["count"] >= 14 and hot["bin"] == 3 and hot["z"] > 3 and hot["p"] < 0.001
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and 29 < ring[0][0] < 31  # lon first


def test_only_analysing_roles_may_call(seeded: Mission) -> None:
    for user in ("patrol_a", "commander_a", "admin"):
        for path in ("", "/emerging", "/coverage-gaps"):
            r = seeded.client.get(f"/api/v1/hotspots{path}", headers=seeded.headers(user))
            assert r.status_code == 403, (user, path, r.text)
    assert seeded.client.get("/api/v1/hotspots").status_code == 401


def test_restricted_reports_count_only_for_those_who_may_read_them(seeded: Mission) -> None:
    for _ in range(5):
        store(
            seeded,
            "patrol_a",
            report_body(lat=CLUSTER[0], lon=CLUSTER[1], confidentiality="restricted", event_time=RECENT),
        )
    analyst = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst")).json()
    protection = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("protection")).json()
    assert protection["metadata"]["reports"] == analyst["metadata"]["reports"] + 5 == 45


def test_filters_and_parameters(seeded: Mission) -> None:
    h = seeded.headers("analyst")
    bravo = seeded.client.get("/api/v1/hotspots", params={"contingent": "BRAVO"}, headers=h).json()
    assert bravo["metadata"]["reports"] == 10
    coarse = seeded.client.get("/api/v1/hotspots", params={"resolution": 6, "k": 2}, headers=h).json()
    assert coarse["metadata"]["resolution"] == 6 and coarse["metadata"]["k"] == 2
    assert h3.get_resolution(coarse["features"][0]["properties"]["h3"]) == 6
    r = seeded.client.get("/api/v1/hotspots", params={"resolution": 16}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "resolution"
    r = seeded.client.get("/api/v1/hotspots", params={"category": "no_such_category"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "filters"
    text = seeded.client.get("/api/v1/hotspots", params={"format": "csv"}, headers=h).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"h3", "count", "z", "p", "bin"} <= set(rows[0]) and sum(int(r["count"]) for r in rows) == 40


def test_results_are_cached_until_a_report_arrives(seeded: Mission) -> None:
    h = seeded.headers("analyst")
    first = seeded.client.get("/api/v1/hotspots", headers=h).json()
    cache = seeded.client.app.state.hotspot_cache
    misses = cache.misses
    assert seeded.client.get("/api/v1/hotspots", headers=h).json() == first
    assert cache.misses == misses and cache.hits >= 1
    store(seeded, "patrol_a", report_body(lat=CLUSTER[0], lon=CLUSTER[1], event_time=RECENT))
    again = seeded.client.get("/api/v1/hotspots", headers=h).json()
    assert cache.misses == misses + 1 and again["metadata"]["reports"] == 41


def test_coverage_gaps_disappear_when_a_recent_patrol_crosses(seeded: Mission) -> None:
    h = seeded.headers("analyst")
    gaps = seeded.client.get("/api/v1/hotspots/coverage-gaps", headers=h).json()
    assert CLUSTER_CELL in {f["properties"]["h3"] for f in gaps["features"]}
    # A patrol that passed 2 km east of the cluster a month ago covers nothing now ...
    east = CLUSTER[1] + 0.018
    old = RECENT - timedelta(days=30)
    store(
        seeded,
        "patrol_a",
        report_body(
            kind="patrol",
            lat=CLUSTER[0] - 0.05,
            lon=east,
            event_time=old,
            route=[{"lat": CLUSTER[0] - 0.05, "lon": east}, {"lat": CLUSTER[0] + 0.05, "lon": east}],
        ),
    )
    gaps = seeded.client.get("/api/v1/hotspots/coverage-gaps", headers=h).json()
    assert CLUSTER_CELL in {f["properties"]["h3"] for f in gaps["features"]}
    # ... unless the window reaches back to it and the buffer reaches 2 km.
    params = {"days": 60, "buffer_m": 2500}
    gaps = seeded.client.get("/api/v1/hotspots/coverage-gaps", params=params, headers=h).json()
    assert CLUSTER_CELL not in {f["properties"]["h3"] for f in gaps["features"]}
    assert (
        seeded.client.get("/api/v1/hotspots/coverage-gaps", params={"days": 0}, headers=h).status_code == 422
    )


def test_emerging_categories(seeded: Mission) -> None:
    h = seeded.headers("analyst")
    # The cluster flares up on the final day: it must be a hot spot at the final step.
    for _ in range(10):
        store(
            seeded,
            "patrol_b",
            report_body(
                lat=CLUSTER[0], lon=CLUSTER[1], author="patrol_b", contingent="BRAVO", event_time=RECENT
            ),
        )
    r = seeded.client.get("/api/v1/hotspots/emerging", params={"step": "day"}, headers=h)
    assert r.status_code == 200, r.text
    fc = r.json()
    assert len(fc["metadata"]["steps"]) >= 20
    cats = {f["properties"]["category"] for f in fc["features"]}
    assert cats <= set(CATEGORIES) and "no_pattern" in cats
    cluster = _cell(fc, CLUSTER_CELL)
    assert cluster["count"] >= 24 and cluster["bin"] >= 2
    assert cluster["category"] in {"new_hot", "consecutive_hot", "sporadic_hot"}, cluster
    r = seeded.client.get("/api/v1/hotspots/emerging", params={"step": "fortnight"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "step"


def test_default_k_is_chosen_from_the_data_and_reported(seeded: Mission) -> None:
    h = seeded.headers("analyst")
    auto = seeded.client.get("/api/v1/hotspots", headers=h).json()["metadata"]
    # 40 reports over a study area of far more cells: sparse, so the wider neighbourhood.
    assert auto["reports"] == 40 and auto["mean_count"] < 1
    assert auto["k"] == 2 and auto["k_source"] == "auto"
    given = seeded.client.get("/api/v1/hotspots", params={"k": 1}, headers=h).json()["metadata"]
    assert given["k"] == 1 and given["k_source"] == "request"
    rows = list(csv.DictReader(io.StringIO(
        seeded.client.get("/api/v1/hotspots", params={"format": "csv"}, headers=h).text)))
    assert {r["k"] for r in rows} == {"2"}
    gaps = seeded.client.get("/api/v1/hotspots/coverage-gaps", headers=h).json()["metadata"]
    assert gaps["k"] == 2 and gaps["k_source"] == "auto"
    # Dense data keeps k = 1: 30 more reports in each of a few cells.
    for lat in (CLUSTER[0], CLUSTER[0] + 0.01, CLUSTER[0] - 0.01):
        for _ in range(30):
            store(seeded, "patrol_a", report_body(lat=lat, lon=CLUSTER[1], event_time=RECENT))
    dense = seeded.client.get("/api/v1/hotspots", params={"bbox": "30.23,1.545,30.27,1.59"}, headers=h).json()["metadata"]
    assert dense["mean_count"] >= 1 and dense["k"] == 1 and dense["k_source"] == "auto"


def test_the_mission_area_from_reference_data_is_the_default_study_area(seeded: Mission) -> None:
    around = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst")).json()
    assert around["metadata"]["study_area"] == "around_reports"
    lat, lon = CLUSTER
    square = [[lon - 0.3, lat - 0.3], [lon + 0.3, lat - 0.3], [lon + 0.3, lat + 0.3], [lon - 0.3, lat + 0.3],
              [lon - 0.3, lat - 0.3]]
    r = seeded.client.put("/api/v1/admin/reference/area-of-operations", headers=seeded.headers("admin"),
                          json={"kind": "mission_area", "names": {"en": "Area of operations"},
                                "geometry": {"type": "Polygon", "coordinates": [square]}})
    assert r.status_code in (200, 201), r.text
    fc = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst")).json()  # the feed moved: recomputed
    expected = h3.h3shape_to_cells(h3.LatLngPoly([(y, x) for x, y in square]), 8)
    assert fc["metadata"]["study_area"] == "mission_area"
    assert {f["properties"]["h3"] for f in fc["features"]} == set(expected)
    assert sum(f["properties"]["count"] for f in fc["features"]) == 40
    assert _cell(fc, CLUSTER_CELL)["bin"] == 3
    # A study area given by the caller still wins; one too big for the grid falls back with a note.
    box = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst"),
                            params={"bbox": f"{lon - 0.2},{lat - 0.2},{lon + 0.2},{lat + 0.2}"}).json()
    assert box["metadata"]["study_area"] == "filter"
    fine = seeded.client.get("/api/v1/hotspots", headers=seeded.headers("analyst"), params={"resolution": 11}).json()
    assert fine["metadata"]["study_area"] == "around_reports"
