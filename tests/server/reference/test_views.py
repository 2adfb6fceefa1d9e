"""Reference data through HTTP: admins upsert and delete, everyone signed in reads, devices pull the changes."""

from __future__ import annotations

from typing import Any

from factories import Mission

URL = "/api/v1/admin/reference"
SQUARE = {"type": "Polygon", "coordinates": [[[30.0, 1.0], [31.0, 1.0], [31.0, 2.0], [30.0, 2.0], [30.0, 1.0]]]}


def put(mission: Mission, item_id: str, item: dict[str, Any], user: str = "admin") -> Any:
    return mission.client.put(f"{URL}/{item_id}", json=item, headers=mission.headers(user))


def place(name: str = "Juba", lon: float = 31.6, lat: float = 4.85, **extra: Any) -> dict[str, Any]:
    return {"kind": "place", "names": {"en": name, "fr": name, "ar": "جوبا"},
            "geometry": {"type": "Point", "coordinates": [lon, lat]}} | extra


def pull(mission: Mission, since: int = 0) -> list[dict[str, Any]]:
    r = mission.client.get("/api/v1/sync/pull", params={"since": since}, headers=mission.device_headers("patrol_b"))
    assert r.status_code == 200, r.text
    return r.json()["changes"]


def test_upsert_read_pull_and_delete(mission: Mission) -> None:
    r = put(mission, "juba", place(properties={"population": 500000}))
    assert r.status_code == 201, r.text
    first_seq = r.json()["seq"]
    # The same content again changes nothing and appends nothing.
    r = put(mission, "juba", place(properties={"population": 500000}))
    assert r.status_code == 200 and r.json()["changed"] is False and r.json()["seq"] == first_seq
    r = put(mission, "juba", place("Juba town", properties={"population": 500000}))
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["seq"] > first_seq
    assert put(mission, "area", {"kind": "mission_area", "names": {"en": "Mission area"}, "geometry": SQUARE}
               ).status_code == 201
    assert put(mission, "site-1", {"kind": "sensitive_site", "names": {"fr": "École"}, "geometry": SQUARE}
               ).status_code == 201
    r = mission.client.get("/api/v1/reference", params={"kind": "place"}, headers=mission.headers("patrol_b"))
    assert r.status_code == 200
    (item,) = r.json()["items"]
    assert item["names"]["en"] == "Juba town" and item["properties"] == {"population": 500000}
    everything = mission.client.get("/api/v1/reference", headers=mission.headers("commander_a")).json()["items"]
    assert [i["id"] for i in everything] == ["area", "juba", "site-1"]
    assert mission.client.get("/api/v1/reference", headers=mission.headers("admin")).status_code == 200
    r = mission.client.delete(f"{URL}/site-1", headers=mission.headers("admin"))
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert mission.client.delete(f"{URL}/site-1", headers=mission.headers("admin")).status_code == 404
    changes = pull(mission)
    assert [(c["kind"], c["item"]["id"], c["item"]["deleted"]) for c in changes] == [
        ("reference", "juba", False), ("reference", "juba", False), ("reference", "area", False),
        ("reference", "site-1", False), ("reference", "site-1", True)]
    assert changes[1]["item"]["names"]["en"] == "Juba town"
    # Resuming after the second change gives exactly the rest.
    assert pull(mission, since=changes[1]["seq"]) == changes[2:]


def test_only_admins_write_and_only_signed_in_users_read(mission: Mission) -> None:
    for user in ("patrol_a", "commander_a", "analyst", "protection"):
        assert put(mission, "juba", place(), user=user).status_code == 403, user
        assert mission.client.delete(f"{URL}/juba", headers=mission.headers(user)).status_code == 403, user
    assert mission.client.get("/api/v1/reference").status_code == 401
    assert mission.client.put(f"{URL}/juba", json=place()).status_code == 401


def test_bad_items_are_refused_naming_the_field(mission: Mission) -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[30, 1], [31, 2], [31, 1], [30, 2], [30, 1]]]}
    cases = [
        ("juba", place() | {"kind": "village"}, "kind"),
        ("juba", place() | {"names": {}}, "names"),
        ("juba", place() | {"names": {"de": "Juba"}}, "names.de"),
        ("juba", place(lat=95.0), "geometry.coordinates"),
        ("juba", place() | {"geometry": {"type": "Point", "coordinates": ["a", "b"]}}, "geometry.coordinates"),
        ("area", {"kind": "mission_area", "names": {"en": "x"}, "geometry": {"type": "Point", "coordinates": [30, 1]}},
         "geometry.type"),
        ("area", {"kind": "admin_boundary", "names": {"en": "x"}, "geometry": bow_tie}, "geometry.coordinates"),
        ("area", {"kind": "admin_boundary", "names": {"en": "x"}, "geometry": SQUARE, "extra": 1}, "extra"),
        ("bad id!", place(), "item_id"),
    ]
    for item_id, item, field in cases:
        r = put(mission, item_id, item)
        assert r.status_code == 422 and r.json()["field"] == field, (field, r.text)
    r = mission.client.get("/api/v1/reference", params={"kind": "village"}, headers=mission.headers("patrol_a"))
    assert r.status_code == 422 and r.json()["field"] == "kind"
    assert mission.client.get("/api/v1/reference", headers=mission.headers("patrol_a")).json()["items"] == []
