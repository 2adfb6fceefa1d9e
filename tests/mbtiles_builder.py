"""Builds small raster MBTiles and PMTiles files for the tests, independently of the server's code.

Each tile is a flat colour encoding its own address (red = x mod 256, green = y mod 256 in the XYZ
scheme, blue = 10 * z), so a test can tell from a served tile's pixel that the right tile (and
the TMS row flip) came back.
"""

from __future__ import annotations

import io
import math
import sqlite3
from pathlib import Path

from PIL import Image


def xyz_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return min(x, n - 1), min(y, n - 1)


def tile_colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    return x % 256, y % 256, (10 * z) % 256


def tile_image(z: int, x: int, y: int, fmt: str = "png", size: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), tile_colour(z, x, y)).save(buf, {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[fmt],
                                                              **({"quality": 95} if fmt == "jpg" else {}))
    return buf.getvalue()


def tiles_for(bounds: tuple[float, float, float, float], zooms: range) -> list[tuple[int, int, int]]:
    west, south, east, north = bounds
    out = []
    for z in zooms:
        x0, y0 = xyz_tile(west, north, z)
        x1, y1 = xyz_tile(east - 1e-9, south + 1e-9, z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def build_mbtiles(path: Path, *, bounds: tuple[float, float, float, float] = (30.0, 1.5, 30.4, 1.9),
                  zooms: range = range(8, 11), fmt: str = "png", metadata: dict[str, str] | None = None,
                  extra: list[tuple[int, int, int, bytes]] | None = None, data_for=None) -> list[tuple[int, int, int]]:
    """Write an MBTiles file (TMS rows, as the spec says); returns the XYZ addresses written."""
    tiles = tiles_for(bounds, zooms)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name text, value text)")
    conn.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
    meta = {"name": "Test map", "format": fmt, "minzoom": str(zooms.start), "maxzoom": str(zooms.stop - 1),
            "bounds": ",".join(str(v) for v in bounds), "attribution": "test fixture"}
    meta.update(metadata or {})
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, v) for k, v in meta.items() if v is not None])
    for z, x, y in tiles:
        data = data_for(z, x, y) if data_for else tile_image(z, x, y, fmt)
        conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, data))
    for z, x, y, data in extra or []:
        conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, data))
    conn.commit()
    conn.close()
    return tiles


def build_pmtiles(path: Path, *, bounds: tuple[float, float, float, float] = (30.0, 1.5, 30.4, 1.9),
                  zooms: range = range(8, 11)) -> list[tuple[int, int, int]]:
    """A PMTiles v3 archive of PNG tiles, written with the ``pmtiles`` package's writer."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    tiles = tiles_for(bounds, zooms)
    with path.open("wb") as fh:
        writer = Writer(fh)
        for z, x, y in sorted(tiles, key=lambda t: zxy_to_tileid(*t)):
            writer.write_tile(zxy_to_tileid(z, x, y), tile_image(z, x, y))
        west, south, east, north = bounds
        writer.finalize(
            {"tile_type": TileType.PNG, "tile_compression": Compression.NONE,
             "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7), "max_lon_e7": int(east * 1e7),
             "max_lat_e7": int(north * 1e7), "center_zoom": zooms.start, "center_lon_e7": int((west + east) / 2 * 1e7),
             "center_lat_e7": int((south + north) / 2 * 1e7)},
            {"name": "PMTiles test map", "attribution": "test fixture"})
    return tiles
