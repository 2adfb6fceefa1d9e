"""Admin-area precision: every shared location is one of the admin areas' points, named (both databases).

The areas are drawn here through the reference API: a grid of rectangles covering most of where
the generated reports fall, a small area nested in one of them, and a strip left uncovered. A
report is shared at the smallest area containing it, or without a location if none does. With no
admin boundary at all, locations go to the nearest gazetteer place.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from shapely.geometry import Point, box, mapping

from peacewatch.server.sharing.admin_areas import AdminAreas, Area
from peacewatch.server.sharing.coarsening import coarsen_body

from .conftest import create_agreement, generate, issue_key

POLICY = {"kinds": ["incident", "patrol"], "categories": ["looting", "armed_clash", "patrol_routine"],
          "confidentiality": ["public", "mission"], "location_precision": "admin_area"}
# Rectangles (lon0, lat0, lon1, lat1): lat -4..2 covered, 2..4 not; "nested" inside "a-1-0".
AREAS = {f"a-{row}-{col}": box(28 + 2 * col, -4 + 2 * row, 30 + 2 * col, -2 + 2 * row)
         for row in range(3) for col in range(2)}
NESTED = {"nested": box(28.0, 0.0, 29.5, 1.5)}


def _put_area(mission, item_id: str, geometry: Any, kind: str = "admin_boundary") -> None:
    r = mission.client.put(f"/api/v1/admin/reference/{item_id}", headers=mission.headers("admin"),
                           json={"kind": kind, "names": {"en": f"Area {item_id}", "fr": f"Zone {item_id}"},
                                 "geometry": mapping(geometry)})
    assert r.status_code == 201, r.text


def _pull(mission, headers: dict[str, str], fmt: str) -> list[Any]:
    cursor, pages = "", []
    for _ in range(50):  # bounded
        r = mission.client.get("/api/v1/share/ohchr/feed", params={"format": fmt, "cursor": cursor, "limit": 5},
                               headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r)
        cursor = r.headers["X-Next-Cursor"]
        if r.headers["X-More"] == "false":
            return pages
    raise AssertionError("feed did not end")


def _expected_area(lat: float, lon: float) -> str | None:
    inside = [(g.area, i) for i, g in (AREAS | NESTED).items() if g.covers(Point(lon, lat))]
    return min(inside)[1] if inside else None


def test_every_shared_location_is_an_admin_areas_point(mission) -> None:
    generated = generate(mission, n=60)
    for item_id, geometry in (AREAS | NESTED).items():
        _put_area(mission, item_id, geometry)
    points = {}
    for item_id, geometry in (AREAS | NESTED).items():
        centre = geometry.centroid
        points[(round(centre.y, 6), round(centre.x, 6))] = item_id
    headers = issue_key(mission, create_agreement(mission, **POLICY)["id"])
    truth = {b["id"]: b["location"] for b in generated}
    features = [f for p in _pull(mission, headers, "geojson") for f in p.json()["features"]]
    assert len(features) > 5
    located = unlocated = 0
    for f in features:
        props, where = f["properties"], truth[f["id"]]
        expected = _expected_area(where["lat"], where["lon"])
        if expected is None:  # outside every area: no location rather than a wrong one
            assert props["lat"] is None and props["lon"] is None and f["geometry"] is None
            unlocated += 1
            continue
        assert (props["lat"], props["lon"]) in points, (props, where)
        assert points[(props["lat"], props["lon"])] == expected
        assert props["place"] == f"Area {expected}"
        assert f["geometry"]["coordinates"] == [props["lon"], props["lat"]]
        assert props["precision_m"] > 0
        located += 1
    assert located and unlocated, "the generated data should fall both inside and outside the areas"

    # CSV: the area's name goes as the place column, even though `fields` does not list it.
    rows = [line for p in _pull(mission, headers, "csv") for line in list(csv.reader(io.StringIO(p.text)))[2:]]
    assert rows and all(len(r) == 9 for r in rows)
    for r in rows:
        if r[5]:
            assert (float(r[5]), float(r[6])) in points and r[8].startswith("Area ")


def test_without_boundaries_locations_go_to_the_nearest_place(mission, generated) -> None:
    places = {"place-north": (2.5, 29.0), "place-south": (-3.0, 31.0), "place-mid": (0.0, 30.0)}
    for item_id, (lat, lon) in places.items():
        _put_area(mission, item_id, Point(lon, lat), kind="place")
    headers = issue_key(mission, create_agreement(mission, **POLICY)["id"])
    truth = {b["id"]: b["location"] for b in generated}
    features = [f for p in _pull(mission, headers, "geojson") for f in p.json()["features"]]
    assert features
    for f in features:
        props, where = f["properties"], truth[f["id"]]
        nearest = min(places, key=lambda i: math.hypot(
            (places[i][1] - where["lon"]) * math.cos(math.radians(where["lat"])), places[i][0] - where["lat"]))
        assert (props["lat"], props["lon"]) == places[nearest]
        assert props["place"] == f"Area {nearest}" and props["precision_m"] is None


def test_a_route_goes_area_by_area() -> None:
    areas = AdminAreas("place", (Area("a", {"en": "A"}, 0.0, 0.0, None), Area("b", {"en": "B"}, 1.0, 1.0, None)))
    record = {"location": {"lat": 0.1, "lon": 0.1, "place": "behind the school"}, "event_time": "2026-11-20T14:30:00Z",
              "route": [{"lat": 0.1, "lon": 0.1}, {"lat": 0.2, "lon": 0.2}, {"lat": 0.9, "lon": 0.9}]}
    out = coarsen_body(record, grid_km=10, precision="day", areas=areas)
    assert out["location"] == {"lat": 0.0, "lon": 0.0, "precision_m": None, "place": "A"}
    assert out["route"] == [{"lat": 0.0, "lon": 0.0}, {"lat": 1.0, "lon": 1.0}]


def test_an_unknown_precision_is_refused_naming_the_field(mission) -> None:
    body = {"partner": "ohchr", "name": "OHCHR", "policy": {"kinds": ["incident"], "location_precision": "county"}}
    r = mission.client.post("/api/v1/sharing/agreements", json=body, headers=mission.headers("admin"))
    assert r.status_code == 422 and r.json()["field"] == "policy.location_precision", r.text
