"""Tile packages: a base map cut into content-addressed chunks, so a tablet carries its area offline.

A chunk is one *metatile*: the tiles of a ``META`` x ``META`` block at one zoom, serialised in a
fixed order (``encode_chunk``) and named by the SHA-256 of those bytes, like an attachment chunk.
The chunk index is written into the stored MBTiles file at import, so it is computed once per
base map. A package is the list of chunks covering an area over a zoom range, cut to a byte
budget (whole zoom levels are dropped from the top until it fits). A tablet fetches the chunks
it lacks, checks each one's hash, and on an update fetches only chunks whose hash it does not
hold: a changed tile changes only its own metatile's chunk.

Chunk bytes: ``common/tile_chunks.py``, shared with the tablet that reads them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from peacewatch.common.tile_chunks import encode_chunk

from .tilemath import tile_range, tms_row

META = 4  # a metatile is 4 x 4 tiles: ~16 tiles, a few hundred KB, one resumable unit

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS pw_chunks (sha256 TEXT PRIMARY KEY, zoom_level INTEGER NOT NULL, mx INTEGER NOT NULL,
                                      my INTEGER NOT NULL, size INTEGER NOT NULL, tiles INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pw_chunks_block ON pw_chunks (zoom_level, mx, my);
"""


def _metatile_tiles(conn: sqlite3.Connection, z: int, mx: int, my: int) -> list[tuple[int, int, int, bytes]]:
    x0, y0 = mx * META, my * META
    # XYZ rows y0..y0+META-1 are TMS rows flip(y0+META-1)..flip(y0).
    r_lo, r_hi = tms_row(z, min(y0 + META - 1, (1 << z) - 1)), tms_row(z, y0)
    rows = conn.execute(
        "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ? AND tile_column BETWEEN ? AND ? "
        "AND tile_row BETWEEN ? AND ?", (z, x0, x0 + META - 1, r_lo, r_hi)).fetchall()
    return [(z, int(x), tms_row(z, int(r)), bytes(d)) for x, r, d in rows]


def build_index(conn: sqlite3.Connection) -> int:
    """Write the chunk index of a stored MBTiles file (in its own transaction); returns the chunk count."""
    conn.executescript(INDEX_SCHEMA)
    blocks = conn.execute(
        "SELECT DISTINCT zoom_level, tile_column / ?, ((1 << zoom_level) - 1 - tile_row) / ? FROM tiles",
        (META, META)).fetchall()
    rows = []
    for z, mx, my in blocks:
        tiles = _metatile_tiles(conn, int(z), int(mx), int(my))
        data = encode_chunk(tiles)
        rows.append((hashlib.sha256(data).hexdigest(), int(z), int(mx), int(my), len(data), len(tiles)))
    # Two metatiles with identical bytes cannot happen (the records carry their coordinates).
    conn.executemany("INSERT INTO pw_chunks VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    return len(rows)


def read_chunk(conn: sqlite3.Connection, sha256: str) -> bytes | None:
    """A chunk's bytes by its hash, or ``None`` if this base map has no such chunk."""
    row = conn.execute("SELECT zoom_level, mx, my FROM pw_chunks WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        return None
    data = encode_chunk(_metatile_tiles(conn, int(row[0]), int(row[1]), int(row[2])))
    if hashlib.sha256(data).hexdigest() != sha256:  # the file changed under us: never serve wrong bytes
        return None
    return data


@dataclass(frozen=True)
class Budget:
    minzoom: int
    maxzoom: int
    max_bytes: int


def plan(conn: sqlite3.Connection, *, bounds: tuple[float, float, float, float], budget: Budget) -> dict[str, Any]:
    """The chunks covering ``bounds`` from ``budget.minzoom`` up, whole zooms only, within ``max_bytes``."""
    chunks: list[dict[str, Any]] = []
    total = 0
    reached = None
    cut = False
    for z in range(budget.minzoom, budget.maxzoom + 1):
        x0, y0, x1, y1 = tile_range(bounds, z)
        rows = conn.execute(
            "SELECT sha256, size, tiles, mx, my FROM pw_chunks WHERE zoom_level = ? AND mx BETWEEN ? AND ? "
            "AND my BETWEEN ? AND ? ORDER BY mx, my", (z, x0 // META, x1 // META, y0 // META, y1 // META)).fetchall()
        level = sum(int(r[1]) for r in rows)
        if total + level > budget.max_bytes:
            cut = True
            break
        total += level
        reached = z
        chunks += [{"sha256": r[0], "size": int(r[1]), "tiles": int(r[2]), "z": z} for r in rows]
    return {"minzoom": budget.minzoom, "maxzoom": reached, "requested_maxzoom": budget.maxzoom,
            "cut_to_budget": cut, "bytes": total, "chunks": chunks,
            "tiles": sum(c["tiles"] for c in chunks)}
