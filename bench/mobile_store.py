"""Benchmark of the tablet store: encrypted (SQLCipher) against plain SQLite, in the same run.

Measures, with N finalised reports already in the store (50,000; 5,000 with ``--quick``):

- draft save latency (one ``save_draft`` = one durable transaction, WAL + synchronous=FULL), p50/p99/max;
  target p99 < 10 ms encrypted;
- open time once the key is derived (connect, key, first read, migration check), and, apart, the
  Argon2id derivation with the default parameters;
- listing the latest 100 reports (the home screen);
- attachment encryption throughput (streamed AES-GCM) against writing the same bytes in clear.

The baseline is the same code on an unkeyed database (SQLCipher without a key is plain SQLite),
so the ratios are the cost of encryption alone.

Run: ``.venv/bin/python bench/mobile_store.py`` or ``... --quick``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3

from peacewatch.common.versioning import version_id
from peacewatch.mobile.core import dag, keys
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import DB_NAME, Store


def plain_store(path: Path) -> Store:
    """The baseline: the same Store over a database without a key (plain SQLite). Benchmark only."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "attachments").mkdir(exist_ok=True)
    conn = sqlcipher3.connect(str(path / DB_NAME), isolation_level=None, check_same_thread=False)
    header = keys.Header.new(keys.TEST_KDF)
    store = Store(path, conn, keys.subkeys(b"\0" * 32), header)
    store._initialise()
    if store.get_meta("device_id") is None:
        with store.transaction() as c:
            c.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?)", (str(uuid.uuid4()),))
    return store


def body_for(i: int) -> dict[str, object]:
    """A realistic incident body (~1 KB)."""
    return {
        "id": str(uuid.UUID(int=i, version=4)),
        "kind": "incident",
        "category": "attack_on_civilians",
        "event_time": "2026-11-24T15:30:00Z",
        "title": f"Report {i}: armed men at the market",
        "description": "Armed men fired on the market; several stalls burned. " * 8,
        "location": {
            "lat": 4.85 + i * 1e-5,
            "lon": 31.6,
            "precision_m": 10.0,
            "source": "gps",
            "place": None,
        },
        "casualties": {"killed": 0, "injured": i % 5, "abducted": 0, "displaced": 150},
        "severity": 3,
        "confidentiality": "mission",
        "attachments": [],
        "contingent": "BANBAT",
        "author": "alice",
        "language": "en",
    }


def populate(store: Store, n: int) -> None:
    """Insert n finalised reports (half sent) through the same DAG code finalise uses, in big transactions."""
    device = store.device_id
    batch = 5000
    for start in range(0, n, batch):
        with store.transaction() as conn:
            for i in range(start, min(n, start + batch)):
                body = body_for(i)
                now = datetime.fromtimestamp(1_790_000_000 + i, UTC).isoformat()
                conn.execute(
                    "INSERT INTO reports (report_id, kind, title, created_at, updated_at, hq_updated)"
                    " VALUES (?, 'incident', ?, ?, ?, 0)",
                    (body["id"], body["title"], now, now),
                )
                dag.add_version(
                    conn,
                    version_id=version_id(body, [], device),
                    report_id=str(body["id"]),
                    body=body,
                    parents=[],
                    device_id=device,
                    origin="local",
                    state="sent" if i % 2 else "pending",
                    created_at=now,
                )


def fsync_floor(directory: Path, count: int) -> tuple[float, float]:
    """p50/p99 (ms) of appending 8 KiB and fdatasync-ing it: the disk's own cost of one durable commit."""
    target = directory / "fsync-probe.bin"
    latencies = []
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for _ in range(count):
            start = time.perf_counter()
            os.write(fd, b"\0" * 8192)
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        target.unlink()
    return statistics.median(latencies), percentile(latencies, 0.99)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(store: Store, saves: int) -> dict[str, float]:
    drafts, reports = Drafts(store), Reports(store)
    ids = [str(uuid.uuid4()) for _ in range(10)]
    form = {k: v for k, v in body_for(1).items() if k not in ("id", "kind")}
    latencies = []
    for i in range(saves):
        form["description"] = f"typed {i} " + "x" * (i % 200)  # one keystroke more each time
        start = time.perf_counter()
        drafts.save_draft(ids[i % len(ids)], "incident", form)
        latencies.append((time.perf_counter() - start) * 1000)
    listing = []
    for _ in range(20):
        start = time.perf_counter()
        rows = reports.latest(100)
        listing.append((time.perf_counter() - start) * 1000)
        assert len(rows) == 100
    return {
        "save_p50_ms": statistics.median(latencies),
        "save_p99_ms": percentile(latencies, 0.99),
        "save_max_ms": max(latencies),
        "latest100_ms": statistics.median(listing),
    }


def time_open(open_fn: object, repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        store = open_fn()  # type: ignore[operator]
        store.query("SELECT count(*) FROM drafts")
        timings.append((time.perf_counter() - start) * 1000)
        store.close()
    return statistics.median(timings)


def attachment_throughput(store: Store, size: int) -> tuple[float, float]:
    """(encrypted MB/s through put_stream, plain MB/s writing the same bytes with fsync)."""
    data = os.urandom(1024 * 1024) * (size // (1024 * 1024))
    start = time.perf_counter()
    Attachments(store).put_stream(io.BytesIO(data), media_type="video/mp4", name="v.mp4")
    enc = time.perf_counter() - start
    target = store.path / "plain.bin"
    start = time.perf_counter()
    with open(target, "wb") as fh:
        for offset in range(0, len(data), 64 * 1024):
            fh.write(data[offset : offset + 64 * 1024])
        fh.flush()
        os.fsync(fh.fileno())
    plain = time.perf_counter() - start
    target.unlink()
    mb = len(data) / 1e6
    return mb / enc, mb / plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 reports, 300 saves, 10 MB attachment")
    parser.add_argument("--reports", type=int, help="reports already in the store (default 50,000)")
    parser.add_argument("--saves", type=int, help="draft saves to time (default 2,000)")
    args = parser.parse_args()
    n = args.reports or (5_000 if args.quick else 50_000)
    saves = args.saves or (300 if args.quick else 2_000)
    att_size = (10 if args.quick else 50) * 1024 * 1024

    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        root = Path(tmp)
        pin = "4711"
        print(f"peacewatch mobile store benchmark: {n:,} reports, {saves:,} draft saves")

        start = time.perf_counter()
        keys.derive_master(pin, os.urandom(16), keys.KdfParams())
        kdf_ms = (time.perf_counter() - start) * 1000
        print(
            f"  Argon2id derivation, default parameters {keys.KdfParams()}: {kdf_ms:.0f} ms (not in open time)"
        )

        floor_p50, floor_p99 = fsync_floor(root, saves)
        print(f"  disk floor, one 8 KiB append + fdatasync: p50 {floor_p50:.2f} ms  p99 {floor_p99:.2f} ms")

        results: dict[str, dict[str, float]] = {}
        for label in ("encrypted", "plain"):
            path = root / label
            if label == "encrypted":
                store = Store.create(path, pin, kdf=keys.TEST_KDF)
            else:
                store = plain_store(path)
            start = time.perf_counter()
            populate(store, n)
            # Steady state of an app in use: the bulk fill's WAL is already folded into the database.
            store.query("PRAGMA wal_checkpoint(TRUNCATE)")
            fill_s = time.perf_counter() - start
            figures = measure(store, saves)
            figures["att_mb_s"], figures["att_plain_mb_s"] = attachment_throughput(store, att_size)
            store.close()
            if label == "encrypted":
                # TEST_KDF makes derivation ~0.1 ms, so this is the open cost after the key is known.
                figures["open_ms"] = time_open(lambda p=path: Store.open(p, pin))
            else:
                figures["open_ms"] = time_open(lambda p=path: plain_store(p))
            figures["db_mb"] = (path / DB_NAME).stat().st_size / 1e6
            results[label] = figures
            print(
                f"  {label:9}: fill {fill_s:.1f} s ({figures['db_mb']:.0f} MB)  save p50 {figures['save_p50_ms']:.2f} ms"
                f"  p99 {figures['save_p99_ms']:.2f} ms  max {figures['save_max_ms']:.1f} ms"
                f"  open {figures['open_ms']:.1f} ms  latest-100 {figures['latest100_ms']:.1f} ms"
                f"  attachment {figures['att_mb_s']:.0f} MB/s"
            )
        enc, plain = results["encrypted"], results["plain"]
        print("  encryption overhead (encrypted / plain):")
        for key, name in (
            ("save_p50_ms", "draft save p50"),
            ("save_p99_ms", "draft save p99"),
            ("open_ms", "open"),
            ("latest100_ms", "latest 100"),
        ):
            print(f"    {name:15} x{enc[key] / plain[key]:.2f}")
        print(
            f"    {'attachment':15} x{enc['att_plain_mb_s'] / enc['att_mb_s']:.2f} (AES-GCM stream vs clear write)"
        )
        print(
            f"    {'save vs disk':15} p50 x{enc['save_p50_ms'] / floor_p50:.2f}  p99 x{enc['save_p99_ms'] / floor_p99:.2f}"
            " (encrypted save / bare fdatasync)"
        )
        verdict = "OK" if enc["save_p99_ms"] < 10 else "MISSED"
        print(f"  target draft save p99 < 10 ms (encrypted): {enc['save_p99_ms']:.2f} ms -> {verdict}")


if __name__ == "__main__":
    main()
