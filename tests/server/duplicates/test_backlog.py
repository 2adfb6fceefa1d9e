"""Duplicate proposals catch up with the change feed after pushes: by the worker, or before any read."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from factories import Mission, build_mission, report_body, version_entry
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import changes, duplicate_proposals
from peacewatch.server.duplicates import backlog

PUSH = "/api/v1/sync/push"


def _push_pair(mission: Mission, lat: float = 1.5) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same event reported by two contingents, each pushed from its own tablet."""
    a = report_body(lat=lat, lon=30.25)
    b = report_body(contingent="BRAVO", author="patrol_b", lat=lat + 0.001, lon=30.251)
    for user, body in (("patrol_a", a), ("patrol_b", b)):
        r = mission.client.post(PUSH, json={"versions": [version_entry(body, mission.device_id(user))]},
                                headers=mission.device_headers(user))
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    return a, b


def _pairs(engine: Engine) -> set[frozenset[str]]:
    with engine.connect() as conn:
        return {frozenset((r.report_a, r.report_b)) for r in conn.execute(select(duplicate_proposals))}


def test_the_worker_proposes_once_pushes_pause_without_any_reader(tmp_path: Path, engine: Engine, db_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, proposals_quiet_s=0.05,
                        proposals_max_delay_s=1.0)
    with TestClient(create_app(settings, engine)) as client:
        mission = build_mission(client, engine)
        a, b = _push_pair(mission)
        for _ in range(200):  # bounded: 10 s
            if _pairs(engine):
                break
            time.sleep(0.05)
        assert _pairs(engine) == {frozenset((a["id"], b["id"]))}
        with engine.connect() as conn:
            last_version = conn.execute(select(func.max(changes.c.seq)).where(changes.c.kind == "version")).scalar()
            assert backlog.watermark(conn) == last_version and not backlog.behind(conn)


def test_versions_stored_while_no_worker_ran_are_proposed_at_start(
        tmp_path: Path, engine: Engine, db_url: str, mission: Mission) -> None:
    mission.client.app.state.proposal_worker.stop()
    mission.client.app.state.proposal_worker = None
    a, b = _push_pair(mission)
    assert _pairs(engine) == set()  # nobody caught up: nothing derived yet, everything stored
    settings = Settings(data_dir=tmp_path / "data2", database_url=db_url, proposals_quiet_s=0.05)
    with TestClient(create_app(settings, engine)):
        for _ in range(200):  # bounded: 10 s
            if _pairs(engine):
                break
            time.sleep(0.05)
    assert _pairs(engine) == {frozenset((a["id"], b["id"]))}


def test_concurrent_catch_ups_propose_each_pair_once(mission: Mission, engine: Engine) -> None:
    mission.client.app.state.proposal_worker.stop()
    mission.client.app.state.proposal_worker = None
    pushed = [_push_pair(mission, lat) for lat in (1.2, 1.6, 2.0)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            backlog.ensure_current(engine)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    with engine.connect() as conn:
        rows = conn.execute(select(duplicate_proposals.c.report_a, duplicate_proposals.c.report_b)).all()
        assert not backlog.behind(conn)
    assert len(rows) == 3
    assert {frozenset(r) for r in rows} == {frozenset((a["id"], b["id"])) for a, b in pushed}
    assert backlog.ensure_current(engine) == 0  # nothing left: one cheap read
