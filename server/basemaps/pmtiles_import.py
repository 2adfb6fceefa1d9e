"""PMTiles (v3) archives converted to MBTiles at import, read with the ``pmtiles`` package.

The archive's header gives the tile type, zoom range, bounds and centre; its JSON metadata gives the
name and attribution. Tiles are written to a plain MBTiles file (rows flipped to TMS), which then
goes through exactly the same checks as an MBTiles import.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from .mbtiles import bad
from .tilemath import tms_row

PMTILES_MAGIC = b"PMTiles"
RASTER_TYPES = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp"}
BATCH = 2000


def is_pmtiles(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(PMTILES_MAGIC)) == PMTILES_MAGIC


def convert(source: Path, target: Path) -> None:
    """Write ``source`` (PMTiles) as an MBTiles file at ``target``; a ``Problem`` if it cannot be read."""
    with source.open("rb") as fh:
        try:
            get_bytes = MmapSource(fh)
        except (ValueError, OSError) as exc:
            raise bad(f"not a readable PMTiles archive: {exc}") from None
        try:
            reader = Reader(get_bytes)
            header = reader.header()
            if header.get("version") != 3:
                raise bad(f"PMTiles version {header.get('version')} is not supported (version 3 is)")
            if header["tile_type"] == TileType.MVT:
                raise bad("vector tiles (MVT) are not supported: give raster PNG, JPEG or WebP tiles")
            fmt = RASTER_TYPES.get(header["tile_type"])
            if fmt is None:
                raise bad(f"PMTiles tile type {header['tile_type'].name} is not PNG, JPEG or WebP")
            if header["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN):
                raise bad(f"PMTiles tile compression {header['tile_compression'].name} is not supported for raster tiles")
            metadata = reader.metadata() if header["metadata_length"] else {}
            meta = {
                "name": str(metadata.get("name", "")), "attribution": str(metadata.get("attribution", "")),
                "format": fmt, "minzoom": str(header["min_zoom"]), "maxzoom": str(header["max_zoom"]),
                "bounds": ",".join(str(header[k] / 1e7) for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7",
                                                                   "max_lat_e7")),
                "center": f"{header['center_lon_e7'] / 1e7},{header['center_lat_e7'] / 1e7},{header['center_zoom']}",
            }
            conn = sqlite3.connect(target)
            try:
                conn.executescript(
                    "CREATE TABLE metadata (name TEXT, value TEXT);"
                    "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);")
                conn.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
                batch: list[tuple[int, int, int, bytes]] = []
                for (z, x, y), data in all_tiles(get_bytes):
                    batch.append((z, x, tms_row(z, y), bytes(data)))
                    if len(batch) >= BATCH:
                        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
                        batch.clear()
                conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", batch)
                conn.commit()
            finally:
                conn.close()
        except (ValueError, KeyError, IndexError, EOFError, OSError, json.JSONDecodeError) as exc:  # a truncated or corrupt archive
            raise bad(f"not a readable PMTiles archive: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - the pmtiles package raises bare errors on corrupt input
            if type(exc).__module__.startswith("peacewatch"):
                raise
            raise bad(f"not a readable PMTiles archive: {type(exc).__name__}: {exc}") from None
