"""A contingent commander's map page: hot spots and coverage gaps over only what they may read.

Before base maps the map page was HQ's alone (403 for commanders). Now a commander opens it, and
every count behind its hexagons comes from their own contingent's reports and the mission's
public ones: another contingent's mission reports and restricted cases never add to a cell.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from factories import PASSWORD, Mission, report_body, store
from tests.web.helpers import sign_in

CLUSTER = (1.5667, 30.25)
BRAVO_ONLY = (1.9236, 30.5008)  # Djugu: where only BRAVO reported
RECENT = datetime.now(UTC) - timedelta(days=3)


def _seed(mission: Mission) -> None:
    rng = np.random.default_rng(3)
    for i in range(20):  # a shared cluster: half ALPHA, half BRAVO
        author, contingent = ("patrol_a", "ALPHA") if i % 2 else ("patrol_b", "BRAVO")
        store(mission, author, report_body(lat=CLUSTER[0] + rng.uniform(-0.0015, 0.0015),
                                           lon=CLUSTER[1] + rng.uniform(-0.0015, 0.0015), author=author,
                                           contingent=contingent, event_time=RECENT - timedelta(days=i)))
    for _ in range(20):  # ALPHA's background
        store(mission, "patrol_a", report_body(lat=CLUSTER[0] + rng.uniform(-0.15, 0.15),
                                               lon=CLUSTER[1] + rng.uniform(-0.15, 0.15), event_time=RECENT))
    for _ in range(6):  # BRAVO's own cluster, mission-only
        store(mission, "patrol_b", report_body(lat=BRAVO_ONLY[0], lon=BRAVO_ONLY[1], author="patrol_b",
                                               contingent="BRAVO", event_time=RECENT))
    for _ in range(4):  # restricted cases at the shared cluster, by a BRAVO patrol
        store(mission, "patrol_b", report_body(lat=CLUSTER[0], lon=CLUSTER[1], author="patrol_b", contingent="BRAVO",
                                               confidentiality="restricted", event_time=RECENT))


def _layer(client, layer: str) -> dict:
    r = client.get(f"/map/data/hotspots.geojson?layer={layer}")
    assert r.status_code == 200, r.text
    return r.json()


def test_commander_map_counts_only_what_the_commander_may_read(client, mission) -> None:
    _seed(mission)
    client.cookies.clear()
    sign_in(client, "commander_a", PASSWORD)
    page = client.get("/map")
    assert page.status_code == 200 and 'id="map"' in page.text and 'href="/map"' in page.text
    hot = _layer(client, "hotspots")
    # ALPHA's 10 cluster reports and 20 background ones; no BRAVO mission report, no restricted case.
    assert hot["metadata"]["reports"] == 30
    assert sum(f["properties"]["count"] for f in hot["features"]) <= 30
    assert any(f["properties"]["bin"] > 0 for f in hot["features"]), hot["features"]
    for feature in hot["features"]:
        lons = [p[0] for p in feature["geometry"]["coordinates"][0]]
        assert not (min(lons) - 0.01 <= BRAVO_ONLY[1] <= max(lons) + 0.01 and feature["properties"]["count"]), \
            "a cell at BRAVO's own cluster counted reports ALPHA's commander may not read"
    # Coverage gaps are the commander's own hot cells that their visible patrols did not cross.
    counts = {f["properties"]["h3"]: f["properties"]["count"] for f in hot["features"]}
    gaps = _layer(client, "coverage-gaps")["features"]
    assert all(f["properties"]["count"] <= counts.get(f["properties"]["h3"], 30) for f in gaps)
    points = client.get("/map/data/reports.geojson").json()["features"]
    assert len(points) == 30 and {f["properties"]["contingent"] for f in points} == {"ALPHA"}

    client.cookies.clear()
    sign_in(client, "commander_b", PASSWORD)
    assert _layer(client, "hotspots")["metadata"]["reports"] == 16  # its 10 + 6; its patrol's cases are restricted

    client.cookies.clear()
    sign_in(client, "analyst", PASSWORD)
    assert _layer(client, "hotspots")["metadata"]["reports"] == 46

    client.cookies.clear()
    sign_in(client, "patrol_a", PASSWORD)
    assert client.get("/map").status_code == 403
    assert client.get("/map/data/hotspots.geojson").status_code == 403
