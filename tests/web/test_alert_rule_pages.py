"""The alert rule pages and the webhook delivery log, in-process on SQLite and PostgreSQL: who may
open them, a rule created, edited and deleted through the form, errors next to their field, CSRF,
and a log that never shows a secret."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import insert

from factories import PASSWORD, Mission
from peacewatch.server import clock
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import webhook_deliveries, webhook_endpoints
from tests.web.helpers import csrf_of, sign_in

GOOD = {"name": "Killing near Camp Hope", "enabled": "on", "categories": ["killing", "attack_on_civilians"],
        "min_severity": "3", "confidentiality": ["public", "mission"], "near_km": "5", "inside": "hotspot",
        "audience_roles": ["hq_analyst", "commander"], "audience_contingents": ["ALPHA"],
        "esc-0-after_minutes": "15", "esc-0-roles": ["protection_officer"], "shareable": "on"}


def _browser(client: TestClient, username: str) -> TestClient:
    b = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(b, username, PASSWORD)
    return b


def _rules(mission: Mission) -> list[dict]:
    return mission.client.get("/api/v1/alert-rules", headers=mission.headers("analyst")).json()["items"]


def test_create_edit_and_delete_a_rule_through_the_form(client: TestClient, mission: Mission) -> None:
    analyst = _browser(client, "analyst")
    form = analyst.get("/alert-rules/new")
    assert form.status_code == 200 and 'name="audience_roles"' in form.text
    r = analyst.post("/alert-rules", data=GOOD | {"csrf": csrf_of(form.text)})
    assert r.status_code == 303, r.text
    [rule] = _rules(mission)
    assert rule["name"] == GOOD["name"] and rule["shareable"] and rule["enabled"]
    assert rule["conditions"] == {"kinds": [], "categories": ["killing", "attack_on_civilians"], "min_severity": 3,
                                  "confidentiality": ["public", "mission"], "contingents": [],
                                  "near": {"km": 5.0}, "inside": "hotspot"}
    assert rule["audience"] == {"roles": ["hq_analyst", "commander"], "contingents": ["ALPHA"]}
    assert rule["escalation"] == [{"roles": ["protection_officer"], "contingents": [], "after_minutes": 15}]
    listing = analyst.get(r.headers["location"])
    assert "Rule created" in listing.text and "Inside a current hot spot" in listing.text
    # Edit: the form shows the rule as stored; the change is stored; unticking "enabled" disables it.
    edit = analyst.get(f"/alert-rules/{rule['id']}")
    assert 'value="Killing near Camp Hope"' in edit.text and re.search(r'value="hotspot"\s+selected', edit.text)
    changed = GOOD | {"name": "Killing anywhere", "near_km": "", "csrf": csrf_of(edit.text)}
    del changed["enabled"]
    assert analyst.post(f"/alert-rules/{rule['id']}", data=changed).status_code == 303
    [rule] = _rules(mission)
    assert rule["name"] == "Killing anywhere" and not rule["enabled"] and "near" not in rule["conditions"]
    # Delete, with the page's token only.
    assert analyst.post(f"/alert-rules/{rule['id']}/delete", data={"csrf": "forged"}).status_code == 403
    assert analyst.post(f"/alert-rules/{rule['id']}/delete", data={"csrf": csrf_of(edit.text)}).status_code == 303
    assert _rules(mission) == []
    assert analyst.get(f"/alert-rules/{rule['id']}").status_code == 404


def test_errors_are_shown_next_to_their_field_and_nothing_is_stored(client: TestClient, mission: Mission) -> None:
    analyst = _browser(client, "analyst")
    token = csrf_of(analyst.get("/alert-rules/new").text)
    bad = GOOD | {"name": "", "cluster_count": "many", "cluster_hours": "24", "cluster_km": "0",
                  "audience_roles": [], "area": "{not json", "esc-0-after_minutes": "30",
                  "esc-1-after_minutes": "10", "esc-1-roles": ["commander"], "csrf": token}
    r = analyst.post("/alert-rules", data=bad)
    assert r.status_code == 422
    for field, words in (("name", "Required"), ("cluster_count", "whole number"), ("cluster_km", "more than 0"),
                         ("audience_roles", "at least one"), ("area", "GeoJSON"), ("escalation", "later than")):
        match = re.search(rf'id="error-{field}"[^>]*>([^<]+)<', r.text)
        assert match and words in match.group(1), (field, match and match.group(1))
    assert 'value="24"' in r.text  # what was typed is kept
    assert _rules(mission) == []
    # In French, the same errors in French.
    analyst.cookies.set("pw_lang", "fr")
    r = analyst.post("/alert-rules", data=bad)
    assert r.status_code == 422 and "Obligatoire" in r.text
    # Without the form's token nothing is stored either.
    assert analyst.post("/alert-rules", data=GOOD).status_code == 403
    assert _rules(mission) == []


def test_who_may_manage_rules_and_read_the_webhook_log(client: TestClient, mission: Mission) -> None:
    for username, rules_ok, log_ok in (("analyst", True, False), ("protection", True, False),
                                       ("admin", True, True), ("commander_a", False, False),
                                       ("patrol_a", False, False), ("liaison", False, False)):
        b = _browser(client, username)
        assert (b.get("/alert-rules").status_code == 200) == rules_ok, username
        assert (b.get("/alert-rules/new").status_code == 200) == rules_ok, username
        assert (b.get("/admin/webhooks").status_code == 200) == log_ok, username
        token = csrf_of(b.get("/overview" if username not in ("admin", "patrol_a", "liaison") else
                              ("/admin/users" if username == "admin" else "/reports")).text)
        if not rules_ok:
            assert b.post("/alert-rules", data=GOOD | {"csrf": token}).status_code == 403, username
    assert _rules(mission) == []


def test_the_webhook_log_shows_deliveries_and_no_secret(client: TestClient, mission: Mission) -> None:
    secret = "s3cret-signing-key-0042"
    now = clock.now()
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        eid = conn.execute(insert(webhook_endpoints).values(
            url="https://partner:pa55word@ops.example.org/hook?token=querytoken99", secret=secret, active=True,
            created_at=now).returning(webhook_endpoints.c.id)).scalar_one()
        conn.execute(insert(webhook_deliveries), [
            {"endpoint_id": eid, "event_id": 1, "payload": {"alert_id": 7}, "status": "delivered", "attempts": 1,
             "next_attempt_at": now, "last_status": 200, "last_error": None, "delivered_at": now, "created_at": now},
            {"endpoint_id": eid, "event_id": 2, "payload": {"alert_id": 8}, "status": "pending", "attempts": 3,
             "next_attempt_at": now, "last_status": 503,
             "last_error": f"HTTP 503 from ops.example.org (key {secret}, token=querytoken99)", "delivered_at": None,
             "created_at": now}])
    admin = _browser(client, "admin")
    html = admin.get("/admin/webhooks").text
    assert "https://ops.example.org/hook?…" in html
    assert html.count('class="delivery') == 2 and 'data-status="pending"' in html and ">503<" in html
    assert "HTTP 503 from ops.example.org" in html
    for leaked in (secret, "pa55word", "querytoken99"):
        assert leaked not in html
