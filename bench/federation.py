"""Federation benchmark: a SQLite sector server replicating to the mission server (SQLite, PostgreSQL).

The sector holds ``--reports`` reports its tablets filed (10,000 by default, 1,000 with
``--quick``); the mission runs as ``peacewatch server`` in its own process; ``peacewatch
federate``'s loop (``federation.cli.run_federation``, the tablets' sync client over the sector's
database) catches the mission up in one round, on loopback. Printed: versions replicated per
second, the catch-up time, and as the baseline measured in the same run the same versions pushed
by one tablet straight to the mission (what federation adds to a plain push); then a second
round with nothing to send (its cost is the sector's bookkeeping).

    .venv/bin/python bench/federation.py [--quick] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests
from databases import fresh_database
from sqlalchemy import Engine, func, select
from sync import make_versions, push_rate, server_process

from peacewatch.server.access import Role
from peacewatch.server.auth.service import authenticate
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.db.tables import versions
from peacewatch.server.devices.service import enrol, issue_code
from peacewatch.server.federation.cli import add_sector, run_federation
from peacewatch.server.reports.versions import NewVersion, store_versions
from peacewatch.server.users.service import create_contingent, create_user


def seed(engine: Engine, *, tablet: bool) -> tuple[str, str] | None:
    """ALPHA and a patrol; with ``tablet``, the patrol's enrolled device (id, credential)."""
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        create_contingent(conn, code="ALPHA", name="Alpha Battalion", country="Bangladesh")
        create_user(conn, username="patrol_a", password="correct horse battery", role=Role.PATROL, contingent="ALPHA")
        if not tablet:
            return None
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]
        out = enrol(conn, code=code, label="bench", client="bench", max_failures=100)
        return out["device_id"], out["credential"]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())


def run(backend: str, reports: int, workdir: Path) -> str:
    sector = make_engine(f"sqlite:///{workdir / 'sector.db'}")
    upgrade(sector)
    device = seed(sector, tablet=True)
    assert device is not None
    rows = make_versions(reports, device[0], random.Random(7))
    with sector.connect().execution_options(**WRITE) as conn, conn.begin():
        me = authenticate(conn, authorization=f"Device {device[1]}", device_credential=None)
        for i in range(0, len(rows), 500):
            store_versions(conn, me, [NewVersion(r.report_id, r.version_id, [], r.body) for r in rows[i:i + 500]])
    lines = []
    with fresh_database(backend, workdir, "pw_fed_mission") as url:
        settings = Settings(data_dir=workdir / f"mission-{backend}", database_url=url)
        mission = make_engine(url)
        upgrade(mission)
        seed(mission, tablet=False)
        with mission.connect().execution_options(**WRITE) as conn, conn.begin():
            peer = add_sector(conn, name="sector-alpha", contingent_codes=["ALPHA"])
            baseline_device = seed_tablet(conn)
        with server_process(settings) as (address, _pid):
            base = f"http://{address[0]}:{address[1]}"
            started = time.perf_counter()
            progress = run_federation(sector, upstream=base, credential=peer["credential"], rounds=1, interval_s=0,
                                      session=requests.Session())
            catch_up = time.perf_counter() - started
            assert progress is not None and progress.state == "done", progress
            assert count(mission) == reports, (count(mission), reports)
            started = time.perf_counter()
            run_federation(sector, upstream=base, credential=peer["credential"], rounds=1, interval_s=0,
                           session=requests.Session())
            idle = time.perf_counter() - started
            # Baseline, same run and server: one tablet pushing as many versions straight to the mission.
            direct_rows = make_versions(reports, baseline_device[0], random.Random(8))
            direct, _bytes = push_rate(base, baseline_device[1], direct_rows, 100)
        mission.dispose()
    sector.dispose()
    rate = reports / catch_up
    lines.append(f"{backend:<11} {reports:>7} {rate:>10.0f} {catch_up:>10.1f} s {direct:>12.0f} "
                 f"{rate / direct:>8.2f}x {idle:>8.2f} s")
    return "\n".join(lines)


def seed_tablet(conn: object) -> tuple[str, str]:
    """A tablet of the mission's own patrol, for the direct-push baseline."""
    code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]  # type: ignore[arg-type]
    out = enrol(conn, code=code, label="bench direct", client="bench", max_failures=100)  # type: ignore[arg-type]
    return out["device_id"], out["credential"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 reports instead of 10,000")
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    reports = args.reports or (1000 if args.quick else 10_000)
    print(f"federation benchmark: a SQLite sector with {reports} reports catching the mission up, on loopback")
    print(f"{'mission':<11} {'reports':>7} {'versions/s':>10} {'catch-up':>12} {'direct push':>12} {'ratio':>9} "
          f"{'idle round':>10}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"pw-fed-{backend}-") as tmp:
            print(run(backend, reports, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
