"""Base map benchmark: tile serving under 50 concurrent clients, and tablet tile package builds.

1. **Synthetic base map**: a 100 x 100 km area (around Bunia) at zooms 8-15, written as an MBTiles
   file of JPEG tiles with imagery-like noise (about 9,000 tiles), then imported with the real
   ``import-basemap`` path (checks, normalised copy, chunk index). Printed: tiles, file size,
   import time.
2. **Tile package** for a contingent whose area of responsibility is that whole area, zooms 8-15,
   200 MB budget: time to build the manifest, its size and chunk count, and the time to read and
   encode every chunk of it server-side (what serving the whole package costs the server).
3. **Tile serving** over loopback against the real server (``peacewatch server`` in its own
   process): 50 client threads, each with its own HTTP session and bearer token, request random
   tiles of the area at zooms 10-15 for T seconds. Baselines in the same run: one client alone on
   the same tiles, and 50 clients on ``/api/v1/health`` (the server's floor: no auth, no data).
   Printed: requests/s, p50/p99, errors (must be 0), and the ratios p99(50 clients) / p99(1 client)
   and p99(tiles) / p99(health).

    .venv/bin/python bench/basemap.py             # 50 clients for 20 s per backend (sqlite)
    .venv/bin/python bench/basemap.py --quick     # 50 clients for 5 s
    .venv/bin/python bench/basemap.py --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("PEACEWATCH_PASSWORD_HASH_COST", "test")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import requests  # noqa: E402
from databases import fresh_database  # noqa: E402
from PIL import Image  # noqa: E402
from reliability.server_process import ServerProcess  # noqa: E402

from peacewatch.server.access import Principal, Role  # noqa: E402
from peacewatch.server.basemaps import service  # noqa: E402
from peacewatch.server.basemaps.tilemath import tile_range, tms_row  # noqa: E402
from peacewatch.server.config import Settings  # noqa: E402
from peacewatch.server.db.engine import WRITE, make_engine  # noqa: E402
from peacewatch.server.db.migrate import upgrade  # noqa: E402
from peacewatch.server.users.service import create_contingent, create_user  # noqa: E402

CENTRE = (30.25, 1.56)  # Bunia
HALF_DEG = 0.45  # ~50 km each way at this latitude: a 100 x 100 km area
AREA = (CENTRE[0] - HALF_DEG, CENTRE[1] - HALF_DEG, CENTRE[0] + HALF_DEG, CENTRE[1] + HALF_DEG)
ZOOMS = range(8, 16)
CLIENTS = 50
PASSWORD = "correct horse battery"


def synthetic_tiles(count: int, seed: int = 1) -> list[bytes]:
    """Distinct JPEG tiles that look like imagery to a compressor (smooth noise), ~15-25 KB each."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        small = Image.frombytes("RGB", (32, 32), rng.randbytes(32 * 32 * 3))
        img = small.resize((256, 256), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=75)
        out.append(buf.getvalue())
    return out


def write_synthetic_mbtiles(path: Path) -> int:
    palette = synthetic_tiles(97)
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                       "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);")
    meta = {"name": "Synthetic imagery 100 km", "format": "jpg", "minzoom": ZOOMS.start, "maxzoom": ZOOMS.stop - 1,
            "bounds": ",".join(str(v) for v in AREA), "attribution": "synthetic"}
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
    count = 0
    for z in ZOOMS:
        x0, y0, x1, y1 = tile_range(AREA, z)
        rows = [(z, x, tms_row(z, y), palette[(x * 31 + y * 17 + z) % len(palette)])
                for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
        count += len(rows)
    conn.commit()
    conn.close()
    return count


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def drive(base: str, token: str | None, paths: list[str], clients: int, seconds: float, seed: int) -> Load:
    load = Load()
    lock = threading.Lock()
    until = time.perf_counter() + seconds

    def worker(i: int) -> None:
        rng = random.Random(seed + i)
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        mine: list[float] = []
        errs: list[str] = []
        while time.perf_counter() < until:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            try:
                r = session.get(base + path, headers=headers, timeout=30)
                if r.status_code != 200:
                    errs.append(f"{r.status_code} {path}")
            except requests.RequestException as exc:
                errs.append(f"{type(exc).__name__} {path}")
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            load.latencies += mine
            load.errors += errs

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    load.seconds = time.perf_counter() - started
    return load


def bench_backend(backend: str, seconds: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="pw-basemap-") as tmp, \
            fresh_database(backend, Path(tmp), prefix="pw_basemap") as url:
        data = Path(tmp) / "data"
        settings = Settings(data_dir=data, database_url=url)
        engine = make_engine(url)
        upgrade(engine)
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            create_contingent(conn, code="ALPHA", name="Alpha", country="")
            user = create_user(conn, username="analyst", password=PASSWORD, role=Role.HQ_ANALYST, contingent=None)
            service.set_area(conn, contingent="ALPHA", bounds=list(AREA), minzoom=8, maxzoom=15,
                             max_bytes=200 * 1024 * 1024, actor="bench")

        src = Path(tmp) / "synthetic.mbtiles"
        t0 = time.perf_counter()
        tiles = write_synthetic_mbtiles(src)
        generated = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = service.import_file(engine, settings, path=src, name="imagery")
        imported = time.perf_counter() - t0
        mb = 1024 * 1024
        print(f"\n== {backend}: synthetic base map, 100 x 100 km, zooms {ZOOMS.start}-{ZOOMS.stop - 1}")
        print(f"  tiles             {tiles} ({src.stat().st_size / mb:.1f} MB MBTiles, generated in {generated:.1f} s)")
        print(f"  import            {imported:.2f} s (checks, normalised copy, {out['chunks']} chunks indexed)")

        hq = Principal(user_id=int(user.get("id", 0) or 0), username="analyst", role=Role.HQ_ANALYST,
                       contingent_id=None)
        with engine.connect() as conn:
            builds = []
            for _ in range(5):
                t0 = time.perf_counter()
                pkg = service.package(conn, settings, hq, name="imagery", contingent="ALPHA")
                builds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            served = sum(len(service.chunk(conn, settings, name="imagery", sha256=c["sha256"])) for c in pkg["chunks"])
            chunk_time = time.perf_counter() - t0
        print(f"  package manifest  {statistics.median(builds) * 1000:.0f} ms (median of 5): {pkg['tiles']} tiles in "
              f"{len(pkg['chunks'])} chunks, {pkg['bytes'] / mb:.1f} MB, zooms {pkg['minzoom']}-{pkg['maxzoom']}"
              f"{' (cut to budget)' if pkg['cut_to_budget'] else ''}")
        print(f"  package chunks    all read and encoded in {chunk_time:.2f} s ({served / mb / chunk_time:.0f} MB/s)")
        engine.dispose()

        # Tile paths clients ask for: random tiles of the area at the zooms a map screen shows.
        rng = random.Random(5)
        paths = []
        for _ in range(2000):
            z = rng.randint(10, 15)
            x0, y0, x1, y1 = tile_range(AREA, z)
            paths.append(f"/api/v1/basemaps/imagery/{z}/{rng.randint(x0, x1)}/{rng.randint(y0, y1)}?v={out['version']}")
        with ServerProcess(data, url) as server:
            base = server.url
            token = requests.post(f"{base}/api/v1/auth/login", json={"username": "analyst", "password": PASSWORD},
                                  timeout=30).json()["token"]
            drive(base, token, paths, 4, 1.0, 99)  # warm-up: imports, connections, page cache
            alone = drive(base, token, paths, 1, max(2.0, seconds / 4), 1)
            crowd = drive(base, token, paths, CLIENTS, seconds, 2)
            health = drive(base, None, ["/api/v1/health"], CLIENTS, max(2.0, seconds / 2), 3)
        errors = alone.errors + crowd.errors + health.errors
        p99, p99_alone, p99_health = pct(crowd.latencies, 0.99), pct(alone.latencies, 0.99), pct(health.latencies, 0.99)
        print(f"  tiles, {CLIENTS} clients  {crowd.rps:7.0f} req/s, p50 {pct(crowd.latencies, 0.5):6.1f} ms, "
              f"p99 {p99:6.1f} ms over {crowd.seconds:.0f} s")
        print(f"  tiles, 1 client   {alone.rps:7.0f} req/s, p50 {pct(alone.latencies, 0.5):6.1f} ms, p99 {p99_alone:6.1f} ms")
        print(f"  health, {CLIENTS} clients {health.rps:7.0f} req/s, p50 {pct(health.latencies, 0.5):6.1f} ms, "
              f"p99 {p99_health:6.1f} ms (the server's floor)")
        print(f"  ratios            p99 50 clients / 1 client {p99 / p99_alone:5.1f}x; "
              f"p99 tiles / health (both 50 clients) {p99 / p99_health:5.2f}x")
        print(f"  errors            {len(errors)}" + (f"  e.g. {errors[:3]}" if errors else ""))
        ok = not errors
        print(f"  verdict           {'ok' if ok else 'FAIL'}")
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s of load instead of 20")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgresql")
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 20.0)
    ok = all([bench_backend(b.strip(), seconds) for b in args.backends.split(",") if b.strip()])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
