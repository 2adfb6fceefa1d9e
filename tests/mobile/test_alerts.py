"""Tests for peacewatch.mobile.core.alerts: alerts addressed to the tablet's user arrive on pull
(against the real server in-process), show until read, follow their latest state, and bad changes
name the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e.tablets import Tablet
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Mission, build_mission, report_body
from peacewatch.mobile.core import alerts
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.outbox import Outbox
from peacewatch.mobile.core.store import Store
from peacewatch.server.alerts.raising import ensure_current
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE

BASE = "http://testserver"


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    m = build_mission(client, engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    return m


@pytest.fixture
def tablets(tmp_path: Path, mission: Mission) -> Iterator[dict[str, Tablet]]:
    out = {u: Tablet(tmp_path / u, username=u, device_id=mission.devices[u][0], credential=mission.devices[u][1])
           for u in ("patrol_a", "patrol_b")}
    yield out
    for t in out.values():
        t.close()


def test_a_cluster_alert_reaches_the_patrol_of_its_contingent(client: TestClient, engine: Engine, mission: Mission,
                                                              tablets: dict[str, Tablet]) -> None:
    alpha, bravo = tablets["patrol_a"], tablets["patrol_b"]
    base = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    for i in range(3):
        alpha.file(report_body(category="armed_group_movement", severity=2, lat=1.5 + i * 0.01, lon=30.2,
                               event_time=base + timedelta(hours=i)))
    assert alpha.client(client, BASE, sleep=lambda _s: None).run().state == "done"
    ensure_current(engine)  # the server's worker does this right after the push
    assert alpha.client(client, BASE, sleep=lambda _s: None).run().state == "done"
    assert bravo.client(client, BASE, sleep=lambda _s: None).run().state == "done"
    shown = alerts.unread(alpha.store)
    assert len(shown) == 1 and len(shown[0]["reports"]) == 3
    assert "Armed group movement" in alerts.headline(shown[0])
    assert alerts.unread(bravo.store) == []  # BRAVO may not read ALPHA's mission reports
    alerts.mark_read(alpha.store, shown[0]["id"])
    assert alerts.unread(alpha.store) == []
    # HQ acknowledges: the tablet pulls the new state, and the alert stays read.
    r = client.post(f"/api/v1/alerts/{shown[0]['id']}/acknowledge", headers=mission.headers("analyst"))
    assert r.status_code == 200
    assert alpha.client(client, BASE, sleep=lambda _s: None).run().state == "done"
    status = alpha.store.query("SELECT status, read_at IS NOT NULL FROM alerts")
    assert status == [("acknowledged", 1)]


def test_a_bad_alert_change_names_the_field_and_applies_nothing(store: Store) -> None:
    outbox = Outbox(store)
    good = {"seq": 1, "kind": "alert", "alert": {"id": 1, "status": "new", "raised_at": "2026-11-20T06:00:00Z",
                                       "rule": {"id": 1, "name": "r"}, "reports": []}}
    with pytest.raises(InvalidInput) as err:
        outbox.apply_pull_page([good, {"seq": 2, "kind": "alert", "alert": {"id": "x"}}], "9")
    assert err.value.field == "changes[1].alert"
    assert alerts.unread(store) == []
    outbox.apply_pull_page([good], "9")
    assert [a["id"] for a in alerts.unread(store)] == [1]
