"""Tasks made in one step from an alert or a community alert (SQLite and PostgreSQL): the place comes
from the source, the creator must see the source, and a restricted alert gives no task."""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories import Mission, report_body, store
from peacewatch.server.alerts.raising import ensure_current
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE
from tests.server.community.conftest import PLACES, add_places


def _alerts(client: TestClient, mission: Mission, who: str) -> list[dict]:
    return client.get("/api/v1/alerts", headers=mission.headers(who)).json()["items"]


def test_a_task_from_an_alert_takes_its_place_and_a_restricted_one_is_refused(
        client: TestClient, mission: Mission) -> None:
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    store(mission, "patrol_a", report_body(severity=5, title="Village attacked", lat=1.7, lon=30.1))
    store(mission, "patrol_a", report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                           confidentiality="restricted", severity=5))
    ensure_current(mission.engine)
    severe = next(a for a in _alerts(client, mission, "analyst") if a["confidentiality"] != "restricted")
    r = client.post("/api/v1/tasks", headers=mission.headers("analyst"), json={
        "source": {"kind": "alert", "ref": str(severe["id"])}, "assignee": {"contingent": "ALPHA"}})
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["kind"] == "verify" and task["title"] == f"Verify alert #{severe['id']}"
    assert task["place"]["type"] == "Point" and task["source"] == {"kind": "alert", "ref": str(severe["id"])}
    restricted = next(a for a in _alerts(client, mission, "protection") if a["confidentiality"] == "restricted")
    r = client.post("/api/v1/tasks", headers=mission.headers("protection"), json={
        "source": {"kind": "alert", "ref": str(restricted["id"])}, "assignee": {"user": "patrol_a"}})
    assert r.status_code == 422 and r.json()["field"] == "source"
    # An alert the creator does not see is not found; a bad id names the field.
    assert client.post("/api/v1/tasks", headers=mission.headers("analyst"), json={
        "source": {"kind": "alert", "ref": str(restricted["id"])},
        "assignee": {"contingent": "ALPHA"}}).status_code == 404
    r = client.post("/api/v1/tasks", headers=mission.headers("analyst"), json={
        "source": {"kind": "alert", "ref": "x1"}, "assignee": {"contingent": "ALPHA"}})
    assert r.status_code == 422 and r.json()["field"] == "source.ref"


def test_a_task_from_a_community_alert_is_at_its_confirmed_place(client: TestClient, mission: Mission) -> None:
    add_places(mission.engine)
    logged = client.post("/api/v1/community/alerts", headers=mission.headers("liaison"), json={
        "text": "men with guns near the market", "place": "Bunia", "category": "attack_on_civilians", "urgency": 5})
    assert logged.status_code == 201, logged.text
    alert_id = logged.json()["id"]
    body = {"source": {"kind": "community_alert", "ref": str(alert_id)}, "assignee": {"contingent": "ALPHA"}}
    # Before triage the place is only a guess from the caller's words: the task needs one given.
    r = client.post("/api/v1/tasks", headers=mission.headers("analyst"), json=body)
    assert r.status_code == 422 and r.json()["field"] == "place" and "no confirmed place" in r.json()["message"]
    confirmed = client.post(f"/api/v1/community/alerts/{alert_id}/confirm", headers=mission.headers("liaison"),
                            json={"place_id": "bunia", "category": "attack_on_civilians"})
    assert confirmed.status_code == 200, confirmed.text
    r = client.post("/api/v1/tasks", headers=mission.headers("analyst"), json=body)
    assert r.status_code == 201, r.text
    task = r.json()
    _names, lat, lon = PLACES["bunia"]
    assert task["kind"] == "verify" and (task["lat"], task["lon"]) == (lat, lon)
    assert "men with guns" not in r.text  # the caller's words stay with the community alert
    # A commander's role does not read the community queue: refused, nothing made.
    r = client.post("/api/v1/tasks", headers=mission.headers("commander_a"), json=body)
    assert r.status_code == 403 and "men with guns" not in r.text
