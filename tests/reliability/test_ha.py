"""Fail-over on PostgreSQL: the primary dies mid-push, the synchronous replica is promoted, nothing is lost.

``scripts/ha/run.sh`` builds a primary and a synchronous streaming replica on their own ports; the
real server (a process) reaches them through one multi-host URL with
``target_session_attrs=read-write``. A real tablet pushes its outbox in fixed batches; during one
push the primary is stopped the hard way (``pg_ctl -m immediate``) and the replica promoted. The
server is NOT restarted: its pool drops the dead connections (pre-ping) and reconnects to whichever
host accepts writes. Afterwards every acknowledged version is on the new primary, every batch is
there whole or not at all, and the same client resumes and finishes with each version once.

Needs root or the postgres user and PostgreSQL's server binaries; run with ``make test-ha`` (which
sets PEACEWATCH_HA=1). Skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e.tablets import Tablet
from reliability.recording import RecordingSession
from reliability.server_process import ServerProcess
from sqlalchemy import select, text

from factories import PASSWORD, USERS, report_body
from peacewatch.mobile.core.sync_client import LinkTuner
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.db.tables import versions
from peacewatch.server.devices.service import enrol, issue_code
from peacewatch.server.users.service import create_contingent, create_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("PEACEWATCH_HA") != "1", reason="HA harness: run 'make test-ha'"),
]

RUN = Path(__file__).resolve().parents[2] / "scripts" / "ha" / "run.sh"
REPORTS = 200
BATCH = 20


def _ha(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([str(RUN), *args], env=os.environ | env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {"PW_HA_DIR": str(tmp_path / "ha"), "PW_HA_PORT1": os.environ.get("PW_HA_PORT1", "55432"),
           "PW_HA_PORT2": os.environ.get("PW_HA_PORT2", "55433")}
    os.chmod(tmp_path, 0o755)  # the postgres user must reach the cluster directories
    for parent in tmp_path.parents:
        if parent == Path("/"):
            break
        os.chmod(parent, parent.stat().st_mode | 0o005)
    _ha("down", env=env)
    _ha("up", env=env)
    try:
        yield _ha("url", env=env).strip(), env
    finally:
        _ha("down", env=env)


def _seed(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        create_contingent(conn, code="ALPHA", name="Alpha Battalion", country="Bangladesh")
        role, contingent = USERS["patrol_a"]
        create_user(conn, username="patrol_a", password=PASSWORD, role=role, contingent=contingent)
        code = issue_code(conn, username="patrol_a", ttl=__import__("datetime").timedelta(hours=1))["code"]
        out = enrol(conn, code=code, label="ha", client="test", max_failures=100)
    engine.dispose()
    return out["device_id"], out["credential"]


def test_failover_mid_push_loses_no_acknowledged_version(cluster: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = cluster
    device_id, credential = _seed(url)
    tablet = Tablet(tmp_path / "tablet.db", username="patrol_a", device_id=device_id, credential=credential)
    filed = {tablet.file(report_body(title=f"report {i}")) for i in range(REPORTS)}
    session = RecordingSession()
    session.kill_at = 4
    server = ServerProcess(tmp_path / "srv", url)
    server.start()
    try:
        client = tablet.client(session, server.url, tuner=LinkTuner(batch=BATCH, min_batch=BATCH, max_batch=BATCH),
                               max_failures=4, backoff_base=0.1, backoff_cap=0.5)
        outcome: dict[str, Any] = {}
        runner = threading.Thread(target=lambda: outcome.update(first=client.run()))
        runner.start()
        assert session.kill_point.wait(60), "the client never reached the push to fail over in"
        time.sleep(0.02)
        _ha("stop-primary", env=env)
        session.killed.set()
        runner.join(90)
        assert outcome["first"].state in ("offline", "failed"), outcome["first"]
        _ha("promote", env=env)
        acked_before = set(session.acked)
        assert 0 < len(acked_before) < REPORTS

        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT inet_server_port()")).scalar_one() == int(env["PW_HA_PORT2"])
            stored = set(conn.execute(select(versions.c.version_id)).scalars())
        assert acked_before <= stored, f"{len(acked_before - stored)} acknowledged versions lost in the fail-over"
        for batch in session.batches:
            kept = len(stored & set(batch))
            assert kept in (0, len(batch)), f"a batch of {len(batch)} was kept in part ({kept})"

        # The same server process, never restarted, now writes to the promoted replica.
        second = client.run()
        assert second.state == "done", second
        with engine.connect() as conn:
            ids = list(conn.execute(select(versions.c.version_id)).scalars())
        engine.dispose()
        assert len(ids) == len(set(ids)) == REPORTS and set(ids) == filed
        assert server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()
        tablet.close()
