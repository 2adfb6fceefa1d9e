"""Load benchmark: many tablets syncing at once against the real server (a uvicorn process on loopback).

Per backend (a fresh SQLite file; a fresh PostgreSQL database, created and dropped here), with the
server started as ``python -m peacewatch.server.cli server`` in its own process:

- **concurrent**: D simulated devices (threads, each its own enrolled tablet credential and HTTP
  session) loop for T seconds: push a gzip batch of 10 new versions, pull one page of the change
  feed from their own cursor; every 5th round the previous batch is sent again (a retry after a
  lost answer), which must come back ``duplicate`` for every version;
- **baseline** (same run, same server): one device alone for a few seconds.

Per backend the server runs with each ``--workers`` count (default 1 and 2 server processes).
Targets (ok/MISS): versions/s of the crowd >= 1.5x one device alone, push p99 < 1 s, the
``reports`` projection and duplicate proposals current < 1 s after the pushes end, and on
PostgreSQL 2 workers >= 1.6x the versions/s of 1 worker. The server's CPU (all its processes)
per stored version is printed next to each throughput.

Printed per backend: requests/s and versions/s, p50/p99 latency for push and pull, errors (any
non-200 answer or broken connection: must be 0), lost versions (acknowledged but not in the
database: must be 0) and duplicated versions (stored twice, or a re-sent batch answered ``stored``:
must be 0), server RSS (sampled from /proc every 0.5 s: first, peak, last; "steady" if the last
third of the samples is within 25 % of the middle third), and the ratios concurrent/baseline for
throughput and p99 latency.

    .venv/bin/python bench/load.py            # 50 devices for 60 s per backend
    .venv/bin/python bench/load.py --quick    # 10 devices for 10 s
    .venv/bin/python bench/load.py --backends sqlite --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("PEACEWATCH_PASSWORD_HASH_COST", "test")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import requests  # noqa: E402
from databases import fresh_database
from reliability.server_process import ServerProcess  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from peacewatch.common.taxonomy import load_taxonomy  # noqa: E402
from peacewatch.common.versioning import version_id  # noqa: E402
from peacewatch.server.access import Role  # noqa: E402
from peacewatch.server.db.engine import WRITE, make_engine  # noqa: E402
from peacewatch.server.db.migrate import upgrade  # noqa: E402
from peacewatch.server.db.tables import changes, versions  # noqa: E402
from peacewatch.server.devices.service import enrol, issue_code  # noqa: E402
from peacewatch.server.feed_consumers import behind  # noqa: E402
from peacewatch.server.subscriptions import CONSUMERS  # noqa: E402
from peacewatch.server.users.service import create_contingent, create_user  # noqa: E402

BATCH = 10
RESEND_EVERY = 5
# Categories a patrol may file as public or mission (some must be restricted).
CATEGORIES = tuple(c.code for c in load_taxonomy().for_kind("incident") if c.default_confidentiality != "restricted")


def seed(url: str, devices: int) -> list[tuple[str, str, str]]:
    """Two contingents, one patrol user with an enrolled tablet per device: (username, device_id, credential)."""
    engine = make_engine(url)
    upgrade(engine)
    out = []
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for code in ("ALPHA", "BRAVO"):
            create_contingent(conn, code=code, name=f"{code} battalion", country="")
        for i in range(devices):
            username = f"patrol{i:03d}"
            create_user(conn, username=username, password="correct horse battery", role=Role.PATROL,
                        contingent=("ALPHA", "BRAVO")[i % 2])
            code = issue_code(conn, username=username, ttl=timedelta(hours=1))["code"]
            dev = enrol(conn, code=code, label="load", client="load", max_failures=1000)
            out.append((username, dev["device_id"], dev["credential"]))
    engine.dispose()
    return out


def report(rng: random.Random, username: str, contingent: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kind": "incident",
        "category": rng.choice(CATEGORIES),
        "event_time": f"2026-11-{rng.randint(1, 24):02d}T{rng.randint(0, 23):02d}:15:00Z",
        "location": {"lat": rng.uniform(3.5, 12.0), "lon": rng.uniform(24.0, 35.9), "precision_m": 10,
                     "source": "gps"},
        "title": "Armed men seen near the market", "description": "Residents reported shots. " * rng.randint(1, 8),
        "casualties": {"killed": 0, "injured": rng.randint(0, 4), "abducted": 0, "displaced": rng.randint(0, 50)},
        "severity": rng.randint(1, 5), "confidentiality": rng.choice(("public", "mission")), "attachments": [],
        "contingent": contingent, "author": username, "language": "en",
    }


@dataclass
class DeviceStats:
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    resent_stored: int = 0  # versions of a re-sent batch answered "stored" (would mean a duplicate)
    versions_sent: int = 0


def run_device(base: str, username: str, device_id: str, credential: str, contingent: str, until: float,
               seed_: int, stats: DeviceStats) -> None:
    """One tablet: push a batch, pull a page; re-send the previous batch every few rounds."""
    rng = random.Random(seed_)
    session = requests.Session()
    session.headers["Authorization"] = f"Device {credential}"
    cursor = 0
    previous: bytes | None = None
    rounds = 0
    while time.monotonic() < until:
        rounds += 1
        resend = previous is not None and rounds % RESEND_EVERY == 0
        if resend:
            body = previous
        else:
            entries = []
            for _ in range(BATCH):
                b = report(rng, username, contingent)
                entries.append({"report_id": b["id"], "version_id": version_id(b, [], device_id), "parents": [],
                                "body": b, "device_time": datetime.now(UTC).isoformat()})
            body = gzip.compress(json.dumps({"versions": entries}, separators=(",", ":")).encode(), mtime=0)
        t0 = time.perf_counter()
        try:
            r = session.post(base + "/api/v1/sync/push", data=body, timeout=60,
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        except requests.RequestException as exc:
            stats.errors.append(f"push: {type(exc).__name__}")
            continue
        stats.push_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            stats.errors.append(f"push: {r.status_code} {r.text[:200]}")
            continue
        results = r.json()["results"]
        for res in results:
            if res["status"] in ("stored", "duplicate"):
                stats.acked.add(res["version_id"])
            else:
                stats.errors.append(f"push rejected: {res.get('code')} {res.get('reason')}")
        if resend:
            stats.resent_stored += sum(1 for res in results if res["status"] == "stored")
        else:
            stats.versions_sent += len(results)
            previous = body
        t0 = time.perf_counter()
        try:
            r = session.get(base + "/api/v1/sync/pull", params={"since": cursor, "limit": 200}, timeout=60)
        except requests.RequestException as exc:
            stats.errors.append(f"pull: {type(exc).__name__}")
            continue
        stats.pull_ms.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            stats.errors.append(f"pull: {r.status_code} {r.text[:200]}")
            continue
        cursor = r.json()["next"]


@dataclass
class Figures:
    devices: int
    seconds: float
    requests: int
    versions: int
    push_p50: float
    push_p99: float
    pull_p50: float
    pull_p99: float
    errors: list[str]
    acked: set[str]
    resent_stored: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def vps(self) -> float:
        return self.versions / self.seconds


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def drive(base: str, tablets: list[tuple[str, str, str]], seconds: float, seed_: int) -> Figures:
    stats = [DeviceStats() for _ in tablets]
    start = time.monotonic()
    until = start + seconds
    threads = [threading.Thread(target=run_device, daemon=True,
                                args=(base, u, d, c, ("ALPHA", "BRAVO")[int(u[-3:]) % 2], until, seed_ + i, s))
               for i, ((u, d, c), s) in enumerate(zip(tablets, stats, strict=True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - start
    push = [x for s in stats for x in s.push_ms]
    pull = [x for s in stats for x in s.pull_ms]
    return Figures(len(tablets), elapsed, len(push) + len(pull), sum(s.versions_sent for s in stats),
                   pct(push, 50), pct(push, 99), pct(pull, 50), pct(pull, 99),
                   [e for s in stats for e in s.errors], set().union(*(s.acked for s in stats)),
                   sum(s.resent_stored for s in stats))


class RssSampler:
    """Samples the server's resident memory every ``every`` seconds in a thread."""

    def __init__(self, server: ServerProcess, every: float = 0.5) -> None:
        self.server, self.every = server, every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.samples.append(self.server.rss_bytes())
            except (FileNotFoundError, ProcessLookupError):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def steady(self) -> bool:
        n = len(self.samples)
        if n < 6:
            return True
        middle = statistics.mean(self.samples[n // 3: 2 * n // 3])
        last = statistics.mean(self.samples[2 * n // 3:])
        return last <= middle * 1.25


def derived_ready_after(url: str, limit_s: float = 120.0) -> float:
    """Seconds until every feed consumer (projection, proposals) has caught up with the feed."""
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < limit_s:
            with engine.connect() as conn:
                if not any(behind(conn, c) for c in CONSUMERS):
                    break
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        engine.dispose()


@dataclass
class Run:
    ok: bool
    vps: float


def bench_backend(backend: str, devices: int, seconds: float, baseline_seconds: float, seed_: int,
                  workers: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="pw-load-") as tmp, fresh_database(backend, Path(tmp), prefix="pw_load") as url:
        tablets = seed(url, devices + 1)
        lone, crowd = tablets[:1], tablets[1:]
        with ServerProcess(Path(tmp) / "data", url, workers=workers) as server:
            base = server.url
            warm = drive(base, lone, 1.0, seed_ + 1000)  # warm-up: imports, first connections, caches
            cpu0, own0 = server.cpu_seconds(), time.process_time()
            baseline = drive(base, lone, baseline_seconds, seed_)
            cpu1, own1 = server.cpu_seconds(), time.process_time()
            with RssSampler(server) as rss:
                load = drive(base, crowd, seconds, seed_ + 1)
            cpu2, own2 = server.cpu_seconds(), time.process_time()
            ready = derived_ready_after(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            stored = set(conn.execute(select(versions.c.version_id)).scalars())
            feed_versions = conn.execute(select(func.count()).select_from(changes)
                                         .where(changes.c.kind == "version")).scalar_one()
        engine.dispose()
    cpu_base = (cpu1 - cpu0) / max(1, baseline.versions) * 1e6
    cpu_load = (cpu2 - cpu1) / max(1, load.versions) * 1e6
    # The simulated tablets run on the same cores: their share says how much machine the server had.
    cores_server = (cpu2 - cpu1) / load.seconds
    cores_tablets = (own2 - own1) / load.seconds
    acked = load.acked | baseline.acked | warm.acked
    lost = len(acked - stored)
    duplicated = load.resent_stored + baseline.resent_stored + warm.resent_stored + (feed_versions - len(stored))
    errors = load.errors + baseline.errors + warm.errors
    mb = 1024 * 1024
    ratio = load.vps / baseline.vps
    print(f"\n== {backend}, {workers} worker{'s' if workers > 1 else ''}: {load.devices} devices for "
          f"{load.seconds:.0f} s (baseline: 1 device, {baseline.seconds:.0f} s)")
    print(f"  requests/s        {load.rps:8.1f}   (baseline {baseline.rps:7.1f}, ratio {load.rps / baseline.rps:5.2f}x)")
    print(f"  versions/s        {load.vps:8.1f}   (baseline {baseline.vps:7.1f}, ratio {ratio:5.2f}x, "
          f"target >= 1.5x: {'ok' if ratio >= 1.5 else 'MISS'})")
    print(f"  server CPU        {cpu_load:8.0f} us per stored version, pulls included "
          f"(baseline {cpu_base:.0f} us)")
    print(f"  cores used        server {cores_server:.2f}, the simulated tablets {cores_tablets:.2f} "
          f"(baseline: server {(cpu1 - cpu0) / baseline.seconds:.2f}, tablet {(own1 - own0) / baseline.seconds:.2f})")
    print(f"  push p50 / p99    {load.push_p50:7.1f} / {load.push_p99:7.1f} ms   (baseline {baseline.push_p50:.1f} / "
          f"{baseline.push_p99:.1f} ms, p99 ratio {load.push_p99 / baseline.push_p99:5.1f}x; "
          f"target p99 < 1 s: {'ok' if load.push_p99 < 1000 else 'MISS'})")
    print(f"  derived state     projection and duplicate proposals current {ready:.2f} s after the pushes end "
          f"(target < 1 s: {'ok' if ready < 1 else 'MISS'})")
    print(f"  pull p50 / p99    {load.pull_p50:7.1f} / {load.pull_p99:7.1f} ms   (baseline {baseline.pull_p50:.1f} / "
          f"{baseline.pull_p99:.1f} ms, p99 ratio {load.pull_p99 / baseline.pull_p99:5.1f}x)")
    print(f"  versions          {len(stored)} stored, {len(acked)} acknowledged, lost {lost}, duplicated {duplicated}")
    print(f"  errors            {len(errors)}" + (f"  e.g. {errors[:3]}" if errors else ""))
    if rss.samples:
        print(f"  server RSS        first {rss.samples[0] / mb:.0f} MB, peak {max(rss.samples) / mb:.0f} MB, "
              f"last {rss.samples[-1] / mb:.0f} MB over {len(rss.samples)} samples: "
              f"{'steady' if rss.steady() else 'GROWING'}")
    ok = not errors and lost == 0 and duplicated == 0 and stored == acked and rss.steady()
    print(f"  verdict           {'ok' if ok else 'FAIL'} (no loss, no duplicate, no error, memory steady)")
    return Run(ok, load.vps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 devices for 10 s per backend")
    parser.add_argument("--devices", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", default="1,2", help="server process counts to run, comma-separated")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    devices = args.devices or (10 if args.quick else 50)
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    baseline_seconds = 3.0 if args.quick else 10.0
    ok = True
    for backend in args.backends.split(","):
        runs = {w: bench_backend(backend.strip(), devices, seconds, baseline_seconds, args.seed, w) for w in counts}
        ok &= all(r.ok for r in runs.values())
        if 1 in runs and 2 in runs:
            scale = runs[2].vps / runs[1].vps
            need = " (target >= 1.6x on PostgreSQL: " + ("ok" if scale >= 1.6 else "MISS") + ")" \
                if backend.strip() == "postgresql" else ""
            print(f"\n{backend.strip()}: 2 workers / 1 worker = {scale:.2f}x versions/s{need}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
