"""Base maps: import into the data dir, list, serve tiles and package chunks, areas of responsibility.

Files live under ``settings.basemaps_dir``: ``<name>-<sha16>.mbtiles`` (immutable once renamed into
place) and ``tmp/`` for imports in progress. An import checks the input (``mbtiles.inspect``),
writes a normalised copy with its chunk index to ``tmp/``, fsyncs it, renames it into place and
only then points the ``basemaps`` row at it in one transaction; a failure at any step removes
what it wrote, so a base map is either wholly imported or not at all. The previous file of a
re-imported name is removed after the commit.

Base maps are not report content: any signed-in user may read tiles and packages. A package is
cut to the caller's contingent's area of responsibility (``contingent_areas``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from .. import clock
from ..access import HQ_ROLES, Principal, Role
from ..audit.service import record
from ..config import Settings
from ..db.engine import WRITE
from ..db.tables import basemaps, contingent_areas, contingents
from ..problems import Code, Problem, forbidden, invalid, not_found
from . import mbtiles, packages, pmtiles_import

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_AREA = {"minzoom": 8, "maxzoom": 15, "max_bytes": 200 * 1024 * 1024}
FREE_SPACE_FACTOR = 2.2  # a PMTiles import holds the converted file and the stored copy at once


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        raise invalid("name", "must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit")
    return name


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_source(settings: Settings, path: Path) -> int:
    if not path.is_file():
        raise invalid("file", f"{path.name}: no such file")
    size = path.stat().st_size
    if size > settings.max_basemap_bytes:
        raise invalid("file", f"{path.name} is {size / 1e6:.0f} MB, over the limit of "
                              f"{settings.max_basemap_bytes / 1e6:.0f} MB (PEACEWATCH_MAX_BASEMAP_BYTES)")
    settings.basemaps_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.basemaps_dir).free
    if free < size * FREE_SPACE_FACTOR:
        raise invalid("file", f"{path.name} needs about {size * FREE_SPACE_FACTOR / 1e6:.0f} MB free in the data "
                              f"directory; only {free / 1e6:.0f} MB are free")
    return size


def import_file(engine: Engine, settings: Settings, *, path: Path, name: str, title: str | None = None,
                actor: str = "cli") -> dict[str, Any]:
    """Check and store ``path`` (MBTiles or PMTiles) as base map ``name``; all or nothing."""
    check_name(name)
    _check_source(settings, path)
    tmp_dir = settings.basemaps_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp_dir))
    final: Path | None = None
    created = False
    try:
        source = path
        kind = "mbtiles"
        if pmtiles_import.is_pmtiles(path):
            kind = "pmtiles"
            source = work / "converted.mbtiles"
            pmtiles_import.convert(path, source)
        info = mbtiles.inspect(source)
        if title:
            info.title = title[:200]
        part = work / "store.mbtiles"
        mbtiles.write_store(source, part, info)
        conn = sqlite3.connect(part)
        try:
            chunk_count = packages.build_index(conn)
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
        _fsync(part)
        sha = _file_sha256(part)
        final = settings.basemaps_dir / f"{name}-{sha[:16]}.mbtiles"
        created = not final.exists()
        os.replace(part, final)
        _fsync(settings.basemaps_dir)
        row = {"title": info.title or name, "file": final.name, "sha256": sha, "format": info.format,
               "minzoom": info.minzoom, "maxzoom": info.maxzoom, "bounds": list(info.bounds),
               "center": list(info.center), "tile_count": info.tile_count, "bytes": final.stat().st_size,
               "attribution": info.attribution, "imported_at": clock.now()}
        with engine.connect().execution_options(**WRITE) as db, db.begin():
            old = db.execute(select(basemaps.c.file).where(basemaps.c.name == name)).scalar_one_or_none()
            if old is None:
                db.execute(insert(basemaps).values(name=name, **row))
            else:
                db.execute(update(basemaps).where(basemaps.c.name == name).values(**row))
            record(db, action="basemap_imported", actor=actor, target=name,
                   detail={"sha256": sha, "source": kind, "tiles": info.tile_count, "chunks": chunk_count})
        if old and old != final.name:
            (settings.basemaps_dir / old).unlink(missing_ok=True)
        return {"name": name, "source": kind, "chunks": chunk_count, **_public(row | {"name": name})}
    except BaseException:
        if final is not None and created:
            final.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _public(row: Any) -> dict[str, Any]:
    """What the API says about a base map (never the file's place on disk)."""
    version = row["sha256"][:16]
    return {"name": row["name"], "title": row["title"], "format": row["format"], "minzoom": row["minzoom"],
            "maxzoom": row["maxzoom"], "bounds": list(row["bounds"]), "center": list(row["center"]),
            "tile_count": row["tile_count"], "bytes": row["bytes"], "attribution": row["attribution"],
            "version": version, "sha256": row["sha256"],
            "tiles": f"/api/v1/basemaps/{row['name']}/{{z}}/{{x}}/{{y}}?v={version}"}


def list_basemaps(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(basemaps).order_by(basemaps.c.name)).mappings().all()
    return [_public(r) for r in rows]


def get_basemap(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(select(basemaps).where(basemaps.c.name == name)).mappings().one_or_none()
    if row is None:
        raise not_found(f"base map {name!r}")
    return dict(row)


_local = threading.local()
MAX_OPEN_PER_THREAD = 8


def _open(settings: Settings, file: str) -> sqlite3.Connection:
    """A per-thread read-only connection to a stored file (files never change, so it can stay open)."""
    cache: dict[str, sqlite3.Connection] | None = getattr(_local, "conns", None)
    if cache is None:
        cache = _local.conns = {}
    path = settings.basemaps_dir / file
    key = str(path)
    conn = cache.get(key)
    if conn is None:
        if not path.is_file():
            raise Problem(Code.NOT_FOUND, f"base map file {file} is missing from the data directory")
        if len(cache) >= MAX_OPEN_PER_THREAD:  # files replaced by re-imports: let them go
            for old in cache.values():
                old.close()
            cache.clear()
        conn = cache[key] = mbtiles.open_readonly(path)
    return conn


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= mbtiles.MAX_ZOOM:
        raise invalid("z", f"must be 0..{mbtiles.MAX_ZOOM}")
    n = 1 << z
    if not 0 <= x < n:
        raise invalid("x", f"must be 0..{n - 1} at zoom {z}")
    if not 0 <= y < n:
        raise invalid("y", f"must be 0..{n - 1} at zoom {z}")


def tile(conn: Connection, settings: Settings, *, name: str, z: int, x: int, y: int) -> tuple[bytes, str, str]:
    """(bytes, media type, ETag) of an XYZ tile; 404 when the base map or the tile is not there."""
    check_tile(z, x, y)
    row = get_basemap(conn, name)
    data = mbtiles.read_tile(_open(settings, row["file"]), z, x, y)
    if data is None:
        raise not_found(f"tile {z}/{x}/{y} of base map {name!r} (it covers zooms "
                        f"{row['minzoom']}-{row['maxzoom']} within {_fmt_bounds(row['bounds'])})")
    return data, mbtiles.FORMATS[row["format"]], f'"{row["sha256"][:16]}-{z}-{x}-{y}"'


def _fmt_bounds(b: list[float]) -> str:
    return ", ".join(f"{v:.4f}" for v in b)


def chunk(conn: Connection, settings: Settings, *, name: str, sha256: str) -> bytes:
    if not SHA_RE.fullmatch(sha256):
        raise invalid("sha256", "must be 64 lowercase hexadecimal characters (a SHA-256)")
    row = get_basemap(conn, name)
    data = packages.read_chunk(_open(settings, row["file"]), sha256)
    if data is None:
        raise not_found(f"chunk {sha256} of base map {name!r}")
    return data


# ---- areas of responsibility and packages ---------------------------------------------------------

def check_bounds(bounds: list[float], field: str = "bounds") -> tuple[float, float, float, float]:
    if len(bounds) != 4:
        raise invalid(field, "must be [west, south, east, north] in degrees")
    west, south, east, north = (float(v) for v in bounds)
    if not (-180 <= west < east <= 180 and -85.06 <= south < north <= 85.06):
        raise invalid(field, "must satisfy -180 <= west < east <= 180 and -85 <= south < north <= 85")
    return west, south, east, north


def set_area(conn: Connection, *, contingent: str, bounds: list[float], minzoom: int, maxzoom: int,
             max_bytes: int, actor: str, actor_user_id: int | None = None) -> dict[str, Any]:
    """Set a contingent's area of responsibility and its tablets' package budget."""
    cid = conn.execute(select(contingents.c.id).where(contingents.c.code == contingent)).scalar_one_or_none()
    if cid is None:
        raise not_found(f"contingent {contingent!r}")
    box = check_bounds(bounds)
    if not 0 <= minzoom <= maxzoom <= mbtiles.MAX_ZOOM:
        raise invalid("maxzoom", f"need 0 <= minzoom <= maxzoom <= {mbtiles.MAX_ZOOM}")
    if max_bytes < 1024 * 1024:
        raise invalid("max_bytes", "must be at least 1 MB")
    values = {"bounds": list(box), "minzoom": minzoom, "maxzoom": maxzoom, "max_bytes": max_bytes,
              "updated_at": clock.now()}
    exists = conn.execute(select(contingent_areas.c.contingent_id).where(
        contingent_areas.c.contingent_id == cid)).first()
    if exists:
        conn.execute(update(contingent_areas).where(contingent_areas.c.contingent_id == cid).values(**values))
    else:
        conn.execute(insert(contingent_areas).values(contingent_id=cid, **values))
    record(conn, action="area_set", actor=actor, actor_user_id=actor_user_id, target=contingent,
           detail={k: v for k, v in values.items() if k != "updated_at"})
    return {"contingent": contingent, **{k: v for k, v in values.items() if k != "updated_at"}}


def clear_area(conn: Connection, *, contingent: str, actor: str, actor_user_id: int | None = None) -> None:
    cid = conn.execute(select(contingents.c.id).where(contingents.c.code == contingent)).scalar_one_or_none()
    if cid is None:
        raise not_found(f"contingent {contingent!r}")
    conn.execute(delete(contingent_areas).where(contingent_areas.c.contingent_id == cid))
    record(conn, action="area_cleared", actor=actor, actor_user_id=actor_user_id, target=contingent)


def list_areas(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(contingents.c.code, contingent_areas).join(
        contingent_areas, contingent_areas.c.contingent_id == contingents.c.id).order_by(contingents.c.code)).mappings()
    return [{"contingent": r["code"], "bounds": list(r["bounds"]), "minzoom": r["minzoom"], "maxzoom": r["maxzoom"],
             "max_bytes": r["max_bytes"]} for r in rows]


def _area_of(conn: Connection, code: str) -> dict[str, Any]:
    for area in list_areas(conn):
        if area["contingent"] == code:
            return area
    raise not_found(f"area of responsibility of contingent {code!r} (an administrator sets it)")


def area_for(conn: Connection, principal: Principal, contingent: str | None) -> dict[str, Any]:
    """The area a caller asks about: their own contingent's, or (HQ, administrators) any named one."""
    own = principal.contingent_code
    code = contingent or own
    if code is None:
        raise invalid("contingent", "name the contingent whose area to package (you belong to none)")
    if code != own and principal.role not in HQ_ROLES and principal.role is not Role.ADMIN:
        raise forbidden("a contingent's tablets download their own contingent's area only")
    return _area_of(conn, code)


def package(conn: Connection, settings: Settings, principal: Principal, *, name: str,
            contingent: str | None = None) -> dict[str, Any]:
    """The chunks a tablet needs for its contingent's area of base map ``name``, within the budget."""
    area = area_for(conn, principal, contingent)
    code = area["contingent"]
    row = get_basemap(conn, name)
    west, south, east, north = area["bounds"]
    mb = row["bounds"]
    box = (max(west, mb[0]), max(south, mb[1]), min(east, mb[2]), min(north, mb[3]))
    base = {"basemap": name, "version": row["sha256"][:16], "format": row["format"], "contingent": code,
            "area": area["bounds"], "max_bytes": area["max_bytes"]}
    if box[0] >= box[2] or box[1] >= box[3]:
        return base | {"bounds": None, "minzoom": area["minzoom"], "maxzoom": None, "bytes": 0, "chunks": [],
                       "tiles": 0, "cut_to_budget": False, "requested_maxzoom": area["maxzoom"]}
    budget = packages.Budget(minzoom=max(area["minzoom"], row["minzoom"]), maxzoom=min(area["maxzoom"], row["maxzoom"]),
                             max_bytes=area["max_bytes"])
    out = packages.plan(_open(settings, row["file"]), bounds=box, budget=budget)
    return base | {"bounds": list(box)} | out

