"""Sign-in, token expiry, sign-out, brute-force limiting and their audit entries."""

from __future__ import annotations

from datetime import timedelta

from factories import PASSWORD
from peacewatch.server import clock


def test_login_me_logout(client, mission) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "analyst", "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["token"]
    assert r.json()["user"]["role"] == "hq_analyst"
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=headers).json()["username"] == "analyst"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "not_authenticated"


def test_wrong_password_is_refused_and_audited(client, mission) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "analyst", "password": "nope-nope"})
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    entries = client.get("/api/v1/audit?action=login_failed", headers=mission.headers("admin")).json()["entries"]
    assert [e["target"] for e in entries] == ["analyst"]


def test_missing_field_names_the_field(client, mission) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "analyst"})
    assert r.status_code == 422
    assert r.json()["field"] == "password"


def test_token_expires(client, mission) -> None:
    headers = mission.headers("analyst")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(timedelta(hours=13))
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "token_expired"


def test_brute_force_is_slowed_then_the_password_works_again(client, mission) -> None:
    free = client.app.state.settings.login_free_failures
    for _ in range(free):
        assert client.post("/api/v1/auth/login", json={"username": "hr", "password": "guess-guess"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "hr", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert r.headers["Retry-After"] == "1"
    clock.advance(timedelta(seconds=1))
    assert client.post("/api/v1/auth/login", json={"username": "hr", "password": PASSWORD}).status_code == 200


def test_garbage_authorization_headers(client, mission) -> None:
    for value in ("", "Bearer", "Basic abc", "Bearer nonsense", "Device nonsense"):
        r = client.get("/api/v1/auth/me", headers={"Authorization": value})
        assert r.status_code == 401, value
        assert r.json()["error"] == "not_authenticated"
