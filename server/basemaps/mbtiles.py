"""Reading and checking MBTiles files (the MBTiles 1.3 spec), and writing the server's own copy.

An imported file is checked before anything is stored: it must be an SQLite database with the
spec's ``metadata`` and ``tiles`` tables (or views), raster tiles (PNG, JPEG or WebP) whose bytes
match the declared format, a zoom range within 0..22, bounds inside the Web-Mercator world, no
tile lying outside those bounds, and a sample of tiles that Pillow decodes as square images.
Every refusal is a ``Problem`` naming the ``file`` field, so the CLI exits 2 and the API answers
422 with one clear sentence.

The stored copy is a normalised MBTiles file (``tiles`` keyed by zoom/column/row, the metadata
rewritten from what was checked) plus the package chunk index (``packages.py``), so a name's file
never changes once written.
"""

from __future__ import annotations

import io
import math
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..problems import Problem, invalid
from .tilemath import MAX_LAT, tile_bounds, tile_range, tms_row

SQLITE_MAGIC = b"SQLite format 3\x00"
FORMATS = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
FORMAT_ALIASES = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}
PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
MAX_ZOOM = 22
SAMPLE_TILES = 8  # decoded with Pillow at import: the first, last and a spread in between
TILE_SIZES = (256, 512)
MAX_TILE_BYTES = 4 * 1024 * 1024  # a raster tile larger than this is not a tile


@dataclass
class TileSetInfo:
    """What an import checked and what the store and the API say about a base map."""

    format: str
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]
    center: tuple[float, float, int]
    tile_count: int
    title: str = ""
    attribution: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def bad(message: str) -> Problem:
    return invalid("file", message)


def sniff_format(data: bytes) -> str | None:
    """The raster format of tile bytes from their signature, or ``None``."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that never writes a journal next to someone else's file."""
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    return conn


def _metadata(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        rows = conn.execute("SELECT name, value FROM metadata").fetchall()
    except sqlite3.DatabaseError as exc:
        raise bad(f"not an MBTiles file: no readable metadata table ({exc})") from None
    return {str(k): str(v) for k, v in rows if k is not None and v is not None}


def _parse_bounds(text: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise bad(f"metadata 'bounds' must be 'west,south,east,north' in degrees, not {text[:60]!r}") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise bad("metadata 'bounds' has a value that is not a number")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise bad(f"metadata 'bounds' {west},{south},{east},{north} is not a box on the globe "
                  "(need -180 <= west < east <= 180 and -90 <= south < north <= 90)")
    return west, max(south, -MAX_LAT), east, min(north, MAX_LAT)


def _int_meta(meta: dict[str, str], key: str, fallback: int) -> int:
    if key not in meta:
        return fallback
    try:
        value = int(float(meta[key]))
    except ValueError:
        raise bad(f"metadata '{key}' must be a whole number, not {meta[key][:40]!r}") from None
    if not 0 <= value <= MAX_ZOOM:
        raise bad(f"metadata '{key}' {value} is outside 0..{MAX_ZOOM}")
    return value


def _outside_bounds(conn: sqlite3.Connection, bounds: tuple[float, float, float, float],
                    zooms: list[int]) -> tuple[int, str] | None:
    """(count, an example) of tiles lying wholly outside ``bounds``; ``None`` when every tile fits."""
    for z in zooms:
        x0, y0, x1, y1 = tile_range(bounds, z)
        # tile_row is TMS: XYZ rows y0..y1 are TMS rows flip(y1)..flip(y0).
        r0, r1 = tms_row(z, y1), tms_row(z, y0)
        row = conn.execute(
            "SELECT count(*), min(tile_column), min(tile_row) FROM tiles WHERE zoom_level = ? AND "
            "(tile_column < ? OR tile_column > ? OR tile_row < ? OR tile_row > ?)",
            (z, x0, x1, r0, r1)).fetchone()
        if row[0]:
            return int(row[0]), f"{z}/{row[1]}/{tms_row(z, int(row[2]))}"
    return None


def _check_sample(conn: sqlite3.Connection, fmt: str, count: int) -> None:
    step = max(1, count // SAMPLE_TILES)
    rows = conn.execute(
        "SELECT zoom_level, tile_column, tile_row, tile_data FROM "
        "(SELECT *, row_number() OVER (ORDER BY zoom_level, tile_column, tile_row) AS n FROM tiles) "
        "WHERE (n - 1) % ? = 0 OR n = ? LIMIT ?", (step, count, SAMPLE_TILES + 1)).fetchall()
    for z, x, row, data in rows:
        where = f"tile {z}/{x}/{tms_row(int(z), int(row))}"
        if not isinstance(data, bytes) or not data:
            raise bad(f"{where} is empty")
        if len(data) > MAX_TILE_BYTES:
            raise bad(f"{where} is {len(data)} bytes, more than a raster tile can be")
        actual = sniff_format(data)
        if actual is None:
            raise bad(f"{where} is not a PNG, JPEG or WebP image (vector or compressed tiles are not supported)")
        if actual != fmt:
            raise bad(f"{where} is {actual} although the metadata says the format is {fmt}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[fmt]]) as img:
                    img.load()
                    size = img.size
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the file's fault
            raise bad(f"{where} cannot be decoded as {fmt}: {exc}") from None
        if size[0] != size[1] or size[0] not in TILE_SIZES:
            raise bad(f"{where} is {size[0]}x{size[1]} pixels; tiles must be 256x256 or 512x512")


def inspect(path: Path) -> TileSetInfo:
    """Check an MBTiles file and describe it; raises a ``Problem`` naming ``file`` otherwise."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise bad("not an MBTiles file (not an SQLite database)")
    conn = open_readonly(path)
    try:
        try:
            conn.execute("PRAGMA quick_check(1)").fetchone()
            stats = conn.execute(
                "SELECT count(*), min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise bad(f"not a readable MBTiles file: {exc}") from None
        meta = _metadata(conn)
        count, zmin, zmax = int(stats[0] or 0), stats[1], stats[2]
        if count == 0:
            raise bad("the file holds no tiles")
        if not (0 <= int(zmin) <= int(zmax) <= MAX_ZOOM):
            raise bad(f"tiles have zoom levels {zmin}..{zmax}; only 0..{MAX_ZOOM} are possible")
        raw_format = meta.get("format", "").strip().lower()
        if raw_format in ("pbf", "mvt"):
            raise bad("vector tiles (pbf) are not supported: give raster PNG, JPEG or WebP tiles")
        if raw_format and raw_format not in FORMAT_ALIASES:
            raise bad(f"metadata 'format' {raw_format!r} is not png, jpg or webp")
        first = conn.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()[0]
        fmt = FORMAT_ALIASES.get(raw_format) or sniff_format(first if isinstance(first, bytes) else b"")
        if fmt is None:
            raise bad("no 'format' in the metadata and the tiles are not PNG, JPEG or WebP")
        minzoom = _int_meta(meta, "minzoom", int(zmin))
        maxzoom = _int_meta(meta, "maxzoom", int(zmax))
        if minzoom > maxzoom:
            raise bad(f"metadata 'minzoom' {minzoom} is above 'maxzoom' {maxzoom}")
        if int(zmin) < minzoom or int(zmax) > maxzoom:
            raise bad(f"tiles have zoom levels {zmin}..{zmax}, outside the declared {minzoom}..{maxzoom}")
        zooms = [int(z) for (z,) in conn.execute("SELECT DISTINCT zoom_level FROM tiles ORDER BY 1")]
        if "bounds" in meta:
            bounds = _parse_bounds(meta["bounds"])
            outside = _outside_bounds(conn, bounds, zooms)
            if outside:
                raise bad(f"{outside[0]} tiles lie outside the declared bounds (e.g. tile {outside[1]})")
        else:
            bounds = _bounds_of_tiles(conn, zooms[0])
        center = _center(meta.get("center"), bounds, minzoom, maxzoom)
        _check_sample(conn, fmt, count)
        extra = {k: v for k, v in meta.items() if k in ("description", "version", "type")}
        return TileSetInfo(format=fmt, minzoom=minzoom, maxzoom=maxzoom, bounds=bounds, center=center,
                           tile_count=count, title=meta.get("name", "")[:200],
                           attribution=meta.get("attribution", "")[:500], extra=extra)
    finally:
        conn.close()


def _bounds_of_tiles(conn: sqlite3.Connection, z: int) -> tuple[float, float, float, float]:
    """Bounds from the tiles themselves when the metadata gives none (the spec says SHOULD)."""
    x0, x1, r0, r1 = conn.execute(
        "SELECT min(tile_column), max(tile_column), min(tile_row), max(tile_row) FROM tiles WHERE zoom_level = ?",
        (z,)).fetchone()
    west, _, _, north = tile_bounds(z, int(x0), tms_row(z, int(r1)))
    _, south, east, _ = tile_bounds(z, int(x1), tms_row(z, int(r0)))
    return west, south, east, north


def _center(text: str | None, bounds: tuple[float, float, float, float], minzoom: int,
            maxzoom: int) -> tuple[float, float, int]:
    west, south, east, north = bounds
    default = ((west + east) / 2, (south + north) / 2, min(maxzoom, max(minzoom, (minzoom + maxzoom) // 2)))
    if not text:
        return default
    try:
        parts = [float(v) for v in text.split(",")]
        lon, lat = parts[0], parts[1]
        zoom = int(parts[2]) if len(parts) > 2 else default[2]
    except (ValueError, IndexError):
        return default
    if not (west <= lon <= east and south <= lat <= north):
        return default
    return lon, lat, min(maxzoom, max(minzoom, zoom))


STORE_SCHEMA = """
CREATE TABLE metadata (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL,
                    tile_data BLOB NOT NULL, PRIMARY KEY (zoom_level, tile_column, tile_row)) WITHOUT ROWID;
"""


def write_store(source: Path, target: Path, info: TileSetInfo) -> None:
    """Copy ``source``'s tiles into a fresh normalised MBTiles file at ``target`` (which must not exist)."""
    conn = sqlite3.connect(target)
    try:
        conn.executescript(STORE_SCHEMA)
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source.resolve()}?mode=ro&immutable=1",))
        try:
            conn.execute("INSERT INTO tiles SELECT zoom_level, tile_column, tile_row, tile_data FROM src.tiles")
        except sqlite3.IntegrityError:
            raise bad("the file holds the same tile twice (duplicate zoom/column/row)") from None
        conn.commit()
        conn.execute("DETACH DATABASE src")
        write_metadata(conn, info)
        conn.commit()
    finally:
        conn.close()


def write_metadata(conn: sqlite3.Connection, info: TileSetInfo) -> None:
    meta: dict[str, Any] = {
        "name": info.title, "format": info.format, "minzoom": info.minzoom, "maxzoom": info.maxzoom,
        "bounds": ",".join(f"{v:.7f}" for v in info.bounds),
        "center": f"{info.center[0]:.7f},{info.center[1]:.7f},{info.center[2]}",
        "attribution": info.attribution, "type": "baselayer", **info.extra,
    }
    conn.executemany("INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)",
                     [(k, str(v)) for k, v in meta.items()])


def read_tile(conn: sqlite3.Connection, z: int, x: int, y: int) -> bytes | None:
    """An XYZ tile's bytes (the MBTiles row is TMS), or ``None`` if the set lacks it."""
    row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                       (z, x, tms_row(z, y))).fetchone()
    return None if row is None else bytes(row[0])
