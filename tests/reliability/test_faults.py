"""Faults the server must survive without losing or half-keeping anything (SQLite and PostgreSQL).

* **SIGKILL mid-push**: the real server runs as a process; a real tablet (encrypted store, sync
  client) pushes its outbox in fixed batches; the server is killed with SIGKILL while a batch is
  in flight. After a restart every batch is in the database whole or not at all, every version the
  server acknowledged is there, and the same client resumes and finishes with each version once.
* **Database unreachable**: answered 503 ``database_unavailable`` with ``Retry-After`` and a plain
  message, never a 500, and the server works again as soon as the database is back (SQLite: the
  file locked by another process, or its directory gone; PostgreSQL: nothing listening, or every
  backend terminated under the pool).
* **Attachment disk really full** (a 1 MiB tmpfs, when this machine lets us mount one): 507
  ``storage_full``, no partial chunk anywhere, the chunks stored before intact and still usable.

Duplicated, reordered and cut batches and +/-3-day clock skew are proven in tests/server/sync and
tests/e2e/test_lossy_link.py; they are not repeated here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from e2e.tablets import Tablet
from fastapi.testclient import TestClient
from reliability.recording import RecordingSession
from reliability.server_process import ServerProcess, free_port
from sqlalchemy import Engine, event, func, select, text

from factories import Mission, report_body, version_entry
from peacewatch.mobile.core.sync_client import LinkTuner
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import make_engine
from peacewatch.server.db.tables import chunks, versions

BATCH = 25
REPORTS = 100


def _stored(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(versions.c.version_id)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_mid_push_keeps_whole_batches_and_the_client_resumes(
        mission: Mission, settings: Settings, db_url: str, tmp_path: Path, workers: int) -> None:
    mission.client.close()  # the in-process app only seeded the mission; the server below is a process
    device_id, credential = mission.devices["patrol_a"]
    tablet = Tablet(tmp_path / "tablet.db", username="patrol_a", device_id=device_id, credential=credential)
    filed = {tablet.file(report_body(title=f"report {i}")) for i in range(REPORTS)}
    session = RecordingSession()
    server = ServerProcess(tmp_path / "srv", db_url, workers=workers)
    server.start(timeout=60)
    try:
        client = tablet.client(session, server.url, tuner=LinkTuner(batch=BATCH, min_batch=BATCH, max_batch=BATCH),
                               max_failures=3, backoff_base=0.05, backoff_cap=0.2)
        outcome: dict[str, Any] = {}
        runner = threading.Thread(target=lambda: outcome.update(first=client.run()))
        runner.start()
        assert session.kill_point.wait(60), "the client never reached its third push"
        time.sleep(0.02)  # the batch is on the wire or being stored
        server.kill()
        session.killed.set()
        runner.join(60)
        first = outcome["first"]
        assert first.state == "offline", first
        assert 0 < len(session.acked) < REPORTS  # killed part way, some batches acknowledged

        stored = set(_stored(db_url))
        for batch in session.batches:
            kept = len(stored & set(batch))
            assert kept in (0, len(batch)), f"a batch of {len(batch)} was kept in part ({kept})"
        assert session.acked <= stored, "an acknowledged version was lost"

        server.start(timeout=60)
        second = client.run()
        assert second.state == "done", second
        assert tablet.local.waiting().versions == 0
        ids = _stored(db_url)
        assert len(ids) == len(set(ids)) == REPORTS
        assert set(ids) == filed
    finally:
        server.stop()
        tablet.close()


def _assert_unavailable(r: Any) -> None:
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "database_unavailable"
    assert "retry later" in body["message"]
    assert r.headers["retry-after"] == "5"


def _push_one(client: TestClient, mission: Mission) -> Any:
    entry = version_entry(report_body(), mission.device_id("patrol_a"))
    return client.post("/api/v1/sync/push", json={"versions": [entry]}, headers=mission.device_headers("patrol_a"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_locked_then_gone_is_503_and_the_server_recovers(tmp_path: Path, db_url: str) -> None:
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    path = db_dir / "peacewatch.db"
    shutil.copy(db_url.removeprefix("sqlite:///"), path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn: Any, _record: Any) -> None:
        # The server waits 30 s for a lock; the test need not.
        dbapi_conn.execute("PRAGMA busy_timeout=300")

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{path}")
    from factories import build_mission

    with TestClient(create_app(settings, engine)) as client:
        mission = build_mission(client, engine)
        assert _push_one(client, mission).status_code == 200
        # Another process holds the write lock (a backup tool, a stuck admin shell).
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            _assert_unavailable(_push_one(client, mission))
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert _push_one(client, mission).status_code == 200

        # The database's directory disappears (an unmounted USB disk) and comes back.
        engine.dispose()
        db_dir.rename(tmp_path / "db.away")
        try:
            _assert_unavailable(client.get("/api/v1/sync/pull", headers=mission.device_headers("patrol_a")))
            _assert_unavailable(_push_one(client, mission))
        finally:
            (tmp_path / "db.away").rename(db_dir)
        assert _push_one(client, mission).status_code == 200
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 3
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_unreachable_is_503_and_killed_backends_are_replaced(
        mission: Mission, client: TestClient, engine: Engine, tmp_path: Path, db_url: str) -> None:
    # Nothing listens on this port: every request that needs the database is a 503, not a 500.
    dead_url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    dead = make_engine(dead_url, connect_args={"connect_timeout": 2})
    with TestClient(create_app(Settings(data_dir=tmp_path / "dead", database_url=dead_url), dead)) as down:
        _assert_unavailable(down.get("/api/v1/sync/pull", headers=mission.device_headers("patrol_a")))
        _assert_unavailable(down.get("/api/v1/health"))
    dead.dispose()

    assert _push_one(client, mission).status_code == 200
    # The database restarts under the server: every pooled connection is dead. pool_pre_ping
    # notices and reconnects, so the next requests simply work.
    database = engine.url.database
    admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar_one()
    admin.dispose()
    assert killed >= 1
    assert client.get("/api/v1/sync/pull", headers=mission.device_headers("patrol_a")).status_code == 200
    assert _push_one(client, mission).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 2


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_attachment_disk_really_full_is_507_and_keeps_no_broken_chunk(tmp_path: Path, db_url: str,
                                                                       engine: Engine) -> None:
    data_dir = tmp_path / "data"
    attachments_dir = data_dir / "attachments"
    if not _mount_tmpfs(attachments_dir, "1m"):
        pytest.skip("cannot mount a small tmpfs here (needs root); the ENOSPC path is also covered by "
                    "tests/server/attachments with an injected error")
    try:
        settings = Settings(data_dir=data_dir, database_url=db_url)
        from factories import build_mission

        with TestClient(create_app(settings, engine)) as client:
            mission = build_mission(client, engine)
            headers = mission.device_headers("patrol_a") | {"Content-Type": "application/octet-stream"}
            kept: dict[str, bytes] = {}
            full = None
            for _ in range(20):  # 20 x 200 KB > 1 MiB: the disk fills on the way
                data = os.urandom(200_000)
                sha = hashlib.sha256(data).hexdigest()
                r = client.put(f"/api/v1/chunks/{sha}", content=data, headers=headers)
                if r.status_code == 507:
                    full = r
                    break
                assert r.status_code == 201, r.text
                kept[sha] = data
            assert full is not None, "the 1 MiB disk never filled"
            assert full.json()["error"] == "storage_full"
            assert list((attachments_dir / "tmp").iterdir()) == []  # no half-written temporary file
            on_disk = {p.name: p.read_bytes() for p in (attachments_dir / "chunks").rglob("*") if p.is_file()}
            assert on_disk == kept  # the refused chunk is nowhere; the others are whole
            with engine.connect() as conn:
                assert set(conn.execute(select(chunks.c.sha256)).scalars()) == set(kept)
            r = client.post("/api/v1/attachments/missing", json={"chunks": [*kept, sha]},
                            headers=mission.device_headers("patrol_a"))
            assert r.json()["missing"] == [sha]
            # Space comes back (an operator clears old exports): the same upload now succeeds.
            victim = next(iter(kept))
            (attachments_dir / "chunks" / victim[:2] / victim).unlink()
            r = client.put(f"/api/v1/chunks/{sha}", content=data, headers=headers)
            assert r.status_code == 201, r.text
    finally:
        subprocess.run(["umount", str(attachments_dir)], check=False)
