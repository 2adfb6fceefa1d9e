"""New reports on the operations view (SQLite and PostgreSQL): the live stream names exactly the
reports each viewer may read in the reports list, never another, and resumes after a drop."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from factories import PASSWORD, USERS, Mission, report_body, store
from peacewatch.server.access import ROLE_PERMISSIONS, Permission
from peacewatch.server.reports import live
from tests.web.helpers import sign_in


def _events(browser: TestClient, *, after: int = 0) -> list[dict]:
    out, current = [], {}
    with browser.stream("GET", "/operations/reports/stream", headers={"Last-Event-ID": str(after)}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line == "":
                if current:
                    out.append(current)
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                current[key] = value.strip()
    return [e | {"data": json.loads(e["data"])} for e in out if e.get("event") == "report"]


def _world(mission: Mission) -> dict[str, dict]:
    bodies = {
        "alpha_mission": report_body(contingent="ALPHA", author="patrol_a", title="Alpha mission"),
        "bravo_mission": report_body(contingent="BRAVO", author="patrol_b", title="Bravo mission"),
        "bravo_public": report_body(contingent="BRAVO", author="patrol_b", confidentiality="public",
                                    title="Bravo public"),
        "restricted": report_body(kind="hr_concern", category="arbitrary_detention", confidentiality="restricted",
                                  contingent="ALPHA", author="patrol_a", title="Restricted case"),
    }
    for body in bodies.values():
        store(mission, body["author"], body)
    return bodies


def test_every_viewer_is_told_exactly_the_reports_their_list_holds(client: TestClient, mission: Mission) -> None:
    _world(mission)
    client.app.state.settings.alert_stream_max_s = 0.5
    checked = 0
    for username, (role, _c) in USERS.items():
        browser = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        sign_in(browser, username, PASSWORD)
        if Permission.READ_REPORTS not in ROLE_PERMISSIONS[role]:
            assert browser.get("/operations/reports/stream").status_code == 403
            assert browser.get("/operations/reports.json").status_code == 403
            continue
        listed = {i["id"] for i in mission.client.get("/api/v1/reports", params={"limit": 500},
                                                      headers=mission.headers(username)).json()["items"]}
        streamed = {e["data"]["id"] for e in _events(browser)}
        assert streamed == listed, username
        latest = {i["id"] for i in browser.get("/operations/reports.json").json()["items"]}
        assert latest <= listed, username
        checked += 1
    assert checked == 8


def test_a_new_report_arrives_and_a_dropped_stream_resumes(client: TestClient, mission: Mission) -> None:
    bodies = _world(mission)
    start = live.current_seq(mission.engine)
    client.app.state.settings.alert_stream_max_s = 0.5
    sign_in(client, "commander_a", PASSWORD)
    assert _events(client, after=start) == []
    new = report_body(contingent="ALPHA", author="patrol_a", title="Roadblock at the bridge", severity=2)
    store(mission, "patrol_a", new)
    [event] = _events(client, after=start)
    assert event["data"]["id"] == new["id"] and event["data"]["title"] == "Roadblock at the bridge"
    assert event["data"]["category_label"] and int(event["id"]) > start
    # Resuming after that event: nothing twice.
    assert _events(client, after=int(event["id"])) == []
    # The commander's stream never names BRAVO's mission report nor the restricted case.
    names = {e["data"]["id"] for e in _events(client)}
    assert bodies["bravo_mission"]["id"] not in names and bodies["restricted"]["id"] not in names
    assert {bodies["alpha_mission"]["id"], bodies["bravo_public"]["id"], new["id"]} <= names


def test_a_restricted_version_of_a_readable_report_does_not_announce_itself(client: TestClient,
                                                                            mission: Mission) -> None:
    body = report_body(contingent="ALPHA", author="patrol_a", title="Market incident")
    first = store(mission, "patrol_a", body)
    start = live.current_seq(mission.engine)
    # The author's tablet marks it restricted: for HQ analysts the report is gone from the list.
    store(mission, "patrol_a", body | {"confidentiality": "restricted"}, parents=[first])
    client.app.state.settings.alert_stream_max_s = 0.5
    sign_in(client, "analyst", PASSWORD)
    assert _events(client, after=start) == []
