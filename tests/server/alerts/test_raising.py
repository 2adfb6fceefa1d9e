"""Alerts raised from the change feed: which reports raise what, exactly once, and who sees them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from factories import report_body, version_entry
from peacewatch.server import feed_consumers
from peacewatch.server.alerts import raising
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import alert_events, alerts, changes, meta, webhook_deliveries
from peacewatch.server.subscriptions import CONSUMERS

from .helpers import alerts_of, push

SEVERE = "Attack on civilians or killing, severity 4 or more"
CLUSTER = "Armed group movement: 3 reports within 24 h inside 10 km"


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(alerts)).scalar_one()


def test_a_severe_report_raises_one_alert_for_hq(client, mission) -> None:
    body = push(mission, "patrol_a", severity=4, category="killing")
    push(mission, "patrol_a", severity=3)  # below the threshold: nothing
    items = alerts_of(mission, "analyst")
    assert [a["rule"]["name"] for a in items] == [SEVERE]
    alert = items[0]
    assert alert["status"] == "new" and [r["id"] for r in alert["reports"]] == [body["id"]]
    assert alert["where"]["lat"] == body["location"]["lat"] and alert["when"] == body["event_time"]
    assert [a["id"] for a in alerts_of(mission, "protection")] == [alert["id"]]
    # Not addressed to contingents until escalation; admin reads no reports at all.
    for user in ("commander_a", "patrol_a", "patrol_b", "admin"):
        r = client.get("/api/v1/alerts", headers=mission.headers(user))
        assert r.status_code == 403 if user == "admin" else r.json()["items"] == [], user


def test_the_same_version_twice_two_workers_and_a_replay_raise_once(client, mission, engine) -> None:
    body = push(mission, "patrol_a", severity=5)
    entry = version_entry(body, mission.device_id("patrol_a"))
    r = client.post("/api/v1/sync/push", json={"versions": [entry]}, headers=mission.device_headers("patrol_a"))
    assert r.json()["results"][0]["status"] == "duplicate"

    def work() -> None:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            feed_consumers.catch_up_in(conn, raising.ALERTS)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert _count(engine) == 1
    # A lost cursor (a restore, a crash before it was written) replays the feed: still one alert.
    with engine.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == raising.CURSOR_KEY))
    work()
    assert _count(engine) == 1
    assert len(alerts_of(mission, "analyst")) == 1


def test_restricted_cases_reach_the_protection_team_only(client, mission) -> None:
    body = push(mission, "patrol_a", kind="hr_concern", category="conflict_related_sexual_violence",
                confidentiality="restricted", severity=5)
    for user in ("protection", "hr"):
        items = alerts_of(mission, user)
        assert [a["rule"]["name"] for a in items] == ["Restricted case (protection team only)"], user
        assert items[0]["reports"][0]["id"] == body["id"]
    for user in ("analyst", "commander_a", "patrol_b", "commander_b"):
        assert alerts_of(mission, user) == [], user


def test_cluster_raises_once_and_grows(client, mission) -> None:
    base = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    common = {"category": "armed_group_movement", "severity": 2}
    push(mission, "patrol_a", lat=1.50, lon=30.20, event_time=base, **common)
    push(mission, "patrol_a", lat=1.52, lon=30.22, event_time=base + timedelta(hours=3), **common)
    assert alerts_of(mission, "analyst") == []
    push(mission, "patrol_a", lat=1.90, lon=30.90, event_time=base + timedelta(hours=4), **common)  # 80 km away
    push(mission, "patrol_a", lat=1.49, lon=30.19, event_time=base + timedelta(days=3), **common)  # days later
    assert alerts_of(mission, "analyst") == []
    third = push(mission, "patrol_a", lat=1.51, lon=30.25, event_time=base + timedelta(hours=5), **common)
    items = alerts_of(mission, "analyst")
    assert len(items) == 1 and items[0]["rule"]["name"] == CLUSTER and len(items[0]["reports"]) == 3
    assert third["id"] in {r["id"] for r in items[0]["reports"]}
    push(mission, "patrol_a", lat=1.505, lon=30.21, event_time=base + timedelta(hours=6), **common)
    items = alerts_of(mission, "analyst")
    assert len(items) == 1 and len(items[0]["reports"]) == 4
    # Addressed to contingents too: ALPHA's patrol reads all four (its own contingent's).
    assert [a["id"] for a in alerts_of(mission, "patrol_a")] == [items[0]["id"]]


def test_an_alert_is_hidden_from_whoever_cannot_read_every_report(client, mission) -> None:
    base = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    common = {"category": "armed_group_movement", "severity": 2}
    push(mission, "patrol_a", lat=1.50, lon=30.20, event_time=base, **common)
    push(mission, "patrol_a", lat=1.52, lon=30.22, event_time=base + timedelta(hours=1), **common)
    push(mission, "patrol_b", contingent="BRAVO", lat=1.51, lon=30.21, event_time=base + timedelta(hours=2),
         **common)
    assert len(alerts_of(mission, "analyst")) == 1
    # The cluster is addressed to every commander and patrol, but each contingent may not read the
    # other's mission-level reports: neither learns of it.
    for user in ("patrol_a", "commander_a", "patrol_b", "commander_b"):
        assert alerts_of(mission, user) == [], user
        r = client.get(f"/api/v1/alerts/{alerts_of(mission, 'analyst')[0]['id']}", headers=mission.headers(user))
        assert r.status_code == 404, user


def test_near_a_sensitive_site(client, mission) -> None:
    site = {"kind": "sensitive_site", "names": {"en": "Camp Hope IDP site"},
            "geometry": {"type": "Point", "coordinates": [30.25, 1.5667]}, "properties": {}}
    r = client.put("/api/v1/admin/reference/camp-hope", json=site, headers=mission.headers("admin"))
    assert r.status_code in (200, 201), r.text
    push(mission, "patrol_a", category="armed_clash", severity=2, lat=1.70, lon=30.40)  # ~22 km
    assert alerts_of(mission, "analyst") == []
    near = push(mission, "patrol_a", category="armed_clash", severity=2, lat=1.58, lon=30.26)  # ~1.9 km
    items = alerts_of(mission, "analyst")
    assert [a["reports"][0]["id"] for a in items] == [near["id"]]


def test_tablets_pull_the_alerts_addressed_to_their_user(client, mission) -> None:
    base = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    common = {"category": "armed_group_movement", "severity": 2}
    for i in range(3):
        push(mission, "patrol_a", lat=1.50 + i * 0.01, lon=30.20, event_time=base + timedelta(hours=i), **common)
    push(mission, "patrol_a", kind="hr_concern", category="conflict_related_sexual_violence",
         confidentiality="restricted", severity=5)
    alerts_of(mission, "analyst")  # (a reader catches alerts up, as the worker would)

    def pulled(username: str) -> list[dict]:
        r = client.get("/api/v1/sync/pull", params={"since": 0}, headers=mission.device_headers(username))
        assert r.status_code == 200, r.text
        return [c for c in r.json()["changes"] if c["kind"] == "alert"]

    mine = pulled("patrol_a")
    assert [(c["event"], c["alert"]["rule"]["name"]) for c in mine] == [("raised", CLUSTER)]
    assert len(mine[0]["alert"]["reports"]) == 3
    # BRAVO's patrol is in the audience but may not read ALPHA's mission reports; nobody outside
    # the protection team pulls the restricted case's alert.
    assert pulled("patrol_b") == []


def test_an_alert_change_at_the_feed_head_leaves_every_consumer_current(client, mission, engine) -> None:
    """Raising appends an ``alert`` change after the version it matched: consumers of versions are
    current then (a bench waiting for them waited out its ten-minute bound when they were not)."""
    push(mission, "patrol_a", severity=4, category="killing")
    assert alerts_of(mission, "analyst")  # raised: its alert change is the feed's last
    feed_consumers.ensure_current(engine, *CONSUMERS)
    with engine.connect() as conn:
        assert [c.name for c in CONSUMERS if feed_consumers.behind(conn, c)] == []


def test_one_push_of_many_severe_reports_raises_each_alert_whole(client, mission, engine) -> None:
    """Raising is set-based: a push of 40 severe reports (a massacre reported by one patrol, or a
    tablet back from days offline) raises 40 alerts, each with its report, its HQ recipients, one
    "raised" event and feed entry in alert order, and a webhook delivery; a replay raises none."""
    r = client.post("/api/v1/alert-webhooks", json={"url": "https://partner.example/hook", "secret": "s" * 32},
                    headers=mission.headers("admin"))
    assert r.status_code == 201, r.text
    client.app.state.alert_worker.stop()  # the deliveries stay queued for this test to count
    bodies = [report_body(author="patrol_a", severity=4 + i % 2, category="killing") for i in range(40)]
    bodies.append(report_body(author="patrol_a", severity=2))  # below the threshold: nothing
    entries = [version_entry(b, mission.device_id("patrol_a")) for b in bodies]
    r = client.post("/api/v1/sync/push", json={"versions": entries}, headers=mission.device_headers("patrol_a"))
    assert {x["status"] for x in r.json()["results"]} == {"stored"}
    raising.ensure_current(engine)
    items = alerts_of(mission, "analyst", limit=100)
    assert len(items) == 40 and {a["reports"][0]["id"] for a in items} == {b["id"] for b in bodies[:40]}
    assert all(a["rule"]["name"] == SEVERE and len(a["reports"]) == 1 for a in items)
    assert {a["id"] for a in alerts_of(mission, "protection", limit=100)} == {a["id"] for a in items}
    with engine.connect() as conn:
        events = conn.execute(select(alert_events.c.id, alert_events.c.alert_id).order_by(alert_events.c.id)).all()
        assert [e.alert_id for e in events] == sorted(a["id"] for a in items)  # one each, in alert order
        fed = conn.execute(select(changes.c.ref, changes.c.payload).where(changes.c.kind == "alert")
                           .order_by(changes.c.seq)).all()
        assert [(int(f.ref), f.payload["event_id"]) for f in fed] == [(e.alert_id, e.id) for e in events]
        queued = conn.execute(select(webhook_deliveries.c.event_id).order_by(webhook_deliveries.c.id)).scalars().all()
        assert queued == [e.id for e in events]
    with engine.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == raising.CURSOR_KEY))
    raising.ensure_current(engine)
    assert _count(engine) == 40
