"""Benchmark of SMS intake (server/community): N signed SMS posted by a gateway, one at a time.

It starts ``peacewatch server`` as a subprocess on a free loopback port with a fresh data dir
(SQLite, or ``--database-url`` for PostgreSQL), loads a gazetteer of ``--places`` places and
registers a gateway with the admin CLI's own service, then posts N SMS over one keep-alive
connection: coded (``ALERT <place> <code> <text>``, English and French, with misspelt places) and
free text naming a place, from 2,000 numbers (so the per-number throttle rarely applies) and
every 50th message sent twice (a gateway retry: answered as a duplicate). Each answer is timed.

Baseline measured in the same run: ``GET /api/v1/health`` on the same connection (the HTTP and
framework floor). Printed: p50 / p95 / p99 / max per request, throughput, the p99 ratio to the
baseline, and how many SMS were stored, duplicates and throttled.

    .venv/bin/python bench/community.py              # 10,000 SMS on SQLite
    .venv/bin/python bench/community.py --quick     # 1,000 SMS
    .venv/bin/python bench/community.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from peacewatch.server.access import Principal, Role
from peacewatch.server.community.intake import add_gateway
from peacewatch.server.community.protection import mission_key
from peacewatch.server.community.signing import GATEWAY_HEADER, HEADER, sign
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.reference.service import upsert

SYLLABLES = ["ba", "be", "bo", "ka", "ki", "ko", "ma", "mi", "mu", "na", "ni", "ta", "tu", "ga", "go", "lu", "ri",
             "sa", "wa", "nd", "mb", "ng"]
CODES = ["ATT", "KIL", "PIL", "FEU", "ABD", "MOV", "MEN", "DEP"]
FREE = ["armed men seen near {} this morning", "des hommes armés ont attaqué {} cette nuit",
        "please help, houses burning in {}", "on a entendu des tirs vers {}"]


def place_names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize())
    return sorted(names)


def typo(rng: random.Random, name: str) -> str:
    if len(name) < 4 or rng.random() < 0.5:
        return name
    i = rng.randrange(1, len(name) - 2)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 SMS")
    parser.add_argument("--sms", type=int, default=None, help="number of SMS (default 10,000)")
    parser.add_argument("--places", type=int, default=300, help="gazetteer size (default 300)")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary data dir")
    args = parser.parse_args(argv)
    n = args.sms or (1000 if args.quick else 10_000)
    rng = random.Random(19)
    data_dir = Path(tempfile.mkdtemp(prefix="pw-bench-community-"))
    settings = Settings(data_dir=data_dir, database_url=args.database_url)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    key = mission_key(settings)
    admin = Principal(user_id=0, username="bench", role=Role.ADMIN, contingent_id=None)
    names = place_names(rng, args.places)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for i, name in enumerate(names):
            upsert(conn, admin, item_id=f"p{i}", kind="place", names={"en": name, "fr": name},
                   geometry={"type": "Point", "coordinates": [29 + i / 1000, 1 + i / 1000]}, properties={})
        gateway = add_gateway(conn, name="bench", key=key)
    engine.dispose()

    port = free_port()
    env = os.environ | {"PEACEWATCH_DATA_DIR": str(data_dir), "PEACEWATCH_DATABASE_URL": settings.database_url}
    server = subprocess.Popen([sys.executable, "-m", "peacewatch.server.cli", "server", "--port", str(port),
                               "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(300):  # bounded: 30 s for the server to start
                try:
                    if http.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            baseline = []
            for _ in range(min(n, 2000)):
                t0 = time.perf_counter()
                http.get("/api/v1/health")
                baseline.append((time.perf_counter() - t0) * 1000)
            timings: list[float] = []
            outcomes: dict[str, int] = {}
            started = time.perf_counter()
            i = 0
            while len(timings) < n:
                place = typo(rng, rng.choice(names))
                if rng.random() < 0.6:
                    text = f"{rng.choice(['ALERT', 'ALERTE'])} {place} {rng.choice(CODES)} armed men seen {i}"
                else:
                    text = rng.choice(FREE).format(place) + f" ({i})"
                body = json.dumps({"from": f"+24399{rng.randrange(2000):07d}", "text": text,
                                   "message_id": f"m{i}", "received_at": "2026-12-02T06:00:00Z"}).encode()
                headers = {"Content-Type": "application/json", GATEWAY_HEADER: gateway["name"],
                           HEADER: sign(gateway["secret"], body)}
                for _send in range(2 if i % 50 == 0 else 1):
                    if len(timings) >= n:
                        break
                    t0 = time.perf_counter()
                    r = http.post("/api/v1/community/sms", content=body, headers=headers)
                    timings.append((time.perf_counter() - t0) * 1000)
                    if r.status_code not in (200, 202):
                        raise SystemExit(f"unexpected answer {r.status_code}: {r.text}")
                    status = r.json()["status"]
                    outcomes[status] = outcomes.get(status, 0) + 1
                i += 1
            elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    db = "PostgreSQL" if settings.database_url.startswith("postgresql") else "SQLite"
    p99, b99 = percentile(timings, 99), percentile(baseline, 99)
    print(f"community SMS intake on {db}: {n:,} SMS, {args.places} places, one connection")
    print(f"  per SMS   p50 {statistics.median(timings):6.1f} ms  p95 {percentile(timings, 95):6.1f} ms  "
          f"p99 {p99:6.1f} ms  max {max(timings):6.1f} ms  ({n / elapsed:,.0f} SMS/s)")
    print(f"  baseline  p50 {statistics.median(baseline):6.1f} ms  p99 {b99:6.1f} ms  (GET /api/v1/health)")
    print(f"  p99 ratio to baseline: {p99 / b99:.1f}x;  outcomes: {outcomes}")
    # Reported, not enforced: a loaded machine must not fail 'make bench' (the figures are the result).
    print(f"  target p99 < 100 ms: {'met' if p99 < 100 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
