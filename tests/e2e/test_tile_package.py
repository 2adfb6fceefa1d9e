"""End-to-end: a tablet downloads its contingent's tile package through a link that keeps failing.

The real server (uvicorn on 127.0.0.1) holds a base map imported from a test-built MBTiles file;
an administrator sets ALPHA's area of responsibility; patrol_a's tablet (the real encrypted store)
downloads the package through :class:`LossyProxy`, which refuses, cuts and stalls connections.
Each attempt may give up after a few failures; the next one resumes. At the end every tile on the
tablet is byte-identical to the server's and each chunk was stored once. Then the base map is
re-imported with a few tiles changed: the update fetches only the chunks holding them.
"""

from __future__ import annotations

import io
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from e2e.live_server import live_server
from e2e.lossy_proxy import LossyProxy
from e2e.tablets import Tablet
from fastapi.testclient import TestClient
from mbtiles_builder import build_mbtiles
from PIL import Image
from sqlalchemy import Engine, select

from factories import Mission, build_mission
from peacewatch.mobile.core.tiles import TilePackages
from peacewatch.server.app import create_app
from peacewatch.server.basemaps.service import import_file
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import basemaps

BOUNDS = (30.0, 1.5, 30.2, 1.7)
AREA = [30.02, 1.52, 30.15, 1.65]


def noisy_tile(seed: int) -> bytes:
    """A PNG that does not compress away (~40 KB), so chunks take a while to cross the link."""
    rng = random.Random(seed)
    img = Image.new("RGB", (256, 256), (200, 220, 200))
    img.paste(Image.frombytes("RGB", (110, 110), rng.randbytes(110 * 110 * 3)), (70, 70))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def mission(settings: Settings, engine: Engine) -> Iterator[Mission]:
    with TestClient(create_app(settings, engine)) as c:
        yield build_mission(c, engine, enrol_for=("patrol_a",))


def _server_tiles(settings: Settings, engine: Engine) -> dict[tuple[int, int, int], bytes]:
    with engine.connect() as conn:
        file = conn.execute(select(basemaps.c.file).where(basemaps.c.name == "topo")).scalar_one()
    db = sqlite3.connect(settings.basemaps_dir / file)
    try:
        return {(z, x, (1 << z) - 1 - r): bytes(d) for z, x, r, d in
                db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")}
    finally:
        db.close()


def _tablet_tiles(tablet: Tablet) -> dict[tuple[int, int, int], bytes]:
    return {(z, x, y): bytes(d) for z, x, y, d in
            tablet.store.query("SELECT z, x, y, data FROM map_tiles WHERE basemap = 'topo'")}


def test_tile_package_survives_a_lossy_link_and_updates_only_changed_chunks(
        tmp_path: Path, settings: Settings, engine: Engine, mission: Mission) -> None:
    source = tmp_path / "topo.mbtiles"
    build_mbtiles(source, bounds=BOUNDS, zooms=range(8, 15),
                  data_for=lambda z, x, y: noisy_tile(z * 1_000_003 + x * 1009 + y))
    import_file(engine, settings, path=source, name="topo")
    admin = mission.headers("admin")
    r = mission.client.put("/api/v1/admin/areas/ALPHA", headers=admin,
                           json={"bounds": AREA, "minzoom": 8, "maxzoom": 14, "max_mb": 100})
    assert r.status_code == 200, r.text

    tablet = Tablet(tmp_path / "tablet", username="patrol_a", device_id=mission.devices["patrol_a"][0],
                    credential=mission.devices["patrol_a"][1])
    tiles = TilePackages(tablet.store)
    try:
        with live_server(settings, engine) as server, \
                LossyProxy(server, seed=21, cut_after=(0.05, 0.6), every_fault_early=True) as proxy:
            session = requests.Session()
            fetched, results = 0, []
            for _ in range(60):  # bounded: each attempt gives up after 3 failures
                result = tiles.download(session, proxy.url, tablet.credential, "topo", max_failures=3,
                                        backoff=(0.01, 0.05), timeout=5.0)
                results.append(result)
                fetched += result.chunks_fetched
                if result.complete:
                    break
            assert result.complete, results[-3:]
            assert proxy.stats.cut + proxy.stats.refused + proxy.stats.stalled > 0
            assert sum(r.failures for r in results) > 0, "the link never failed: the test proved nothing"
            # Each chunk crossed (and was stored) once, however often the link dropped.
            assert fetched == result.chunks_total > 10
        package = tiles.package("topo")
        assert package is not None and package.complete and package.maxzoom == 14
        on_server = _server_tiles(settings, engine)
        on_tablet = _tablet_tiles(tablet)
        assert len(on_tablet) == package.tiles > 50
        assert all(on_tablet[k] == on_server[k] for k in on_tablet), "a tile differs from the server's"
        # The package covers the area: every server tile inside it is on the tablet.
        assert len(on_tablet) < len(on_server)
        assert tiles.tile("topo", 14, *next((x, y) for z, x, y in on_tablet if z == 14)) is not None

        # HQ updates the base map: three z14 tiles change. Only their chunks cross the link.
        changed = sorted(k for k in on_tablet if k[0] == 14)[:3]
        build_mbtiles(tmp_path / "topo2.mbtiles", bounds=BOUNDS, zooms=range(8, 15),
                      data_for=lambda z, x, y: noisy_tile(z * 1_000_003 + x * 1009 + y + (7 if (z, x, y) in changed
                                                                                           else 0)))
        import_file(engine, settings, path=tmp_path / "topo2.mbtiles", name="topo")
        with live_server(settings, engine) as server:
            update = tiles.download(requests.Session(), f"http://{server[0]}:{server[1]}", tablet.credential, "topo")
        changed_chunks = {(z, x // 4, y // 4) for z, x, y in changed}
        assert update.complete and update.chunks_fetched == len(changed_chunks) == update.chunks_dropped
        assert update.chunks_kept == update.chunks_total - len(changed_chunks)
        on_server = _server_tiles(settings, engine)
        on_tablet = _tablet_tiles(tablet)
        assert all(on_tablet[k] == on_server[k] for k in on_tablet)
        assert all(on_tablet[k] != _old for k, _old in ((k, noisy_tile(k[0] * 1_000_003 + k[1] * 1009 + k[2]))
                                                          for k in changed))
    finally:
        tablet.close()
