"""An alert's lifecycle through the API, escalation on an injected clock, and measured response."""

from __future__ import annotations

from datetime import timedelta

from peacewatch.server import clock
from peacewatch.server.alerts.worker import escalate

from .helpers import alerts_of, push


def test_acknowledge_act_close(client, mission) -> None:
    push(mission, "patrol_a", severity=5)
    alert = alerts_of(mission, "analyst")[0]
    url = f"/api/v1/alerts/{alert['id']}"
    h = mission.headers("analyst")
    r = client.post(f"{url}/acknowledge", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged"]["by"] == "analyst"
    assert client.post(f"{url}/acknowledge", headers=mission.headers("protection")).json()["error"] == "conflict"
    r = client.post(f"{url}/actions", json={"kind": "patrol_tasked", "text": "QRF from ALPHA base"}, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "in_response"
    assert r.json()["actions"][0] | {"at": None} == {"kind": "patrol_tasked", "text": "QRF from ALPHA base",
                                                     "by": "analyst", "at": None}
    r = client.post(f"{url}/actions", json={"kind": "sent_flowers"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = client.post(f"{url}/close", json={"outcome": ""}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "outcome"
    r = client.post(f"{url}/close", json={"outcome": "Patrol found the village calm"}, headers=h)
    assert r.status_code == 200 and r.json()["closed"]["outcome"] == "Patrol found the village calm"
    assert client.post(f"{url}/actions", json={"kind": "note"}, headers=h).status_code == 409
    assert [a["status"] for a in alerts_of(mission, "analyst", status="closed")] == ["closed"]
    assert alerts_of(mission, "analyst", status="new") == []
    # Someone who may not see it gets the same answer as for an alert that does not exist.
    assert client.post(f"{url}/acknowledge", headers=mission.headers("patrol_b")).status_code == 404
    assert client.post("/api/v1/alerts/999999/acknowledge", headers=h).status_code == 404


def test_escalation_follows_the_server_clock_and_stops_when_acknowledged(client, mission, engine) -> None:
    push(mission, "patrol_a", severity=4)
    push(mission, "patrol_b", severity=4, contingent="BRAVO")
    assert alerts_of(mission, "commander_a") == []
    clock.advance(timedelta(minutes=14))
    assert escalate(engine) == 0 and alerts_of(mission, "commander_a") == []
    # Acknowledge BRAVO's alert before its step: it never reaches BRAVO's commander.
    bravo = next(a for a in alerts_of(mission, "analyst") if a["reports"][0]["contingent"] == "BRAVO")
    assert client.post(f"/api/v1/alerts/{bravo['id']}/acknowledge",
                       headers=mission.headers("analyst")).status_code == 200
    clock.advance(timedelta(minutes=2))
    items = alerts_of(mission, "commander_a")
    assert len(items) == 1 and items[0]["level"] == 1 and items[0]["reports"][0]["contingent"] == "ALPHA"
    assert alerts_of(mission, "commander_b") == []  # acknowledged in time, and ALPHA's is not theirs to read
    assert escalate(engine) == 0  # nothing more is due: escalation happens once per step


def test_response_times_per_rule_contingent_and_week(client, mission) -> None:
    push(mission, "patrol_a", severity=5)
    push(mission, "patrol_a", severity=4, category="killing")
    first, second = alerts_of(mission, "analyst")
    h = mission.headers("analyst")
    clock.advance(timedelta(minutes=4))
    client.post(f"/api/v1/alerts/{first['id']}/acknowledge", headers=h)
    clock.advance(timedelta(minutes=6))
    client.post(f"/api/v1/alerts/{first['id']}/actions", json={"kind": "contingent_informed"}, headers=h)
    by_rule = client.get("/api/v1/alerts/metrics", params={"by": "rule"}, headers=h).json()["items"]
    assert len(by_rule) == 1 and by_rule[0]["alerts"] == 2 and by_rule[0]["unacknowledged"] == 1
    assert abs(by_rule[0]["acknowledge_minutes"]["median"] - 4.0) < 0.2
    assert abs(by_rule[0]["first_action_minutes"]["median"] - 10.0) < 0.2
    by_contingent = client.get("/api/v1/alerts/metrics", params={"by": "contingent"}, headers=h).json()["items"]
    assert [g["group"] for g in by_contingent] == ["ALPHA"]
    by_week = client.get("/api/v1/alerts/metrics", params={"by": "week"}, headers=h).json()["items"]
    assert len(by_week) == 1 and "-W" in by_week[0]["group"]
    assert client.get("/api/v1/alerts/metrics", params={"by": "colour"}, headers=h).json()["field"] == "by"
