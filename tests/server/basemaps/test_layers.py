"""Reference layers for a tablet's map: hot spots and coverage gaps over only what its user may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from factories import report_body, store

CLUSTER = (1.5667, 30.25)
BRAVO_ONLY = (1.70, 30.40)
RECENT = datetime.now(UTC) - timedelta(days=2)
AREA = {"bounds": [29.9, 1.3, 30.6, 1.9], "minzoom": 8, "maxzoom": 12, "max_mb": 50}


def _seed(mission) -> None:
    rng = np.random.default_rng(11)
    for _ in range(16):
        store(mission, "patrol_a", report_body(lat=CLUSTER[0] + rng.uniform(-0.0015, 0.0015),
                                               lon=CLUSTER[1] + rng.uniform(-0.0015, 0.0015), event_time=RECENT))
    for _ in range(20):
        store(mission, "patrol_a", report_body(lat=CLUSTER[0] + rng.uniform(-0.2, 0.2),
                                               lon=CLUSTER[1] + rng.uniform(-0.2, 0.2), event_time=RECENT))
    for _ in range(16):  # BRAVO's mission-only cluster inside ALPHA's area
        store(mission, "patrol_b", report_body(lat=BRAVO_ONLY[0] + rng.uniform(-0.0015, 0.0015),
                                               lon=BRAVO_ONLY[1] + rng.uniform(-0.0015, 0.0015), author="patrol_b",
                                               contingent="BRAVO", event_time=RECENT))


def _near(feature: dict, point: tuple[float, float]) -> bool:
    ring = feature["geometry"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lats) - 0.01 <= point[0] <= max(lats) + 0.01 and min(lons) - 0.01 <= point[1] <= max(lons) + 0.01


def test_layers_count_only_what_the_tablet_user_may_read(client, mission) -> None:
    _seed(mission)
    admin = mission.headers("admin")
    assert client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=AREA).status_code == 200
    r = client.get("/api/v1/basemaps/layers", headers=mission.device_headers("patrol_a"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["contingent"] == "ALPHA" and body["area"] == AREA["bounds"]
    hot = body["hotspots"]["features"]
    assert hot and all(f["properties"]["bin"] > 0 for f in hot)
    assert any(_near(f, CLUSTER) for f in hot)
    assert not any(_near(f, BRAVO_ONLY) for f in hot), "BRAVO's mission reports showed on ALPHA's tablet"
    assert sum(f["properties"]["count"] for f in hot) <= 36
    for f in body["coverage_gaps"]["features"]:
        assert not _near(f, BRAVO_ONLY)

    # HQ sees BRAVO's cluster in the same area: the difference is the policy, not the data.
    hq = client.get("/api/v1/basemaps/layers?contingent=ALPHA", headers=mission.headers("analyst")).json()
    assert any(_near(f, BRAVO_ONLY) for f in hq["hotspots"]["features"])

    assert client.get("/api/v1/basemaps/layers", headers=mission.headers("patrol_b")).status_code == 404
    assert client.get("/api/v1/basemaps/layers?contingent=ALPHA",
                      headers=mission.headers("patrol_b")).status_code == 403
    assert client.get("/api/v1/basemaps/layers", headers=admin).status_code == 403  # admins read no reports


def test_layers_are_empty_with_a_reason_when_too_few_reports(client, mission) -> None:
    client.put("/api/v1/admin/areas/ALPHA", headers=mission.headers("admin"), json=AREA)
    body = client.get("/api/v1/basemaps/layers", headers=mission.headers("patrol_a")).json()
    assert body["hotspots"]["features"] == [] and body["note"]
