"""The tablet's tile store and HQ's layers, against the real app in-process (both databases)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from mbtiles_builder import build_mbtiles, tile_image
from sqlalchemy import Engine

from factories import Mission, build_mission
from peacewatch.common.tile_chunks import decode_chunk
from peacewatch.mobile.core.tiles import TilePackages, refresh_layers
from peacewatch.server.basemaps.service import import_file

AREA = {"bounds": [30.02, 1.52, 30.2, 1.7], "minzoom": 8, "maxzoom": 11, "max_mb": 10}


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    return build_mission(client, engine, enrol_for=("patrol_a",))


def test_decode_chunk_refuses_malformed_bytes() -> None:
    assert list(decode_chunk(b"")) == []
    with pytest.raises(ValueError):
        list(decode_chunk(b"\x01\x00"))
    with pytest.raises(ValueError):
        list(decode_chunk(b"\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x10abc"))  # x beyond zoom 1


def test_download_then_layers_follow_sync(store, client, mission, settings, engine, tmp_path) -> None:
    src = tmp_path / "topo.mbtiles"
    build_mbtiles(src, bounds=(30.0, 1.5, 30.4, 1.9), zooms=range(8, 12))
    import_file(engine, settings, path=src, name="topo")
    client.put("/api/v1/admin/areas/ALPHA", headers=mission.headers("admin"), json=AREA)
    credential = mission.devices["patrol_a"][1]
    tiles = TilePackages(store)
    # No map on the tablet yet: nothing is asked of the server after a sync.
    assert refresh_layers(store, client, "http://testserver", credential) is False
    assert tiles.layer("hotspots") is None

    result = tiles.download(client, "http://testserver", credential, "topo")
    assert result.complete and result.chunks_fetched == result.chunks_total > 0 and result.failures == 0
    pkg = tiles.package("topo")
    assert pkg is not None and pkg.complete and (pkg.minzoom, pkg.maxzoom) == (8, 11)
    z, x, y = 11, *_some_tile(store)
    assert tiles.tile("topo", z, x, y) == tile_image(z, x, y)
    assert tiles.tile("topo", 3, 0, 0) is None

    again = tiles.download(client, "http://testserver", credential, "topo")
    assert again.complete and again.chunks_fetched == 0 and again.chunks_kept == again.chunks_total

    assert refresh_layers(store, client, "http://testserver", credential) is True
    assert tiles.layer("hotspots") == {"type": "FeatureCollection", "features": []}
    assert tiles.layer("area")["bounds"] == AREA["bounds"]

    refused = tiles.download(client, "http://testserver", credential, "imagery")
    assert not refused.complete and "imagery" in refused.last_error


def _some_tile(store) -> tuple[int, int]:
    x, y = store.query("SELECT x, y FROM map_tiles WHERE z = 11 LIMIT 1")[0]
    return int(x), int(y)
