"""Triage: the hotline log, confirming into the early-warning pipeline, linking, dismissing,
possible duplicates, who reads the caller's identity (audited), the purge, and place aliases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from factories import report_body, store
from peacewatch.server import clock
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.community.protection import purge
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import community_alerts

CALL = {"text": "Men with guns took goats and threatened to come back tonight", "place": "Mambassa",
        "urgency": 5, "how_known": "saw", "caller_name": "Amani Kahindo", "caller_phone": "+243990001122",
        "caller_language": "fr", "caller_relationship": "lives there"}


def _log(client, mission, **extra) -> dict:
    r = client.post("/api/v1/community/alerts", json=CALL | extra, headers=mission.headers("liaison"))
    assert r.status_code == 201, r.text
    return r.json()


def test_hotline_call_waits_in_triage_with_candidates(client, mission, gazetteer) -> None:
    out = _log(client, mission)
    assert out["status"] == "triage" and out["candidates"][0]["place_id"] == "mambasa"
    assert "caller" not in out or out["caller"] is None  # the save answer never echoes who called
    queue = client.get("/api/v1/community/alerts", headers=mission.headers("analyst")).json()
    assert [a["id"] for a in queue["items"]] == [out["id"]]
    assert "Amani" not in str(queue) and "990001122" not in str(queue)


def test_confirmed_alert_enters_the_early_warning_pipeline(client, mission, gazetteer, engine) -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    out = _log(client, mission)
    r = client.post(f"/api/v1/community/alerts/{out['id']}/confirm",
                    json={"place_id": "mambasa", "category": "attack_on_civilians"}, headers=mission.headers("liaison"))
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed["status"] == "confirmed" and confirmed["report_id"]
    report = client.get(f"/api/v1/reports/{confirmed['report_id']}", headers=mission.headers("analyst")).json()
    assert report["current"]["location"]["place"] == "Mambasa" and report["contingent"] == "ALPHA"
    assert "Amani" not in str(report) and "990001122" not in str(report)
    alerts = client.get("/api/v1/alerts", headers=mission.headers("analyst")).json()
    assert any(f"Community alert #{out['id']}" in str(a) for a in alerts["items"]), alerts
    # A second decision on a decided alert is a conflict, not a second report.
    again = client.post(f"/api/v1/community/alerts/{out['id']}/confirm",
                        json={"place_id": "mambasa", "category": "attack_on_civilians"},
                        headers=mission.headers("liaison"))
    assert again.status_code == 409


def test_hotline_with_place_and_category_is_confirmed_in_one_step(client, mission, gazetteer) -> None:
    out = _log(client, mission, place_id="beni", category="looting")
    assert out["status"] == "confirmed" and out["report_id"]


def test_link_dismiss_and_bad_decisions(client, mission, gazetteer) -> None:
    body = report_body(lat=1.36, lon=29.05, category="looting")
    body["event_time"] = clock.now().isoformat().replace("+00:00", "Z")
    store(mission, "patrol_a", body)
    a = _log(client, mission, category="looting")
    got = client.get(f"/api/v1/community/alerts/{a['id']}", headers=mission.headers("liaison")).json()
    assert [r["id"] for r in got["possible_duplicates"]["reports"]] == [body["id"]]
    b = _log(client, mission, category="looting")
    got_b = client.get(f"/api/v1/community/alerts/{b['id']}", headers=mission.headers("liaison")).json()
    assert [o["id"] for o in got_b["possible_duplicates"]["community_alerts"]] == [a["id"]]
    h = mission.headers("liaison")
    for payload, field in (({}, "report_id"), ({"report_id": "nope"}, "report_id"),
                           ({"report_id": body["id"], "incident_id": "x"}, "report_id"),
                           ({"incident_id": "missing"}, "incident_id")):
        r = client.post(f"/api/v1/community/alerts/{a['id']}/link", json=payload, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = client.post(f"/api/v1/community/alerts/{a['id']}/link", json={"report_id": body["id"]}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "linked" and r.json()["linked_report_id"] == body["id"]
    assert client.post(f"/api/v1/community/alerts/{b['id']}/dismiss", json={"reason": "  "},
                       headers=h).json()["field"] == "reason"
    r = client.post(f"/api/v1/community/alerts/{b['id']}/dismiss", json={"reason": f"same as #{a['id']}"},
                    headers=h)
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    bad = client.post(f"/api/v1/community/alerts/{b['id']}/confirm", json={"place_id": "nowhere", "category": "x"},
                      headers=h)
    assert bad.status_code in (409, 422)
    c = _log(client, mission)
    for payload, field in (({"place_id": "nowhere", "category": "looting"}, "place_id"),
                           ({"place_id": "beni", "category": "no_such"}, "category")):
        r = client.post(f"/api/v1/community/alerts/{c['id']}/confirm", json=payload, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field
    assert client.post("/api/v1/community/alerts", json={"text": ""}, headers=h).json()["field"] == "text"
    assert client.post("/api/v1/community/alerts", json={"text": "x", "urgency": 9},
                       headers=h).json()["field"] == "urgency"
    assert client.get("/api/v1/community/alerts/999999", headers=h).status_code == 404


def test_caller_identity_only_for_liaison_and_protection_and_audited(client, mission, gazetteer) -> None:
    a = _log(client, mission)
    for username in ("liaison", "protection", "hr"):
        got = client.get(f"/api/v1/community/alerts/{a['id']}", headers=mission.headers(username)).json()
        assert got["caller"]["name"] == "Amani Kahindo" and got["caller"]["phone"] == "+243990001122"
    got = client.get(f"/api/v1/community/alerts/{a['id']}", headers=mission.headers("analyst"))
    assert got.status_code == 200 and got.json()["caller"] is None and "Amani" not in got.text
    for username in ("patrol_a", "commander_a", "admin"):
        assert client.get(f"/api/v1/community/alerts/{a['id']}", headers=mission.headers(username)).status_code == 403
    audit = client.get("/api/v1/audit?action=caller_identity_read", headers=mission.headers("admin")).json()
    assert {e["actor"] for e in audit["entries"]} == {"liaison", "protection", "hr"}


def test_restricted_category_alerts_reach_only_liaison_and_protection(client, mission, gazetteer) -> None:
    a = _log(client, mission, category="conflict_related_sexual_violence", text="SECRET-COMMUNITY-CRSV")
    assert client.get(f"/api/v1/community/alerts/{a['id']}", headers=mission.headers("analyst")).status_code == 404
    assert "SECRET-COMMUNITY-CRSV" not in client.get("/api/v1/community/alerts",
                                                     headers=mission.headers("analyst")).text
    assert "SECRET-COMMUNITY-CRSV" in client.get("/api/v1/community/alerts", headers=mission.headers("protection")).text


def test_purge_empties_identity_and_keeps_the_alert(client, mission, gazetteer, engine) -> None:
    old = _log(client, mission)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.execute(community_alerts.update().where(community_alerts.c.id == old["id"])
                     .values(received_at=clock.now() - timedelta(days=100)))
    recent = _log(client, mission)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        assert purge(conn, retention_days=90) == 1
    got = client.get(f"/api/v1/community/alerts/{old['id']}", headers=mission.headers("liaison")).json()
    assert got["caller"]["purged"] is True and got["caller"]["phone"] is None and got["text"] == CALL["text"]
    with engine.connect() as conn:
        row = conn.execute(select(community_alerts).where(community_alerts.c.id == old["id"])).mappings().one()
    assert row["caller_phone_enc"] is None and row["caller_name_enc"] is None
    kept = client.get(f"/api/v1/community/alerts/{recent['id']}", headers=mission.headers("liaison")).json()
    assert kept["caller"]["phone"] == "+243990001122"


def test_admins_add_alternate_spellings(client, mission, gazetteer) -> None:
    r = client.post("/api/v1/community/places/oicha/aliases", json={"name": "Watsha"}, headers=mission.headers("admin"))
    assert r.status_code == 201
    assert client.post("/api/v1/community/places/oicha/aliases", json={"name": "Watsha"},
                       headers=mission.headers("admin")).status_code == 409
    assert client.post("/api/v1/community/places/nowhere/aliases", json={"name": "X"},
                       headers=mission.headers("admin")).status_code == 404
    top = client.get("/api/v1/community/places?q=Watsha", headers=mission.headers("liaison")).json()["items"]
    assert top[0]["place_id"] == "oicha"
