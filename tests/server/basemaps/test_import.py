"""Base map import (CLI) and tile serving (API): a test-built MBTiles and PMTiles, and bad files.

Every import goes through ``peacewatch admin import-basemap`` on the test's database (SQLite and
PostgreSQL); tiles are then read back through the API as a signed-in user would.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from mbtiles_builder import build_mbtiles, build_pmtiles, tile_colour, tile_image
from PIL import Image

from peacewatch.server.cli import main


def run_import(settings, db_url: str, path: Path, name: str, *extra: str) -> int:
    return main(["admin", "import-basemap", str(path), "--name", name, "--data-dir", str(settings.data_dir),
                 "--database-url", db_url, *extra])


def stored_files(settings) -> list[str]:
    root = settings.data_dir / "basemaps"
    return sorted(p.name for p in root.glob("*.mbtiles")) if root.exists() else []


def leftovers(settings) -> list[str]:
    tmp = settings.data_dir / "basemaps" / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def pixel(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").getpixel((128, 128))


def test_import_mbtiles_and_serve_tiles(client, mission, settings, db_url, tmp_path, capsys) -> None:
    src = tmp_path / "topo.mbtiles"
    tiles = build_mbtiles(src)
    assert run_import(settings, db_url, src, "topo", "--title", "Topographic") == 0
    assert "base map topo imported" in capsys.readouterr().out

    listing = client.get("/api/v1/basemaps", headers=mission.headers("patrol_a"))
    assert listing.status_code == 200
    [bm] = listing.json()["basemaps"]
    assert (bm["name"], bm["title"], bm["format"], bm["minzoom"], bm["maxzoom"]) == ("topo", "Topographic", "png", 8, 10)
    assert bm["tile_count"] == len(tiles)
    assert bm["bounds"] == pytest.approx([30.0, 1.5, 30.4, 1.9])

    z, x, y = max(tiles)
    url = bm["tiles"].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    r = client.get(url, headers=mission.headers("commander_b"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    # The pixel encodes the XYZ address: the MBTiles TMS row was flipped correctly.
    assert pixel(r.content) == tile_colour(z, x, y)
    assert "immutable" in r.headers["cache-control"] and "max-age=31536000" in r.headers["cache-control"]
    etag = r.headers["etag"]
    again = client.get(url, headers={**mission.headers("commander_b"), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # Without the version in the URL the browser must revalidate (a re-import changes the tile).
    plain = client.get(f"/api/v1/basemaps/topo/{z}/{x}/{y}", headers=mission.headers("admin"))
    assert plain.status_code == 200 and "no-cache" in plain.headers["cache-control"]

    outside = client.get(f"/api/v1/basemaps/topo/{z}/{x + 50}/{y}", headers=mission.headers("analyst"))
    assert outside.status_code == 404 and outside.json()["error"] == "not_found"
    too_deep = client.get(f"/api/v1/basemaps/topo/12/{x}/{y}", headers=mission.headers("analyst"))
    assert too_deep.status_code == 404
    off_world = client.get("/api/v1/basemaps/topo/3/9/0", headers=mission.headers("analyst"))
    assert off_world.status_code == 422 and off_world.json()["field"] == "x"
    missing = client.get(f"/api/v1/basemaps/imagery/{z}/{x}/{y}", headers=mission.headers("analyst"))
    assert missing.status_code == 404 and "imagery" in missing.json()["message"]
    assert client.get(url).status_code == 401


def test_pmtiles_import_and_several_named_maps(client, mission, settings, db_url, tmp_path) -> None:
    pm = tmp_path / "imagery.pmtiles"
    tiles = build_pmtiles(pm)
    mb = tmp_path / "topo.mbtiles"
    build_mbtiles(mb, fmt="jpg", zooms=range(9, 10))
    assert run_import(settings, db_url, pm, "imagery") == 0
    assert run_import(settings, db_url, mb, "topo") == 0
    listing = client.get("/api/v1/basemaps", headers=mission.headers("hr")).json()["basemaps"]
    assert [(b["name"], b["format"]) for b in listing] == [("imagery", "png"), ("topo", "jpg")]
    assert listing[0]["title"] == "PMTiles test map"
    for z, x, y in tiles[:5]:
        r = client.get(f"/api/v1/basemaps/imagery/{z}/{x}/{y}", headers=mission.headers("patrol_b"))
        assert r.status_code == 200
        assert r.content == tile_image(z, x, y)  # converted byte for byte


def test_reimport_replaces_the_file(client, mission, settings, db_url, tmp_path) -> None:
    first = tmp_path / "a.mbtiles"
    build_mbtiles(first, zooms=range(8, 10))
    second = tmp_path / "b.mbtiles"
    build_mbtiles(second, zooms=range(8, 11))
    assert run_import(settings, db_url, first, "topo") == 0
    v1 = client.get("/api/v1/basemaps", headers=mission.headers("admin")).json()["basemaps"][0]["version"]
    assert run_import(settings, db_url, second, "topo") == 0
    [bm] = client.get("/api/v1/basemaps", headers=mission.headers("admin")).json()["basemaps"]
    assert bm["version"] != v1 and bm["maxzoom"] == 10
    assert stored_files(settings) == [f"topo-{bm['version']}.mbtiles"]
    assert leftovers(settings) == []


def _made(path: Path, _written: object) -> Path:
    return path


def _truncated(path: Path, tmp_path: Path) -> Path:
    good = tmp_path / "good.mbtiles"
    build_mbtiles(good)
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _corrupt_tile(path: Path, tmp_path: Path) -> Path:
    build_mbtiles(path, data_for=lambda z, x, y: tile_image(z, x, y)[:60])
    return path


BAD_FILES = {
    "text": (lambda p, t: _made(p, p.write_text("hello, not a map")), "not an MBTiles"),
    "truncated": (_truncated, "MBTiles"),
    "no tables": (lambda p, t: _made(p, sqlite3.connect(p).execute("CREATE TABLE x (a)").connection.commit()),
                  "MBTiles"),
    "empty": (lambda p, t: _made(p, build_mbtiles(p, bounds=(30.0, 1.5, 30.4, 1.9), zooms=range(0, 0))), "no tiles"),
    "vector": (lambda p, t: _made(p, build_mbtiles(p, metadata={"format": "pbf"})), "vector tiles"),
    "wrong format": (lambda p, t: _made(p, build_mbtiles(p, fmt="png", metadata={"format": "jpg"})), "metadata says"),
    "bad bounds": (lambda p, t: _made(p, build_mbtiles(p, metadata={"bounds": "31,1,30,2"})), "bounds"),
    "outside bounds": (lambda p, t: _made(p, build_mbtiles(p, extra=[(10, 10, 10, tile_image(10, 10, 10))])),
                       "outside the declared bounds"),
    "corrupt tile": (_corrupt_tile, "cannot be decoded"),
    "bad zoom": (lambda p, t: _made(p, build_mbtiles(p, metadata={"maxzoom": "40"})), "maxzoom"),
    "not square": (lambda p, t: _made(p, build_mbtiles(p, data_for=lambda z, x, y: _png(300, 200))), "256x256"),
    "pmtiles truncated": (lambda p, t: _made(p, build_pmtiles(t / "x.pmtiles") and
                                             p.write_bytes((t / "x.pmtiles").read_bytes()[:200])), "PMTiles"),
}


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_with_nothing_stored(case, client, mission, settings, db_url, tmp_path, capsys) -> None:
    make, expected = BAD_FILES[case]
    path = make(tmp_path / f"bad-{case.replace(' ', '-')}.mbtiles", tmp_path)
    assert run_import(settings, db_url, path, "topo") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: file: ") and expected in err, err
    assert client.get("/api/v1/basemaps", headers=mission.headers("admin")).json()["basemaps"] == []
    assert stored_files(settings) == [] and leftovers(settings) == []


def test_huge_file_bad_name_and_missing_file(client, mission, settings, db_url, tmp_path, capsys, monkeypatch) -> None:
    src = tmp_path / "topo.mbtiles"
    build_mbtiles(src)
    monkeypatch.setenv("PEACEWATCH_MAX_BASEMAP_BYTES", "1000")
    assert run_import(settings, db_url, src, "topo") == 2
    assert "over the limit" in capsys.readouterr().err
    monkeypatch.delenv("PEACEWATCH_MAX_BASEMAP_BYTES")
    assert run_import(settings, db_url, src, "Bad Name!") == 2
    assert "error: name:" in capsys.readouterr().err
    assert run_import(settings, db_url, tmp_path / "nope.mbtiles", "topo") == 2
    assert "no such file" in capsys.readouterr().err
    assert client.get("/api/v1/basemaps", headers=mission.headers("admin")).json()["basemaps"] == []
