"""Benchmark of sync protocol v1: the real sync client against the real server, with baselines in the same run.

Per server backend (SQLite file, PostgreSQL database; each fresh, created and dropped here), with
``peacewatch server`` in its own process as a mission runs it (and as pouchdb-server runs):

- **push** throughput (versions/s, ~1 KB report bodies) through ``SyncClient`` over HTTP at batch
  sizes 10 / 100 / 500, next to
  * **executemany**: the same rows inserted with SQLAlchemy ``executemany`` into the same
    database, one transaction per batch (the limit: no validation, no feed, no HTTP);
  * **pouchdb-server** (CouchDB protocol, LevelDB storage): ``_bulk_docs`` with the same documents
    and batch size, interleaved with peacewatch in rounds (``ROUNDS``) so both see the same
    background load on a shared machine;
  * the **server CPU** per version (all of a server's processes, from /proc) next to each figure;
- **pull** throughput (versions/s) of a second tablet reading the whole feed, pages of 1,000, next
  to pouchdb-server's ``_changes?include_docs=true`` feed with the same page size;
- **wire bytes** per version (TCP bytes both ways, counted by a loss-free proxy) against the JSON
  size of the report body, for push and for pull;
- **lossy sync**: wall time for a tablet with the real encrypted store to sync 2,000 reports
  through ``tests/e2e/lossy_proxy.py`` (20 % refused, cuts after 0.2-3 s, stalled answers).

Targets (printed as ok/MISS): push >= 2x pouchdb-server and >= 25 % of executemany on SQLite at batch
100, >= 1.5x pouchdb-server on PostgreSQL; pull >= 2x pouchdb's feed; push wire bytes <= 1.3x the
body. When a push target is missed the server side of one batch is profiled with pyinstrument.

Run: ``.venv/bin/python bench/sync.py`` (``--quick`` for a small run; ``--backends sqlite``).
pouchdb-server (pinned) is installed into bench/.node by ``make bench`` (or ``make bench-deps``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("PEACEWATCH_PASSWORD_HASH_COST", "test")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the live server and the lossy proxy are shared with the e2e tests

import requests  # noqa: E402
from databases import fresh_database  # noqa: E402
from e2e.lossy_proxy import LossyProxy  # noqa: E402
from e2e.memory_store import MemoryStore  # noqa: E402
from reliability.server_process import tree_cpu_seconds  # noqa: E402
from sqlalchemy import JSON, Column, Engine, MetaData, String, Table, insert  # noqa: E402

from peacewatch.common.schema import parse_report, report_to_json  # noqa: E402
from peacewatch.common.sync_protocol import PushEntry  # noqa: E402
from peacewatch.common.versioning import version_id  # noqa: E402
from peacewatch.mobile.core.sync_client import SyncClient  # noqa: E402
from peacewatch.mobile.core.sync_pacing import LinkTuner  # noqa: E402
from peacewatch.server.access import Role  # noqa: E402
from peacewatch.server.config import Settings  # noqa: E402
from peacewatch.server.db.engine import WRITE, make_engine  # noqa: E402
from peacewatch.server.db.migrate import upgrade  # noqa: E402
from peacewatch.server.devices.service import enrol, issue_code  # noqa: E402
from peacewatch.server.users.service import create_contingent, create_user  # noqa: E402

POUCH_BIN = ROOT / "bench" / ".node" / "node_modules" / ".bin" / "pouchdb-server"
BATCHES = (10, 100, 500)
PAGE = 1000


# ----- data --------------------------------------------------------------------------------------
def make_body(rng: random.Random, contingent: str, author: str) -> dict[str, Any]:
    """A valid incident report of about 1 KB of JSON, normalised as the tablet sends it."""
    words = ["market", "road", "village", "patrol", "armed", "men", "water", "point", "school", "bridge", "fired",
             "shots", "displaced", "families", "north", "river", "convoy", "checkpoint", "night", "reported"]
    body = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "kind": "incident", "category": "attack_on_civilians",
        "event_time": (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 30_000)))
        .isoformat().replace("+00:00", "Z"),
        "location": {"lat": round(1 + rng.random() * 3, 5), "lon": round(30 + rng.random() * 3, 5),
                     "precision_m": 10, "source": "gps"},
        "title": " ".join(rng.choices(words, k=6)),
        "description": " ".join(rng.choices(words, k=95)),
        "casualties": {"killed": rng.randint(0, 3), "injured": rng.randint(0, 9), "abducted": 0,
                       "displaced": rng.randint(0, 400)},
        "severity": rng.randint(1, 5), "confidentiality": "mission", "attachments": [],
        "contingent": contingent, "author": author, "language": "en",
    }
    return report_to_json(parse_report(body))


def make_versions(n: int, device: str, rng: random.Random) -> list[PushEntry]:
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        body = make_body(rng, "ALPHA", "patrol_a")
        out.append(PushEntry.model_construct(version_id=version_id(body, [], device), report_id=body["id"],
                                             parents=[], body=body, device_id=device, device_time=now))
    return out


def fixed_tuner(batch: int = 100, page: int = PAGE) -> LinkTuner:
    return LinkTuner(batch=batch, min_batch=batch, max_batch=batch, page=page, min_page=page, max_page=page,
                     timeout=120, max_timeout=120)


# ----- the server side ---------------------------------------------------------------------------
def seed_mission(engine: Engine) -> dict[str, tuple[str, str]]:
    """One contingent, two patrols, a tablet each: username -> (device_id, credential)."""
    devices = {}
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        create_contingent(conn, code="ALPHA", name="Alpha Battalion", country="Bangladesh")
        for username in ("patrol_a", "patrol_a2"):
            create_user(conn, username=username, password="correct horse battery", role=Role.PATROL,
                        contingent="ALPHA")
            code = issue_code(conn, username=username, ttl=timedelta(hours=1))["code"]
            out = enrol(conn, code=code, label="bench", client="bench", max_failures=100)
            devices[username] = (out["device_id"], out["credential"])
    return devices


def executemany_rate(engine: Engine, rows: list[PushEntry], batch: int) -> float:
    """Versions/s of plain executemany of the same rows into the same database, a transaction per batch."""
    md = MetaData()
    table = Table(f"bench_raw_{batch}", md, Column("version_id", String(64), primary_key=True),
                  Column("report_id", String(36), nullable=False), Column("parents", JSON, nullable=False),
                  Column("body", JSON, nullable=False))
    # Write transactions as the server opens them (BEGIN IMMEDIATE on SQLite): a deferred one that
    # read first could not upgrade to a write while the live server writes.
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        md.create_all(conn)
    try:
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            with engine.connect().execution_options(**WRITE) as conn, conn.begin():
                conn.execute(insert(table), [{"version_id": v.version_id, "report_id": v.report_id,
                                              "parents": v.parents, "body": v.body} for v in rows[i:i + batch]])
        return len(rows) / (time.perf_counter() - started)
    finally:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            md.drop_all(conn)


def push_rate(url: str, credential: str, rows: list[PushEntry], batch: int) -> tuple[float, int]:
    outbox = MemoryStore(rows)
    with requests.Session() as session:
        client = SyncClient(session, url, credential, outbox, tuner=fixed_tuner(batch), max_failures=3)
        started = time.perf_counter()
        client._push()  # the push phase alone: pulling would measure something else
        elapsed = time.perf_counter() - started
    assert len(outbox.sent) == len(rows) and not outbox.rejected, (len(outbox.sent), list(outbox.rejected.items())[:3])
    return len(rows) / elapsed, client.progress.wire_bytes_sent


def proposals_ready_after(engine: Engine) -> float:
    """Seconds until the reports projection and duplicate proposals are current with the pushed versions.

    Both are derived after the push's commit (``server/feed_consumers.py``): the projection before
    each push answers, proposals once pushes pause; measured so the push figure does not hide them.
    """
    from peacewatch.server.feed_consumers import behind
    from peacewatch.server.subscriptions import CONSUMERS

    started = time.perf_counter()
    for _ in range(12000):  # bounded: 10 minutes
        with engine.connect() as conn:
            if not any(behind(conn, c) for c in CONSUMERS):
                break
        time.sleep(0.05)
    return time.perf_counter() - started


def pull_rate(url: str, credential: str, expected: int) -> float:
    outbox = MemoryStore()
    with requests.Session() as session:
        client = SyncClient(session, url, credential, outbox, tuner=fixed_tuner(), max_failures=3)
        started = time.perf_counter()
        client._pull()
        elapsed = time.perf_counter() - started
    assert outbox.pulled_versions == expected, (outbox.pulled_versions, expected)
    return expected / elapsed


# ----- pouchdb-server ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def background_server(name: str, cmd: list[str], probe_url: str, *, cwd: Path | None = None
                      ) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` until the block ends, once ``probe_url`` answers (bounded: 60 s)."""
    # BENCH_SERVER_LOG=file keeps the servers' own output (stderr), to see why one stopped answering.
    with open(os.environ.get("BENCH_SERVER_LOG") or os.devnull, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(probe_url, timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def pouchdb_server(workdir: Path) -> Iterator[tuple[str, int]]:
    if not POUCH_BIN.exists():
        raise SystemExit(f"pouchdb-server is not installed: run make bench-deps (looked for {POUCH_BIN})")
    port = free_port()
    home = workdir / "pouch"
    home.mkdir()
    url = f"http://127.0.0.1:{port}"
    # It writes config.json and log.txt into its working directory: keep them in the scratch dir.
    with background_server("pouchdb-server", [str(POUCH_BIN), "--host", "127.0.0.1", "--port", str(port),
                                              "--dir", str(home)], url, cwd=home) as proc:
        yield url, proc.pid


def pouch_push_rate(url: str, rows: list[PushEntry], batch: int, name: str = "") -> float:
    db = f"{url}/{name or f'bench{batch}'}"
    with requests.Session() as s:
        created = s.put(db, timeout=30)
        if created.status_code != 412:  # 412: made by an earlier round of the same run
            created.raise_for_status()
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            docs = [{"_id": v.report_id, **{k: val for k, val in v.body.items() if k != "id"}}
                    for v in rows[i:i + batch]]
            r = s.post(f"{db}/_bulk_docs", json={"docs": docs}, timeout=120)
            r.raise_for_status()
            assert all("ok" in x for x in r.json()), r.text[:300]
        return len(rows) / (time.perf_counter() - started)


def pouch_pull_rate(url: str, expected: int) -> float:
    with requests.Session() as s:
        got = 0
        since: Any = 0
        started = time.perf_counter()
        for _ in range(100_000):
            r = s.get(f"{url}/_changes", params={"since": since, "limit": PAGE, "include_docs": "true"}, timeout=120)
            r.raise_for_status()
            data = r.json()
            got += len(data["results"])
            since = data["last_seq"]
            if not data["results"]:
                break
        elapsed = time.perf_counter() - started
    assert got >= expected, (got, expected)
    return got / elapsed


# ----- wire bytes and the lossy link -------------------------------------------------------------
def wire_bytes(address: tuple[str, int], credentials: dict[str, tuple[str, str]], rows: list[PushEntry]
               ) -> tuple[float, float, float]:
    """(push bytes per version, pull bytes per version, mean JSON body bytes) through a counting proxy."""
    body_bytes = sum(len(json.dumps(v.body, separators=(",", ":"), ensure_ascii=False).encode()) for v in rows)
    mean_body = body_bytes / len(rows)
    with LossyProxy(address, refuse_rate=0, cut_after=None, stall_rate=0) as proxy:
        push_rate(proxy.url, credentials["patrol_a"][1], rows, 100)
        pushed = proxy.stats.bytes_up + proxy.stats.bytes_down
    with LossyProxy(address, refuse_rate=0, cut_after=None, stall_rate=0) as proxy:
        outbox = MemoryStore()
        with requests.Session() as session:
            SyncClient(session, proxy.url, credentials["patrol_a2"][1], outbox, tuner=fixed_tuner())._pull()
        pulled = (proxy.stats.bytes_up + proxy.stats.bytes_down) / max(1, outbox.pulled_versions)
    return pushed / len(rows), pulled, mean_body


def lossy_sync_seconds(address: tuple[str, int], device: tuple[str, str], reports: int, workdir: Path,
                       seed: int) -> tuple[float, int, Any]:
    """Wall time for a real tablet store to push ``reports`` reports through the lossy proxy."""
    from e2e.tablets import Tablet

    tablet = Tablet(workdir / f"tablet-{seed}", username="patrol_a", device_id=device[0], credential=device[1])
    try:
        rng = random.Random(seed + 1)  # not the push bench's seed: the same bodies would come back "duplicate"
        for _ in range(reports):
            tablet.file(make_body(rng, "ALPHA", "patrol_a"))
        with LossyProxy(address, seed=seed) as proxy, requests.Session() as session:
            client = tablet.client(session, proxy.url, backoff_base=0.05, backoff_cap=1.0, max_failures=25,
                                   rng=random.Random(seed))
            started = time.perf_counter()
            runs = 0
            while runs < 1000:  # bounded: each run gives up after max_failures
                runs += 1
                p = client.run()
                if p.state == "done" and p.versions_waiting == 0:
                    break
            elapsed = time.perf_counter() - started
            stats = proxy.stats
        assert tablet.local.waiting().versions == 0
        return elapsed, runs, stats
    finally:
        tablet.close()


def profile_push(engine: Engine, device: tuple[str, str], batch: int) -> str:
    """pyinstrument text profile of the server storing one batch, in this thread (no HTTP)."""
    from pyinstrument import Profiler

    from peacewatch.server.auth.service import authenticate
    from peacewatch.server.sync.service import PushEntry, push

    rows = make_versions(batch, device[0], random.Random(99))
    entries = [PushEntry(report_id=v.report_id, version_id=v.version_id, parents=[], body=v.body) for v in rows]
    profiler = Profiler(interval=0.0005)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        principal = authenticate(conn, authorization=f"Device {device[1]}", device_credential=None)
        profiler.start()
        push(conn, principal, entries)
        profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


# ----- the run -----------------------------------------------------------------------------------
@dataclass
class BackendFigures:
    push: dict[int, float]
    cpu: dict[int, float]  # server CPU (all its processes) per pushed version, microseconds
    pouch_push: dict[int, float]  # pouchdb-server, interleaved round by round with peacewatch
    pouch_cpu: dict[int, float]
    pouch_pull: float
    raw: dict[int, float]
    pull: float
    push_wire: float
    pull_wire: float
    mean_body: float
    lossy_seconds: float
    lossy_runs: int
    lossy_stats: Any
    profile: str = ""


@contextmanager
def server_process(settings: Settings) -> Iterator[tuple[tuple[str, int], int]]:
    """``peacewatch server`` in its own process, as a mission runs it (pouchdb-server runs alone too).

    With its default worker count (the machine's cores), as ``peacewatch server`` starts in the field.
    """
    port = free_port()
    cli = Path(sys.executable).with_name("peacewatch")
    with background_server("peacewatch server", [str(cli), "server", "--data-dir", str(settings.data_dir),
                                                 "--database-url", settings.database_url, "--port", str(port),
                                                 "--log-level", "warning"],
                           f"http://127.0.0.1:{port}/api/v1/health") as proc:
        yield ("127.0.0.1", port), proc.pid


ROUNDS = 5  # each batch size is pushed in rounds, alternating peacewatch and pouchdb-server


def interleaved_push(base: str, credential: str, rows: list[PushEntry], pouch: tuple[str, int], pouch_rows: list[PushEntry],
                     pid: int, batch: int, db_name: str) -> tuple[float, float, float, float]:
    """(peacewatch v/s, its CPU us/version, pouchdb docs/s, its CPU us/doc), measured round by round.

    The machine may be shared: alternating the two servers in rounds (who goes first alternates
    too) exposes both to the same background load, so their ratio means something.
    """
    per = max(batch, len(rows) // ROUNDS // batch * batch)
    t_pw = t_po = c_pw = c_po = 0.0
    for i, start in enumerate(range(0, len(rows), per)):
        def ours(start: int = start) -> tuple[float, float]:
            before = tree_cpu_seconds(pid)
            chunk = rows[start:start + per]
            rate, _ = push_rate(base, credential, chunk, batch)
            return len(chunk) / rate, tree_cpu_seconds(pid) - before

        def theirs(start: int = start) -> tuple[float, float]:
            before = tree_cpu_seconds(pouch[1])
            chunk = pouch_rows[start:start + per]
            rate = pouch_push_rate(pouch[0], chunk, batch, db_name)
            return len(chunk) / rate, tree_cpu_seconds(pouch[1]) - before

        gc.collect()
        first, second = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        a, b = first(), second()
        (t1, c1), (t2, c2) = (a, b) if i % 2 == 0 else (b, a)
        t_pw, c_pw, t_po, c_po = t_pw + t1, c_pw + c1, t_po + t2, c_po + c2
    n = len(rows)
    return n / t_pw, c_pw / n * 1e6, len(pouch_rows) / t_po, c_po / len(pouch_rows) * 1e6


def bench_backend(backend: str, n: int, lossy_reports: int, seed: int, pouch: tuple[str, int]) -> BackendFigures:
    workdir = Path(tempfile.mkdtemp(prefix=f"pw-bench-{backend}-"))
    try:
        with fresh_database(backend, workdir) as url:
            engine = make_engine(url)
            upgrade(engine)
            devices = seed_mission(engine)
            settings = Settings(data_dir=workdir / "data", database_url=url)
            rng = random.Random(seed)
            push: dict[int, float] = {}
            cpu: dict[int, float] = {}
            raw: dict[int, float] = {}
            pouch_push: dict[int, float] = {}
            pouch_cpu: dict[int, float] = {}
            with server_process(settings) as (address, pid):
                base = f"http://{address[0]}:{address[1]}"
                # Warm both up (imports, connections, caches): not measured.
                push_rate(base, devices["patrol_a"][1], make_versions(200, devices["patrol_a"][0], rng), 100)
                pouch_push_rate(pouch[0], make_versions(200, "pouch", rng), 100, f"warm{backend}")
                for batch in BATCHES:
                    rows = make_versions(n, devices["patrol_a"][0], rng)
                    pouch_rows = make_versions(n, "pouch", rng)
                    push[batch], cpu[batch], pouch_push[batch], pouch_cpu[batch] = interleaved_push(
                        base, devices["patrol_a"][1], rows, pouch, pouch_rows, pid, batch, f"{backend}{batch}")
                    ready = proposals_ready_after(engine)
                    raw[batch] = executemany_rate(engine, rows, batch)
                    print(f"  [{backend}] batch {batch:>3}: push {push[batch]:8.0f} v/s "
                          f"(server CPU {cpu[batch]:.0f} us/version; projection and duplicate proposals ready "
                          f"{ready:.1f} s after), executemany {raw[batch]:8.0f} v/s; pouchdb-server in the same "
                          f"rounds {pouch_push[batch]:8.0f} docs/s (CPU {pouch_cpu[batch]:.0f} us/doc)", flush=True)
                pull = pull_rate(base, devices["patrol_a2"][1], n * len(BATCHES) + 200)
                pouch_pull = pouch_pull_rate(f"{pouch[0]}/{backend}100", n)
                print(f"  [{backend}] pull {pull:8.0f} v/s; pouchdb-server _changes {pouch_pull:8.0f} docs/s",
                      flush=True)
                wire_rows = make_versions(min(n, 1000), devices["patrol_a"][0], rng)
                push_wire, pull_wire, mean_body = wire_bytes(address, devices, wire_rows)
                lossy_seconds, lossy_runs, lossy_stats = lossy_sync_seconds(
                    address, devices["patrol_a"], lossy_reports, workdir, seed)
                print(f"  [{backend}] lossy sync of {lossy_reports} reports: {lossy_seconds:.1f} s", flush=True)
            figures = BackendFigures(push, cpu, pouch_push, pouch_cpu, pouch_pull, raw, pull, push_wire, pull_wire,
                                     mean_body, lossy_seconds, lossy_runs,
                                     lossy_stats)
            figures.profile = profile_push(engine, devices["patrol_a"], 100)
            engine.dispose()
            return figures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (500 versions per batch size, 200 reports)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--versions", type=int, default=None, help="versions per batch size (default 3000)")
    parser.add_argument("--lossy-reports", type=int, default=None, help="reports for the lossy sync (default 2000)")
    args = parser.parse_args()
    n = args.versions or (500 if args.quick else 3000)
    lossy_reports = args.lossy_reports or (200 if args.quick else 2000)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            parser.error(f"--backends: unknown backend {b!r}")

    print(f"sync benchmark: {n} versions per batch size, lossy sync of {lossy_reports} reports")
    workdir = Path(tempfile.mkdtemp(prefix="pw-bench-pouch-"))
    try:
        with pouchdb_server(workdir) as pouch:
            results = {b: bench_backend(b, n, lossy_reports, args.seed, pouch) for b in backends}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\npush throughput (versions/s) and ratios")
    print(f"{'backend':<11}{'batch':>6}{'peacewatch':>12}{'executemany':>13}{'pouchdb':>10}"
          f"{'vs pouch':>10}{'vs raw':>9}{'CPU us/v':>10}{'pouch CPU':>11}")
    missed = False
    for b, f in results.items():
        for batch in BATCHES:
            vs_pouch = f.push[batch] / f.pouch_push[batch]
            vs_raw = f.push[batch] / f.raw[batch]
            note = ""
            if batch == 100:
                need = 2.0 if b == "sqlite" else 1.5
                ok = vs_pouch >= need and (b != "sqlite" or vs_raw >= 0.25)
                missed |= not ok
                note = f"  target >= {need}x pouch" + (", >= 25 % raw" if b == "sqlite" else "") + f": {verdict(ok)}"
            print(f"{b:<11}{batch:>6}{f.push[batch]:>12.0f}{f.raw[batch]:>13.0f}{f.pouch_push[batch]:>10.0f}"
                  f"{vs_pouch:>9.2f}x{vs_raw:>8.0%}{f.cpu[batch]:>10.0f}{f.pouch_cpu[batch]:>11.0f}{note}")
    print("\npull throughput (versions/s), pages of 1000")
    for b, f in results.items():
        ratio = f.pull / f.pouch_pull
        print(f"{b:<11}{f.pull:>10.0f}   pouchdb _changes {f.pouch_pull:>8.0f}   {ratio:.2f}x  "
              f"target >= 2x: {verdict(ratio >= 2)}")
    print("\nwire bytes per version (TCP, both directions) vs the JSON body")
    for b, f in results.items():
        push_ratio, pull_ratio = f.push_wire / f.mean_body, f.pull_wire / f.mean_body
        print(f"{b:<11}body {f.mean_body:6.0f} B   push {f.push_wire:6.0f} B ({push_ratio:.2f}x, target <= 1.3x: "
              f"{verdict(push_ratio <= 1.3)})   pull {f.pull_wire:6.0f} B ({pull_ratio:.2f}x)")
    print(f"\nlossy link: {lossy_reports} reports from a real tablet store")
    for b, f in results.items():
        s = f.lossy_stats
        print(f"{b:<11}{f.lossy_seconds:7.1f} s in {f.lossy_runs} run(s); proxy: {s.connections} connections, "
              f"{s.refused} refused, {s.cut} cut, {s.stalled} answers dropped")
    if missed:
        for b, f in results.items():
            print(f"\nwhere the server's time goes ({b}, one batch of 100, pyinstrument):\n{f.profile}")


if __name__ == "__main__":
    main()
