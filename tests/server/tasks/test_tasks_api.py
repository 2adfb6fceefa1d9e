"""Tasks through the API (SQLite and PostgreSQL): made in one step from what HQ found, seen only
by whom they are for, changed only by events kept in server order, and checked after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import h3
from fastapi.testclient import TestClient

from factories import Mission, report_body, store
from peacewatch.server.feed_consumers import ensure_current
from peacewatch.server.subscriptions import CONSUMERS

GAP_LAT, GAP_LON = 1.60, 30.30


def _gap_cell() -> str:
    return h3.latlng_to_cell(GAP_LAT, GAP_LON, 8)


def _task(client: TestClient, mission: Mission, who: str = "analyst", **body: object) -> dict:
    r = client.post("/api/v1/tasks", headers=mission.headers(who), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _event(client: TestClient, mission: Mission, who: str, task_id: int, **body: object) -> dict:
    body.setdefault("event_id", str(uuid.uuid4()))
    r = client.post(f"/api/v1/tasks/{task_id}/events", headers=mission.device_headers(who), json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _pulled_tasks(client: TestClient, mission: Mission, who: str) -> dict[int, dict]:
    r = client.get("/api/v1/sync/pull", params={"since": 0, "limit": 500}, headers=mission.device_headers(who))
    assert r.status_code == 200, r.text
    return {c["task"]["id"]: c["task"] for c in r.json()["changes"] if c["kind"] == "task"}


def test_gap_task_reaches_its_contingent_is_done_and_closes_the_gap(client: TestClient, mission: Mission) -> None:
    cell = _gap_cell()
    task = _task(client, mission, source={"kind": "coverage_gap", "ref": cell}, assignee={"contingent": "ALPHA"},
                 priority="high", instructions="Patrol the market road before dusk")
    assert task["kind"] == "patrol" and task["place"]["type"] == "Polygon" and task["status"] == "open"
    assert task["contingent"] == "ALPHA" and task["source"] == {"kind": "coverage_gap", "ref": cell}
    # The right tablet gets it; another contingent's does not.
    assert task["id"] in _pulled_tasks(client, mission, "patrol_a")
    assert task["id"] not in _pulled_tasks(client, mission, "patrol_b")
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("patrol_b")).status_code == 404
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("commander_b")).status_code == 404
    # Accepted, a patrol report filed for it across the gap, done.
    _event(client, mission, "patrol_a", task["id"], status="accepted", device_time="2026-12-03T06:00:00Z")
    now = datetime.now(UTC)
    patrol = report_body(kind="patrol", lat=GAP_LAT - 0.01, lon=GAP_LON - 0.01, event_time=now - timedelta(hours=4))
    patrol["end_time"] = now.isoformat().replace("+00:00", "Z")
    patrol["route"] = [{"lat": GAP_LAT - 0.01, "lon": GAP_LON}, {"lat": GAP_LAT + 0.01, "lon": GAP_LON}]
    store(mission, "patrol_a", patrol)
    _event(client, mission, "patrol_a", task["id"], report_id=patrol["id"])
    seen = client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("analyst")).json()
    assert seen["gap"] == {"cells_before": 1, "cells_after": None, "closed": None}
    out = _event(client, mission, "patrol_a", task["id"], status="done", note="Road clear")
    assert out["stored"] and out["task"]["status"] == "done"
    seen = client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("analyst")).json()
    assert seen["status"] == "done" and seen["done_at"] is not None
    assert seen["gap"] == {"cells_before": 1, "cells_after": 0, "closed": True}
    assert [e["status"] for e in seen["events"]] == ["accepted", None, "done"]
    assert seen["events"][1]["report_id"] == patrol["id"] and seen["events"][0]["by"] == "patrol_a"
    board = client.get("/api/v1/tasks/board", headers=mission.headers("analyst")).json()["contingents"]
    assert {"contingent": "ALPHA", "open": 0, "overdue": 0, "done": 1, "cannot_do": 0} in board


def test_a_gap_not_patrolled_stays_open(client: TestClient, mission: Mission) -> None:
    task = _task(client, mission, source={"kind": "hotspot", "ref": _gap_cell()}, assignee={"contingent": "ALPHA"})
    _event(client, mission, "patrol_a", task["id"], status="done")
    seen = client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("commander_a")).json()
    assert seen["gap"] == {"cells_before": 1, "cells_after": 1, "closed": False}


def test_two_devices_offline_keep_both_events_and_the_same_event_is_stored_once(
        client: TestClient, mission: Mission) -> None:
    mission.enrol_device("commander_a")
    task = _task(client, mission, "commander_a", place={"type": "Point", "coordinates": [30.25, 1.56]},
                 title="Check the bridge", kind="verify", assignee={"contingent": "ALPHA"})
    first = {"event_id": str(uuid.uuid4()), "status": "started", "device_time": "2026-12-03T09:00:00Z"}
    second = {"event_id": str(uuid.uuid4()), "status": "cannot_do", "note": "Bridge flooded",
              "device_time": "2026-12-03T08:00:00Z"}
    _event(client, mission, "patrol_a", task["id"], **first)
    _event(client, mission, "commander_a", task["id"], **second)
    again = _event(client, mission, "patrol_a", task["id"], **first)  # the link dropped before the answer
    assert again["stored"] is False
    events = again["task"]["events"]
    assert [e["event_id"] for e in events] == [first["event_id"], second["event_id"]]
    # Server order decides, not the devices' clocks: the later arrival is the state.
    assert again["task"]["status"] == "cannot_do"


def test_bad_tasks_and_events_are_refused_naming_the_field(client: TestClient, mission: Mission) -> None:
    me = mission.headers("analyst")
    point = {"type": "Point", "coordinates": [30.25, 1.56]}
    for body, field in (
            ({"place": point, "title": "x", "assignee": {}}, "assignee"),
            ({"place": point, "title": "x", "assignee": {"contingent": "ZULU"}}, "assignee.contingent"),
            ({"place": point, "title": "x", "assignee": {"user": "admin"}}, "assignee.user"),
            ({"title": "x", "assignee": {"contingent": "ALPHA"}}, "place"),
            ({"place": {"type": "Point", "coordinates": [200, 1]}, "title": "x", "assignee": {"contingent": "ALPHA"}},
             "place.coordinates"),
            ({"place": {"type": "Circle"}, "title": "x", "assignee": {"contingent": "ALPHA"}}, "place.type"),
            ({"source": {"kind": "coverage_gap", "ref": "nothex"}, "assignee": {"contingent": "ALPHA"}}, "source.ref"),
            ({"place": point, "title": "  ", "assignee": {"contingent": "ALPHA"}}, "title"),
            ({"place": point, "title": "x", "assignee": {"contingent": "ALPHA"}, "window_start": "2026-12-04T00:00:00Z",
              "window_end": "2026-12-03T00:00:00Z"}, "window_end"),
            ({"place": point, "title": "x", "assignee": {"contingent": "ALPHA"}, "priority": "now"}, "priority")):
        r = client.post("/api/v1/tasks", headers=me, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    # A commander assigns only within their contingent; a patrol not at all.
    r = client.post("/api/v1/tasks", headers=mission.headers("commander_a"),
                    json={"place": point, "title": "x", "assignee": {"contingent": "BRAVO"}})
    assert r.status_code == 422 and r.json()["field"] == "assignee"
    assert client.post("/api/v1/tasks", headers=mission.headers("patrol_a"),
                       json={"place": point, "title": "x", "assignee": {"contingent": "ALPHA"}}).status_code == 403
    task = _task(client, mission, place=point, title="x", assignee={"contingent": "ALPHA"})
    url = f"/api/v1/tasks/{task['id']}/events"
    dev = mission.device_headers("patrol_a")
    for body, field in (({"event_id": str(uuid.uuid4()), "status": "cannot_do"}, "note"),
                        ({"event_id": str(uuid.uuid4()), "status": "cancelled"}, "status"),
                        ({"event_id": "bad id!", "status": "done"}, "event_id"),
                        ({"event_id": str(uuid.uuid4()), "report_id": str(uuid.uuid4())}, "report_id")):
        r = client.post(url, headers=dev, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers("analyst")).json()["events"] == []
    assert client.post(f"/api/v1/tasks/{task['id']}/events", headers=mission.device_headers("patrol_b"),
                       json={"event_id": str(uuid.uuid4()), "status": "done"}).status_code == 404


def test_a_task_about_a_restricted_case_is_seen_only_by_its_readers(client: TestClient, mission: Mission) -> None:
    case = report_body(kind="hr_concern", category="conflict_related_sexual_violence", confidentiality="restricted")
    store(mission, "patrol_a", case)
    r = client.post("/api/v1/tasks", headers=mission.headers("protection"),
                    json={"source": {"kind": "report", "ref": case["id"]}, "assignee": {"contingent": "ALPHA"}})
    assert r.status_code == 422 and r.json()["field"] == "assignee"
    task = _task(client, mission, "protection", source={"kind": "report", "ref": case["id"]},
                 assignee={"user": "patrol_a"})
    assert task["report_id"] == case["id"] and task["kind"] == "verify"
    for who, sees in (("patrol_a", True), ("protection", True), ("hr", True), ("analyst", False),
                      ("commander_a", False), ("patrol_b", False)):
        listed = {t["id"] for t in client.get("/api/v1/tasks", headers=mission.headers(who)).json()["tasks"]}
        assert (task["id"] in listed) is sees, who
        one = client.get(f"/api/v1/tasks/{task['id']}", headers=mission.headers(who))
        assert one.status_code == (200 if sees else 404), who
    assert task["id"] in _pulled_tasks(client, mission, "patrol_a")
    assert client.post("/api/v1/tasks", headers=mission.headers("analyst"),
                       json={"source": {"kind": "report", "ref": case["id"]},
                             "assignee": {"user": "patrol_a"}}).status_code == 404


def test_needs_information_is_a_task_for_the_author_closed_by_their_edit(
        client: TestClient, mission: Mission) -> None:
    body = report_body()
    first = store(mission, "patrol_a", body)
    r = client.post(f"/api/v1/reports/{body['id']}/review", headers=mission.headers("analyst"),
                    json={"status": "needs_information", "comment": "How many were injured?"})
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    mine = _pulled_tasks(client, mission, "patrol_a")
    assert mine[task_id]["kind"] == "follow_up" and mine[task_id]["assignee"] == "patrol_a"
    assert mine[task_id]["instructions"] == "How many were injured?" and mine[task_id]["status"] == "open"
    assert task_id not in _pulled_tasks(client, mission, "patrol_b")
    store(mission, "patrol_a", body | {"casualties": {"killed": 1, "injured": 5, "abducted": 0, "displaced": 40}},
          parents=[first])
    ensure_current(mission.engine, *CONSUMERS)
    seen = client.get(f"/api/v1/tasks/{task_id}", headers=mission.headers("analyst")).json()
    assert seen["status"] == "done" and seen["events"][-1]["note"] == "the author edited the report"
    assert _pulled_tasks(client, mission, "patrol_a")[task_id]["status"] == "done"


def test_overdue_tasks_are_flagged_on_the_board(client: TestClient, mission: Mission) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    task = _task(client, mission, place={"type": "LineString", "coordinates": [[30.2, 1.5], [30.3, 1.6]]},
                 title="Route check", assignee={"user": "patrol_b"}, window_end=past)
    assert task["overdue"] is True
    assert client.get("/api/v1/tasks", params={"status": "overdue"},
                      headers=mission.headers("commander_b")).json()["tasks"][0]["id"] == task["id"]
    board = client.get("/api/v1/tasks/board", headers=mission.headers("commander_b")).json()["contingents"]
    assert board == [{"contingent": "BRAVO", "open": 1, "overdue": 1, "done": 0, "cannot_do": 0}]


def test_case_follow_up_is_for_the_protection_team_only(client: TestClient, mission: Mission) -> None:
    case = report_body(kind="hr_concern", category="arbitrary_detention")
    store(mission, "patrol_a", case)
    me = mission.headers("protection")
    listed = client.get("/api/v1/cases", headers=me).json()["cases"]
    assert [c["report_id"] for c in listed] == [case["id"]] and listed[0]["case_status"] == "open"
    r = client.put(f"/api/v1/cases/{case['id']}", headers=me,
                   json={"case_status": "referred", "next_action": "Visit the detention site", "due_date": "2026-01-02",
                         "officer": "hr"})
    assert r.status_code == 200, r.text
    assert r.json()["overdue"] is True and r.json()["officer"] == "hr"
    assert client.get("/api/v1/cases", params={"overdue": True}, headers=me).json()["cases"][0]["report_id"] == case["id"]
    for body, field in (({"case_status": "lost"}, "case_status"), ({"case_status": "open", "due_date": "2026-02-30"},
                                                                    "due_date"),
                        ({"case_status": "open", "officer": "patrol_a"}, "officer")):
        bad = client.put(f"/api/v1/cases/{case['id']}", headers=me, json=body)
        assert bad.status_code == 422 and bad.json()["field"] == field, (body, bad.text)
    for who in ("analyst", "commander_a", "patrol_a", "admin"):
        assert client.get("/api/v1/cases", headers=mission.headers(who)).status_code == 403, who
