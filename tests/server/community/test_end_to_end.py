"""End to end over real HTTP on loopback: a fake SMS gateway posts an SMS to the running server;
it is matched to a place, confirmed by the liaison into an alert HQ sees, linked to a patrol's
report, and the sender receives the acknowledgement and the outcome through the gateway."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from e2e.live_server import live_server

from factories import report_body, store
from peacewatch.server import clock
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.community.intake import add_gateway
from peacewatch.server.community.outbox import deliver_due
from peacewatch.server.community.protection import mission_key
from peacewatch.server.db.engine import WRITE

from .fake_gateway import FakeGateway, running


def _wait(predicate, timeout_s: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sms_to_alert_to_linked_report_with_replies(settings, engine, mission, gazetteer) -> None:
    key = mission_key(settings)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    patrol_report = report_body(lat=1.3601, lon=29.0502, category="attack_on_civilians")
    patrol_report["event_time"] = clock.now().isoformat().replace("+00:00", "Z")
    store(mission, "patrol_a", patrol_report)
    gateway = FakeGateway("village-line")
    with running(gateway) as outbound, live_server(settings, engine) as (host, port):
        url = f"http://{host}:{port}"
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            gateway.secret = add_gateway(conn, name=gateway.name, key=key, outbound_url=outbound)["secret"]
        gateway.fail_next = 1  # the first delivery fails: the outbox retries
        sms = gateway.receive_sms(url, sender="+243970001234", text="ALERTE Mambasa ATT des hommes armés tirent",
                                  message_id="gw-1")
        assert sms.status_code == 202, sms.text
        alert_id = sms.json()["alert_id"]
        assert gateway.receive_sms(url, sender="+243970001234", text="ALERTE Mambasa ATT des hommes armés tirent",
                                   message_id="gw-1").json()["status"] == "duplicate"
        liaison = {"Authorization": f"Bearer {mission.tokens['liaison']}"}
        analyst = {"Authorization": f"Bearer {mission.tokens['analyst']}"}
        got = httpx.get(f"{url}/api/v1/community/alerts/{alert_id}", headers=liaison).json()
        assert got["candidates"][0]["place_id"] == "mambasa" and got["category"] == "attack_on_civilians"
        assert [r["id"] for r in got["possible_duplicates"]["reports"]] == [patrol_report["id"]]
        confirmed = httpx.post(f"{url}/api/v1/community/alerts/{alert_id}/confirm", headers=liaison,
                               json={"place_id": "mambasa", "category": "attack_on_civilians", "urgency": 5}).json()
        assert confirmed["status"] == "confirmed"
        assert _wait(lambda: any(f"Community alert #{alert_id}" in str(a) for a in
                                 httpx.get(f"{url}/api/v1/alerts", headers=analyst).json()["items"]))
        # The acknowledgement's first try failed (503) and waits its back-off: once that try is
        # recorded, move the clock past it; the worker (or this test) sends it again.
        assert _wait(lambda: httpx.get(f"{url}/api/v1/community/alerts/{alert_id}",
                                       headers=liaison).json()["replies"][0]["attempts"] == 1)
        clock.advance(timedelta(seconds=60))
        assert _wait(lambda: deliver_due(engine, key=key) >= 0 and len(gateway.sent) == 1), gateway.sent
        linked = httpx.post(f"{url}/api/v1/community/alerts/{alert_id}/link", headers=liaison,
                            json={"report_id": patrol_report["id"]})
        assert linked.status_code == 200 and linked.json()["status"] == "linked"
        assert _wait(lambda: len(gateway.sent) == 2), gateway.sent
        replies = httpx.get(f"{url}/api/v1/community/alerts/{alert_id}", headers=liaison).json()["replies"]
        assert [(r["kind"], r["status"]) for r in replies] == [("ack", "sent"), ("outcome_action", "sent")]
    texts = sorted(m["text"] for m in gateway.sent)
    assert {m["to"] for m in gateway.sent} == {"+243970001234"}
    assert any("a été reçue" in t and f"#{alert_id}" in t for t in texts)  # the acknowledgement, in French
    assert any("transmise à la mission" in t for t in texts)  # the outcome
    for t in texts:  # nothing of the report or other callers
        assert "armés" not in t and "Armed men" not in t
