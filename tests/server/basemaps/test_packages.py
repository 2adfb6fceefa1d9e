"""Areas of responsibility (admin API) and tile package manifests and chunks (tablet API)."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from mbtiles_builder import build_mbtiles, tile_image

from peacewatch.server.basemaps.service import import_file

AREA = {"bounds": [30.02, 1.52, 30.1, 1.6], "minzoom": 8, "maxzoom": 12, "max_mb": 50}


@pytest.fixture(scope="module")
def topo_source(tmp_path_factory) -> tuple[Path, list[tuple[int, int, int]]]:
    src = tmp_path_factory.mktemp("topo") / "topo.mbtiles"
    return src, build_mbtiles(src, bounds=(29.8, 1.3, 30.6, 2.1), zooms=range(8, 14))


@pytest.fixture
def topo(settings, engine, topo_source) -> list[tuple[int, int, int]]:
    import_file(engine, settings, path=topo_source[0], name="topo")
    return topo_source[1]


def decode(data: bytes) -> list[tuple[int, int, int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        z, x, y, n = struct.unpack_from(">BIII", data, pos)
        pos += 13
        out.append((z, x, y, data[pos:pos + n]))
        pos += n
    return out


def test_admin_sets_areas_and_a_tablet_gets_its_package(client, mission, topo) -> None:
    admin = mission.headers("admin")
    assert client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=AREA).status_code == 200
    listed = client.get("/api/v1/admin/areas", headers=admin).json()["areas"]
    assert listed == [{"contingent": "ALPHA", "bounds": AREA["bounds"], "minzoom": 8, "maxzoom": 12,
                       "max_bytes": 50 * 1024 * 1024}]

    r = client.get("/api/v1/basemaps/topo/package", headers=mission.device_headers("patrol_a"))
    assert r.status_code == 200, r.text
    pkg = r.json()
    assert (pkg["contingent"], pkg["minzoom"], pkg["maxzoom"], pkg["cut_to_budget"]) == ("ALPHA", 8, 12, False)
    assert pkg["bytes"] == sum(c["size"] for c in pkg["chunks"])
    assert len({c["sha256"] for c in pkg["chunks"]}) == len(pkg["chunks"])
    got: dict[tuple[int, int, int], bytes] = {}
    for c in pkg["chunks"]:
        chunk = client.get(f"/api/v1/basemaps/topo/chunks/{c['sha256']}", headers=mission.headers("patrol_a"))
        assert chunk.status_code == 200 and "immutable" in chunk.headers["cache-control"]
        assert hashlib.sha256(chunk.content).hexdigest() == c["sha256"] and len(chunk.content) == c["size"]
        got.update({(z, x, y): d for z, x, y, d in decode(chunk.content)})
    assert len(got) == pkg["tiles"] < len(topo)
    assert all(data == tile_image(*key) for key, data in got.items())
    assert {z for z, _x, _y in got} == set(range(8, 13))

    # A commander of the same contingent gets the same package; HQ may name a contingent.
    same = client.get("/api/v1/basemaps/topo/package", headers=mission.headers("commander_a")).json()
    assert same["chunks"] == pkg["chunks"]
    hq = client.get("/api/v1/basemaps/topo/package?contingent=ALPHA", headers=mission.headers("analyst"))
    assert hq.status_code == 200 and hq.json()["chunks"] == pkg["chunks"]


def test_budget_drops_whole_zoom_levels_from_the_top(client, mission, topo) -> None:
    admin = mission.headers("admin")
    full = dict(AREA, max_mb=50)
    client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=full)
    whole = client.get("/api/v1/basemaps/topo/package", headers=mission.headers("patrol_a")).json()
    per_zoom = {z: sum(c["size"] for c in whole["chunks"] if c["z"] == z) for z in range(8, 13)}
    cap = sum(per_zoom[z] for z in range(8, 11)) + per_zoom[11] // 2  # room for 8-10 and half of 11
    client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=dict(AREA, max_mb=max(cap, 1048576) / 1048576))
    cut = client.get("/api/v1/basemaps/topo/package", headers=mission.headers("patrol_a")).json()
    if cap >= 1048576:
        assert cut["maxzoom"] == 10 and cut["cut_to_budget"] and cut["bytes"] <= cap
    else:  # the test tiles are tiny: the 1 MB floor holds them all
        assert cut["maxzoom"] == 12 and not cut["cut_to_budget"]
    assert cut["requested_maxzoom"] == 12


def test_package_and_area_refusals(client, mission, topo) -> None:
    admin = mission.headers("admin")
    patrol = mission.headers("patrol_a")
    missing = client.get("/api/v1/basemaps/topo/package", headers=patrol)
    assert missing.status_code == 404 and "area of responsibility" in missing.json()["message"]
    client.put("/api/v1/admin/areas/BRAVO", headers=admin, json=AREA)
    other = client.get("/api/v1/basemaps/topo/package?contingent=BRAVO", headers=patrol)
    assert other.status_code == 403
    none = client.get("/api/v1/basemaps/topo/package", headers=mission.headers("analyst"))
    assert none.status_code == 422 and none.json()["field"] == "contingent"
    assert client.get("/api/v1/basemaps/imagery/package?contingent=BRAVO", headers=admin).status_code == 404
    bad = client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=dict(AREA, bounds=[31, 1, 30, 2]))
    assert bad.status_code == 422 and bad.json()["field"] == "bounds"
    bad = client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=dict(AREA, minzoom=13))
    assert bad.status_code == 422 and bad.json()["field"] == "maxzoom"
    bad = client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=dict(AREA, bounds=[30, 1]))
    assert bad.status_code == 422 and bad.json()["field"] == "bounds"
    assert client.put("/api/v1/admin/areas/NOPE", headers=admin, json=AREA).status_code == 404
    assert client.put("/api/v1/admin/areas/ALPHA", headers=patrol, json=AREA).status_code == 403
    assert client.get(f"/api/v1/basemaps/topo/chunks/{'0' * 64}", headers=patrol).status_code == 404
    r = client.get("/api/v1/basemaps/topo/chunks/not-a-hash", headers=patrol)
    assert r.status_code == 422 and r.json()["field"] == "sha256"
    assert client.delete("/api/v1/admin/areas/BRAVO", headers=admin).status_code == 204
    assert client.get("/api/v1/basemaps/topo/package?contingent=BRAVO", headers=admin).status_code == 404


def test_cli_sets_an_area(settings, db_url, client, mission, topo, capsys) -> None:
    from peacewatch.server.cli import main

    common = ["--data-dir", str(settings.data_dir), "--database-url", db_url]
    assert main(["admin", "set-area", "ALPHA", "--bounds", "30.02,1.52,30.3,1.8", "--max-mb", "20", *common]) == 0
    assert "area of ALPHA" in capsys.readouterr().out
    assert main(["admin", "set-area", "ALPHA", "--bounds", "30,1,x,2", *common]) == 2
    assert "bounds" in capsys.readouterr().err
    assert main(["admin", "list-basemaps", *common]) == 0
    assert "topo" in capsys.readouterr().out
    assert client.get("/api/v1/admin/areas", headers=mission.headers("admin")).json()["areas"][0]["max_bytes"] == \
        20 * 1024 * 1024
