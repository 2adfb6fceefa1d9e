"""What tests/server/auth and devices leave out: brute force leaves an audit trail, and the
dashboard's HTML pages (not just the API) carry the security headers.

Rate limiting itself and token expiry are proven in tests/server/auth and tests/server/devices.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories import PASSWORD, Mission
from peacewatch.server.middleware import SECURITY_HEADERS


def _audit(client: TestClient, mission: Mission, action: str) -> list[dict]:
    r = client.get("/api/v1/audit", params={"action": action, "limit": 1000}, headers=mission.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_password_guessing_is_audited_limited_and_the_audit_chain_holds(client: TestClient, mission: Mission) -> None:
    limit = client.app.state.settings.login_free_failures
    for _ in range(limit):
        assert client.post("/api/v1/auth/login", json={"username": "hr", "password": "guess-guess"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "hr", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    failed = [e for e in _audit(client, mission, "login_failed") if e["target"] == "hr"]
    assert len(failed) == limit  # every wrong guess is on the record, none of the refused-unseen ones invented
    # Guessing against one account does not lock out another.
    assert client.post("/api/v1/auth/login", json={"username": "analyst", "password": PASSWORD}).status_code == 200
    verified = client.get("/api/v1/audit/verify", headers=mission.headers("admin")).json()
    assert verified["ok"] is True, verified


def test_enrolment_code_guessing_is_audited_and_limited(client: TestClient, mission: Mission) -> None:
    limit = client.app.state.settings.login_attempts_per_minute
    for i in range(limit):
        r = client.post("/api/v1/devices/enrol", json={"code": f"AAAA-BBBB-{i:04d}"})
        assert r.status_code == 400 and r.json()["error"] == "enrolment_code_invalid"
    assert client.post("/api/v1/devices/enrol", json={"code": "AAAA-BBBB-CCCC"}).status_code == 429
    assert len(_audit(client, mission, "enrolment_failed")) == limit


def test_dashboard_pages_carry_the_security_headers(client: TestClient, mission: Mission) -> None:
    pages = [client.get("/login"), client.get("/", follow_redirects=False),
             client.post("/login", data={"username": "analyst", "password": "wrong-password"}, follow_redirects=False)]
    for r in pages:
        assert r.status_code < 500, r.text
        for name, value in SECURITY_HEADERS:
            assert r.headers.get(name.decode()) == value.decode(), (r.request.url, name)
    assert pages[0].headers["content-type"].startswith("text/html")
