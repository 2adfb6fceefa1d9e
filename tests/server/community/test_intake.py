"""SMS intake: signatures, payload shapes, coded and free messages, idempotency, throttling, bad input."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sqlalchemy import func, select

from peacewatch.server.community.signing import GATEWAY_HEADER, HEADER
from peacewatch.server.db.tables import community_alerts

from .conftest import signed

URL = "/api/v1/community/sms"


def _count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(community_alerts)).scalar_one())


def _sms(text: str, mid: str = "m1", sender: str = "+243990000001") -> dict:
    return {"from": sender, "text": text, "message_id": mid, "received_at": "2026-12-01T08:00:00Z"}


def test_coded_sms_is_stored_with_place_and_category(client, mission, gazetteer, gateway) -> None:
    r = client.post(URL, **signed(gateway, _sms("ALERTE Mambassa ATT hommes armés au marché")))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "stored" and r.json()["coded"] is True
    got = client.get(f"/api/v1/community/alerts/{r.json()['alert_id']}", headers=mission.headers("liaison")).json()
    assert got["category"] == "attack_on_civilians"
    assert got["candidates"][0]["place_id"] == "mambasa"
    assert got["text"] == "hommes armés au marché" and got["status"] == "triage"
    assert got["caller_language"] == "fr"
    assert got["caller"]["phone"] == "+243990000001"  # the liaison reads who sent it


def test_free_text_sms_finds_the_place_in_the_text(client, mission, gazetteer, gateway) -> None:
    r = client.post(URL, **signed(gateway, _sms("armed men burning houses near Oicha since this morning")))
    assert r.status_code == 202
    got = client.get(f"/api/v1/community/alerts/{r.json()['alert_id']}", headers=mission.headers("liaison")).json()
    assert got["category"] is None
    assert "oicha" in [c["place_id"] for c in got["candidates"][:3]]


def test_unknown_place_stays_in_triage_without_candidates(client, mission, gazetteer, gateway) -> None:
    r = client.post(URL, **signed(gateway, _sms("ALERT Zzyzx ATT gunfire")))
    assert r.status_code == 202
    got = client.get(f"/api/v1/community/alerts/{r.json()['alert_id']}", headers=mission.headers("liaison")).json()
    assert got["status"] == "triage" and got["place_id"] is None


def test_same_message_twice_is_stored_once(client, gazetteer, gateway, engine) -> None:
    first = client.post(URL, **signed(gateway, _sms("ALERT Beni KIL two dead", mid="dup-1")))
    again = client.post(URL, **signed(gateway, _sms("ALERT Beni KIL two dead", mid="dup-1")))
    assert first.status_code == 202 and again.status_code == 200
    assert again.json() == {"status": "duplicate", "alert_id": first.json()["alert_id"]}
    other = client.post(URL, **signed(gateway, _sms("something else", mid="dup-1")))
    assert other.status_code == 409 and other.json()["field"] == "message_id"
    assert _count(engine) == 1


def test_bad_signature_or_unknown_gateway_is_401_and_stores_nothing(client, gazetteer, gateway, engine) -> None:
    body = json.dumps(_sms("ALERT Beni ATT")).encode()
    for headers in ({GATEWAY_HEADER: gateway["name"], HEADER: "sha256=" + "0" * 64},
                    {GATEWAY_HEADER: "nobody", HEADER: signed(gateway, body)["headers"][HEADER]},
                    {GATEWAY_HEADER: gateway["name"]}, {}):
        r = client.post(URL, content=body, headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 401 and r.json()["error"] == "not_authenticated"
    # A body altered after signing is refused too.
    kwargs = signed(gateway, body)
    r = client.post(URL, content=body.replace(b"Beni", b"Bunia"), headers=kwargs["headers"])
    assert r.status_code == 401
    assert _count(engine) == 0


def test_malformed_and_empty_messages_name_the_field(client, gazetteer, gateway, engine) -> None:
    cases = [
        (b"{not json", "body"),
        (json.dumps([1, 2]).encode(), "body"),
        (json.dumps(_sms("   ")).encode(), "text"),
        (json.dumps({"from": "+243", "message_id": "x"}).encode(), "text"),
        (json.dumps(_sms("ALERT Beni ATT") | {"from": ""}).encode(), "from"),
        (json.dumps(_sms("ALERT Beni ATT") | {"from": "anonymous"}).encode(), "from"),
        (json.dumps(_sms("ALERT Beni ATT") | {"message_id": None}).encode(), "message_id"),
        (json.dumps(_sms("ALERT Beni ATT") | {"received_at": "yesterday"}).encode(), "received_at"),
        (json.dumps(_sms("x" * 2000)).encode(), "text"),
    ]
    for body, field in cases:
        r = client.post(URL, **signed(gateway, body))
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert _count(engine) == 0


def test_a_flood_from_one_number_is_throttled_but_logged(client, mission, settings, gazetteer, gateway,
                                                        engine) -> None:
    client.app.state.settings.sms_per_number_per_hour = 3
    statuses = [client.post(URL, **signed(gateway, _sms(f"ALERT Beni ATT shots {i}", mid=f"f{i}"))).json()["status"]
                for i in range(6)]
    assert statuses == ["stored"] * 3 + ["throttled"] * 3
    other = client.post(URL, **signed(gateway, _sms("ALERT Beni ATT", mid="o1", sender="+243990000999")))
    assert other.json()["status"] == "stored"  # another number is not held back
    assert _count(engine) == 7
    queue = client.get("/api/v1/community/alerts", headers=mission.headers("liaison")).json()
    assert queue["total"] == 4  # throttled ones are logged, not in triage
    logged = client.get("/api/v1/community/alerts?status=throttled", headers=mission.headers("liaison")).json()
    assert logged["total"] == 3


def test_rapidpro_form_and_android_gateway_shapes(client, mission, gazetteer, gateway) -> None:
    form = urlencode({"from": "+243970000002", "text": "ALERT Komanda MOV armed group crossing", "id": "rp-77",
                      "date": "2026-12-01T09:00:00Z"}).encode()
    r = client.post(URL, **signed(gateway, form, content_type="application/x-www-form-urlencoded"))
    assert r.status_code == 202, r.text
    android = {"event": "sms:received", "payload": {"phoneNumber": "+243970000003", "message": "ALERTE Bunia FEU",
                                                     "messageId": "and-1", "receivedAt": "2026-12-01T09:05:00+01:00"}}
    r2 = client.post(URL, **signed(gateway, android))
    assert r2.status_code == 202, r2.text
    bad = {"event": "sms:received", "payload": {"phoneNumber": "+243970000003", "message": "", "messageId": "and-2"}}
    r3 = client.post(URL, **signed(gateway, bad))
    assert r3.status_code == 422 and r3.json()["field"] == "payload.message"
    items = {a["id"]: a for a in client.get("/api/v1/community/alerts", headers=mission.headers("liaison")).json()["items"]}
    assert items[r.json()["alert_id"]]["category"] == "armed_group_movement"
    assert items[r2.json()["alert_id"]]["category"] == "arson"


def test_caller_phone_is_encrypted_at_rest(client, gazetteer, gateway, engine) -> None:
    client.post(URL, **signed(gateway, _sms("ALERT Beni ATT", mid="enc", sender="+243991234567")))
    with engine.connect() as conn:
        row = conn.execute(select(community_alerts)).mappings().one()
    assert "991234567" not in json.dumps({k: str(v) for k, v in row.items()})
    assert row["caller_phone_enc"].startswith("v1:")
