"""Enrolment codes are single-use and expire; a revoked device is refused everywhere."""

from __future__ import annotations

from datetime import timedelta

from peacewatch.server import clock


def _code(client, mission, username: str = "patrol_a") -> str:
    r = client.post("/api/v1/admin/devices/codes", json={"username": username}, headers=mission.headers("admin"))
    assert r.status_code == 201, r.text
    return r.json()["code"]


def test_enrol_once(client, mission) -> None:
    code = _code(client, mission)
    r = client.post("/api/v1/devices/enrol", json={"code": code.lower().replace("-", " "), "label": "tab 7"})
    assert r.status_code == 201, r.text
    cred = r.json()["credential"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Device {cred}"}).json()
    assert me["username"] == "patrol_a" and me["device_id"] == r.json()["device_id"]
    again = client.post("/api/v1/devices/enrol", json={"code": code})
    assert again.status_code == 400 and again.json()["error"] == "enrolment_code_invalid"
    assert again.json()["field"] == "code"


def test_code_expires(client, mission) -> None:
    code = _code(client, mission)
    clock.advance(timedelta(days=2))
    r = client.post("/api/v1/devices/enrol", json={"code": code})
    assert r.status_code == 400 and r.json()["error"] == "enrolment_code_invalid"


def test_revoked_device_is_refused(client, mission) -> None:
    device_id, cred = mission.devices["patrol_a"]
    headers = {"Authorization": f"Device {cred}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    r = client.post(f"/api/v1/admin/devices/{device_id}/revoke", headers=mission.headers("admin"))
    assert r.status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "device_revoked"
    # Also when presented next to a valid bearer token.
    r = client.get("/api/v1/auth/me", headers=mission.headers("patrol_a") | {"X-Device-Credential": cred})
    assert r.status_code == 401 and r.json()["error"] == "device_revoked"
    listed = {d["id"]: d for d in client.get("/api/v1/admin/devices", headers=mission.headers("admin")).json()}
    assert listed[device_id]["revoked"] is True


def test_enrolment_brute_force_is_limited(client, mission) -> None:
    limit = client.app.state.settings.login_attempts_per_minute
    for _ in range(limit):
        assert client.post("/api/v1/devices/enrol", json={"code": "AAAA-BBBB-CCCC"}).status_code == 400
    code = _code(client, mission)
    r = client.post("/api/v1/devices/enrol", json={"code": code})
    assert r.status_code == 429


def test_qr_code_png(client, mission) -> None:
    code = _code(client, mission)
    r = client.get(f"/api/v1/admin/devices/codes/{code}/qr.png", headers=mission.headers("admin"))
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
