"""End to end: a task from a coverage gap reaches the right tablet through a bad link and comes back done.

HQ makes a task from a coverage gap's cell for contingent ALPHA. Both tablets sync through
:class:`LossyProxy` (refused, cut and stalled connections): ALPHA's tablet gets the task, BRAVO's
does not. Offline, the patrol accepts it, files a patrol report whose route crosses the gap, links
it to the task and marks it done; two devices of ALPHA also act on one task offline. After syncing
through the proxy, HQ sees the task done with its report and the gap closed, and every event is
stored once however often the link made the tablets send it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
import requests
from e2e.live_server import live_server
from e2e.lossy_proxy import LossyProxy
from e2e.tablets import Tablet, enrolled_tablets
from e2e.test_lossy_link import sync_until_quiet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from factories import Mission, build_mission, report_body
from peacewatch.mobile.core import tasks
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import task_events

TABLETS = ("patrol_a", "commander_a", "patrol_b")
LAT, LON = 1.60, 30.30


@pytest.fixture
def mission(settings: Settings, engine: Engine) -> Iterator[Mission]:
    with TestClient(create_app(settings, engine)) as c:
        yield build_mission(c, engine, enrol_for=TABLETS)


@pytest.fixture
def tablets(tmp_path: Path, mission: Mission) -> Iterator[dict[str, Tablet]]:
    out = enrolled_tablets(tmp_path, mission.devices, TABLETS)
    yield out
    for t in out.values():
        t.close()


def test_gap_task_goes_out_and_comes_back_done_through_a_bad_link(
        mission: Mission, tablets: dict[str, Tablet], engine: Engine, settings: Settings) -> None:
    hq = mission.headers("analyst")
    cell = h3.latlng_to_cell(LAT, LON, 8)
    made = mission.client.post("/api/v1/tasks", headers=hq, json={
        "source": {"kind": "coverage_gap", "ref": cell}, "assignee": {"contingent": "ALPHA"},
        "instructions": "Patrol the market road", "priority": "urgent"})
    assert made.status_code == 201, made.text
    gap_task = made.json()["id"]
    other = mission.client.post("/api/v1/tasks", headers=hq, json={
        "place": {"type": "Point", "coordinates": [LON, LAT]}, "title": "Check the checkpoint", "kind": "verify",
        "assignee": {"contingent": "ALPHA"}}).json()["id"]

    a, cmd, b = tablets["patrol_a"], tablets["commander_a"], tablets["patrol_b"]
    with live_server(settings, engine) as address, LossyProxy(address, seed=21, every_fault_early=True) as proxy:
        sessions = {n: requests.Session() for n in TABLETS}
        clients = {n: tablets[n].client(sessions[n], proxy.url, backoff_base=0.02, backoff_cap=0.3,
                                        max_failures=25, rng=random.Random(i)) for i, n in enumerate(TABLETS)}
        sync_until_quiet(clients, 60)
        # The right tablets have the tasks; another contingent's does not.
        assert {t["id"] for t in tasks.my_tasks(a.store)} == {gap_task, other}
        assert tasks.my_tasks(a.store)[0]["id"] == gap_task  # urgent first
        assert {t["id"] for t in tasks.my_tasks(cmd.store)} == {gap_task, other}
        assert tasks.my_tasks(b.store) == []

        # Offline: accept, file a patrol report across the gap for it, done.
        tasks.record(a.store, gap_task, status="accepted")
        assert tasks.get(a.store, gap_task)["local_status"] == "accepted"
        now = datetime.now(UTC)
        patrol = report_body(kind="patrol", author="patrol_a", lat=LAT, lon=LON - 0.01,
                             event_time=now - timedelta(hours=2))
        patrol["end_time"] = now.isoformat().replace("+00:00", "Z")
        patrol["route"] = [{"lat": LAT - 0.01, "lon": LON}, {"lat": LAT + 0.01, "lon": LON}]
        a.file(patrol)
        tasks.record(a.store, gap_task, report_id=patrol["id"])
        tasks.record(a.store, gap_task, status="done", note="Road open")
        # Two devices act on the other task offline: both events are kept.
        tasks.record(a.store, other, status="started")
        tasks.record(cmd.store, other, status="cannot_do", note="Vehicle broke down")

        sync_until_quiet(clients, 60)
        for c in clients.values():
            c.run()
        for s in sessions.values():
            s.close()
        stats = proxy.stats
    assert stats.refused > 0 and stats.cut > 0, stats

    seen = mission.client.get(f"/api/v1/tasks/{gap_task}", headers=hq).json()
    assert seen["status"] == "done"
    assert [e["status"] for e in seen["events"]] == ["accepted", None, "done"]
    assert seen["events"][1]["report_id"] == patrol["id"]
    assert seen["gap"] == {"cells_before": 1, "cells_after": 0, "closed": True}
    both = mission.client.get(f"/api/v1/tasks/{other}", headers=hq).json()
    assert sorted(e["by"] for e in both["events"]) == ["commander_a", "patrol_a"]
    with engine.connect() as conn:  # each event exactly once, whatever the link repeated
        assert conn.execute(select(func.count()).select_from(task_events)).scalar_one() == 5
    # Nothing left to send; the tablets hold the server's view, the finished task off the list.
    for t in (a, cmd):
        assert tasks.pending_events(t.store) == [] and tasks.refused_events(t.store) == []
    assert gap_task not in {t["id"] for t in tasks.my_tasks(a.store)}
    assert tasks.get(a.store, gap_task)["status"] == "done"
