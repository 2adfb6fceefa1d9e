"""Offline base map tiles on the tablet: download the contingent's tile package, read tiles back.

UI-free. The server cuts its base map into content-addressed chunks (one per 4 x 4 block of tiles
at one zoom, named by the SHA-256 of its bytes; see ``server/basemaps/packages.py``) and answers
``GET /api/v1/basemaps/{name}/package`` with the chunks covering this contingent's area of
responsibility within its size budget. :meth:`TilePackages.download`:

1. fetches the package manifest;
2. fetches every chunk the store does not hold yet (``GET .../chunks/{sha256}``), checks its hash,
   and stores its tiles and the chunk's name in **one** local transaction, so a dropped link loses
   at most the chunk in flight and the next attempt resumes with the chunks still missing;
3. when all are held, drops the tiles of chunks no longer in the package and marks it complete.

On an update only chunks whose hash the tablet lacks cross the link: a tile that changed changes
its own chunk's hash, every other chunk is kept. Tiles live in the encrypted store (SQLCipher),
like every other piece of the tablet's data. Link failures are retried with a bounded, jittered
back-off; a download that runs out of attempts reports what is still missing and resumes next time.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from peacewatch.common.tile_chunks import decode_chunk
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.transport import CertificateRejected, LinkError, Transport


def create_schema(db: sqlite_utils.Database) -> None:
    """The tile tables (migration ``tiles_001``)."""
    db.execute("CREATE TABLE map_packages (basemap TEXT PRIMARY KEY, version TEXT NOT NULL, format TEXT NOT NULL, "
               "manifest TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)")
    db.execute("CREATE TABLE map_chunks (basemap TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, "
               "PRIMARY KEY (basemap, sha256))")
    db.execute("CREATE TABLE map_tiles (basemap TEXT NOT NULL, z INTEGER NOT NULL, x INTEGER NOT NULL, "
               "y INTEGER NOT NULL, chunk TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (basemap, z, x, y)) "
               "WITHOUT ROWID")
    db.execute("CREATE INDEX map_tiles_chunk ON map_tiles (basemap, chunk)")
    # HQ's reference layers for this tablet's area (hot spots, coverage gaps), replaced on each pull.
    db.execute("CREATE TABLE map_layers (name TEXT PRIMARY KEY, geojson TEXT NOT NULL, fetched_at TEXT NOT NULL)")


@dataclass
class DownloadResult:
    """How a download ended: ``complete`` or not, and what crossed the link."""

    basemap: str
    complete: bool
    chunks_total: int
    chunks_fetched: int
    chunks_kept: int
    chunks_dropped: int
    bytes_fetched: int
    failures: int
    last_error: str = ""
    maxzoom: int | None = None


@dataclass
class PackageInfo:
    basemap: str
    version: str
    format: str
    complete: bool
    bounds: list[float] | None
    minzoom: int
    maxzoom: int | None
    tiles: int


class TilePackages:
    """The tablet's offline base maps: download packages, read tiles."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- reading ---------------------------------------------------------------------------
    def tile(self, basemap: str, z: int, x: int, y: int) -> bytes | None:
        rows = self.store.query("SELECT data FROM map_tiles WHERE basemap = ? AND z = ? AND x = ? AND y = ?",
                                (basemap, z, x, y))
        return bytes(rows[0][0]) if rows else None

    def packages(self) -> list[PackageInfo]:
        rows = self.store.query("SELECT basemap, version, format, manifest, complete FROM map_packages ORDER BY basemap")
        out = []
        for name, version, fmt, manifest, complete in rows:
            m = json.loads(manifest)
            count = self.store.query("SELECT count(*) FROM map_tiles WHERE basemap = ?", (name,))[0][0]
            out.append(PackageInfo(basemap=name, version=version, format=fmt, complete=bool(complete),
                                   bounds=m.get("bounds"), minzoom=m.get("minzoom", 0), maxzoom=m.get("maxzoom"),
                                   tiles=int(count)))
        return out

    def package(self, basemap: str) -> PackageInfo | None:
        return next((p for p in self.packages() if p.basemap == basemap), None)

    def held_chunks(self, basemap: str) -> set[str]:
        return {r[0] for r in self.store.query("SELECT sha256 FROM map_chunks WHERE basemap = ?", (basemap,))}

    # ---- downloading -----------------------------------------------------------------------
    def download(self, session: Any, base_url: str, credential: str, basemap: str, *,
                 verify: Any = True, max_failures: int = 20, timeout: float = 30.0,
                 backoff: tuple[float, float] = (0.05, 2.0),
                 on_progress: Callable[[int, int], None] | None = None) -> DownloadResult:
        """Bring ``basemap``'s package up to date over ``session``; resumable, bounded retries."""
        if not basemap:
            raise InvalidInput("basemap", "name the base map to download")
        transport = Transport(session, base_url, verify=verify)
        headers = {"Authorization": f"Device {credential}"}
        failures = 0
        last_error = ""
        rng = random.Random()

        def call(path: str) -> Any:
            nonlocal failures, last_error
            while True:
                try:
                    resp = transport.request("GET", path, headers=headers, timeout=timeout)
                except CertificateRejected:
                    raise
                except LinkError as exc:
                    last_error = str(exc)
                else:
                    if resp.status_code == 200:
                        return resp
                    if resp.status_code < 500 and resp.status_code != 429:
                        raise _Refused(_message(resp))
                    last_error = f"the server answered {resp.status_code}"
                failures += 1
                if failures >= max_failures:
                    raise _GiveUp(last_error)
                # Full jitter, as the sync client: many tablets on one link must not retry in step.
                time.sleep(rng.uniform(0, min(backoff[1], backoff[0] * 2 ** failures)))

        def fetch_chunk(sha: str) -> bytes:
            nonlocal failures, last_error
            while True:
                data = call(f"/api/v1/basemaps/{basemap}/chunks/{sha}").content
                if hashlib.sha256(data).hexdigest() == sha:
                    return data
                # A damaged answer counts as a link failure: fetched again, never stored.
                last_error = f"chunk {sha[:12]} arrived damaged"
                failures += 1
                if failures >= max_failures:
                    raise _GiveUp(last_error)

        fetched = kept = dropped = nbytes = 0
        manifest: dict[str, Any] = {}
        try:
            manifest = call(f"/api/v1/basemaps/{basemap}/package").json()
            wanted = {c["sha256"]: c for c in manifest["chunks"]}
            self._begin(basemap, manifest)
            held = self.held_chunks(basemap)
            missing = [sha for sha in wanted if sha not in held]
            kept = len(wanted) - len(missing)
            for i, sha in enumerate(missing):
                data = fetch_chunk(sha)
                self._store_chunk(basemap, sha, data)
                fetched += 1
                nbytes += len(data)
                if on_progress:
                    on_progress(kept + i + 1, len(wanted))
            dropped = self._finish(basemap, set(wanted))
            complete = True
        except _GiveUp as exc:
            complete, last_error = False, str(exc)
        except _Refused as exc:
            complete, last_error = False, str(exc)
        total = len(manifest.get("chunks", []))
        return DownloadResult(basemap=basemap, complete=complete, chunks_total=total, chunks_fetched=fetched,
                              chunks_kept=kept, chunks_dropped=dropped, bytes_fetched=nbytes, failures=failures,
                              last_error=last_error if not complete else "", maxzoom=manifest.get("maxzoom"))

    @staticmethod
    def available(session: Any, base_url: str, credential: str, *, verify: Any = True,
                  timeout: float = 30.0) -> list[dict[str, Any]]:
        """The base maps the server offers (``LinkError`` when it cannot be asked)."""
        transport = Transport(session, base_url, verify=verify)
        resp = transport.request("GET", "/api/v1/basemaps", headers={"Authorization": f"Device {credential}"},
                                 timeout=timeout)
        if resp.status_code != 200:
            raise LinkError(_message(resp))
        return list(json.loads(resp.content).get("basemaps") or [])

    # ---- HQ's reference layers ---------------------------------------------------------------
    def pull_layers(self, session: Any, base_url: str, credential: str, *, verify: Any = True,
                    timeout: float = 30.0) -> dict[str, Any]:
        """Fetch the hot spots and coverage gaps of this contingent's area and keep them (one transaction).

        ``LinkError`` passes through (the caller retries later); the previous layers stay until
        new ones arrived whole.
        """
        transport = Transport(session, base_url, verify=verify)
        resp = transport.request("GET", "/api/v1/basemaps/layers", headers={"Authorization": f"Device {credential}"},
                                 timeout=timeout)
        if resp.status_code != 200:
            raise LinkError(_message(resp))
        body = json.loads(resp.content)
        now = _now()
        with self.store.transaction() as conn:
            for name in ("hotspots", "coverage_gaps"):
                conn.execute("INSERT OR REPLACE INTO map_layers (name, geojson, fetched_at) VALUES (?, ?, ?)",
                             (name, json.dumps(body.get(name) or {"type": "FeatureCollection", "features": []}), now))
            conn.execute("INSERT OR REPLACE INTO map_layers (name, geojson, fetched_at) VALUES (?, ?, ?)",
                         ("area", json.dumps({"bounds": body.get("area"), "note": body.get("note", "")}), now))
        return body

    def layer(self, name: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT geojson FROM map_layers WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else None

    def _begin(self, basemap: str, manifest: dict[str, Any]) -> None:
        summary = {k: manifest.get(k) for k in ("bounds", "minzoom", "maxzoom", "bytes", "tiles", "contingent",
                                                "cut_to_budget")}
        summary["chunks"] = [c["sha256"] for c in manifest["chunks"]]
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO map_packages (basemap, version, format, manifest, complete, updated_at) "
                "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT(basemap) DO UPDATE SET version = excluded.version, "
                "format = excluded.format, manifest = excluded.manifest, complete = 0, "
                "updated_at = excluded.updated_at",
                (basemap, manifest["version"], manifest["format"], json.dumps(summary), _now()))

    def _store_chunk(self, basemap: str, sha: str, data: bytes) -> None:
        try:
            tiles = [(basemap, z, x, y, sha, t) for z, x, y, t in decode_chunk(data)]
        except ValueError as exc:
            raise _GiveUp(f"chunk {sha[:12]}: {exc}") from None
        with self.store.transaction() as conn:
            # A tile re-cut into a new chunk replaces its old copy; the old chunk's other tiles stay
            # until the package is complete, so the map is never emptier than before an update.
            conn.executemany("INSERT OR REPLACE INTO map_tiles (basemap, z, x, y, chunk, data) VALUES (?, ?, ?, ?, ?, ?)",
                             tiles)
            conn.execute("INSERT OR IGNORE INTO map_chunks (basemap, sha256, size) VALUES (?, ?, ?)",
                         (basemap, sha, len(data)))

    def _finish(self, basemap: str, wanted: set[str]) -> int:
        stale = self.held_chunks(basemap) - wanted
        with self.store.transaction() as conn:
            for sha in stale:
                conn.execute("DELETE FROM map_tiles WHERE basemap = ? AND chunk = ?", (basemap, sha))
                conn.execute("DELETE FROM map_chunks WHERE basemap = ? AND sha256 = ?", (basemap, sha))
            conn.execute("UPDATE map_packages SET complete = 1, updated_at = ? WHERE basemap = ?", (_now(), basemap))
        return len(stale)


class _GiveUp(Exception):
    pass


class _Refused(Exception):
    pass


def _message(resp: Any) -> str:
    try:
        body = json.loads(resp.content)
        return str(body.get("message") or body)
    except ValueError:
        return f"the server answered {resp.status_code}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def refresh_layers(store: Store, session: Any, base_url: str, credential: str, *, verify: Any = True) -> bool:
    """After a sync: pull HQ's layers for the area if this tablet carries a map; False if skipped or failed.

    The layers ride along with every successful sync so the map's hot spots are as fresh as the
    reports; a failure leaves the previous layers (the next sync tries again).
    """
    tiles = TilePackages(store)
    if not tiles.packages():
        return False
    try:
        tiles.pull_layers(session, base_url, credential, verify=verify)
    except LinkError:
        return False
    return True
