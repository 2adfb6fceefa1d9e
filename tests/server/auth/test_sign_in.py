"""Sign-in as a mission expects it, through the API, the dashboard and the CLI, on both databases.

No timing oracle for usernames; throttling per (username, address) with growing delays and no
lock-out of the real user elsewhere; the password policy; Secure/HttpOnly/SameSite cookies;
TOTP two-factor sign-in with single-use recovery codes; a mission requiring it for HQ roles.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories import PASSWORD, Mission
from peacewatch.server import clock
from peacewatch.server.auth import secrets as auth_secrets
from peacewatch.server.auth import service as auth_service
from peacewatch.server.cli import main
from peacewatch.server.db.tables import recovery_codes

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, json={"username": username, "password": password, **extra})


def _from(mission: Mission, address: str) -> TestClient:
    """The same app seen from another client address."""
    return TestClient(mission.client.app, client=(address, 40000))


def _code(secret: str, *, step_offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * step_offset)


def _enrol(client: TestClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    r = client.post("/api/v1/auth/two-factor/setup", headers=headers)
    assert r.status_code == 200, r.text
    setup = r.json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and setup["qr_svg"].startswith("data:image/svg+xml")
    r = client.post("/api/v1/auth/two-factor/confirm", json={"code": _code(setup["secret"])}, headers=headers)
    assert r.status_code == 200, r.text
    return setup["secret"], r.json()["recovery_codes"]


# -- no username enumeration by timing --------------------------------------------------------------
def test_unknown_and_known_usernames_cost_the_same(client: TestClient, mission: Mission,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Real Argon2id cost (the suite's hasher is the cheapest valid one), for a known user and the dummy.
    monkeypatch.setattr(auth_secrets, "_hasher", PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1))
    monkeypatch.setattr(auth_service, "_dummy_hash", None)
    client.app.state.settings.login_free_failures = 1000
    r = client.post("/api/v1/admin/users", headers=mission.headers("admin"),
                    json={"username": "timed", "password": PASSWORD, "role": "hq_analyst"})
    assert r.status_code == 201, r.text
    _login(client, "nobody-here", "warm-up-guess")  # the dummy hash is made on first use
    known: list[float] = []
    unknown: list[float] = []
    for i in range(8):
        for name, into in (("timed", known), (f"nobody-{i}", unknown)):
            start = time.perf_counter()
            assert _login(client, name, "wrong-guess").status_code == 401
            into.append(time.perf_counter() - start)
    k, u = statistics.median(known), statistics.median(unknown)
    # Without the dummy verification an unknown name answered ~50x faster; the same work keeps it close.
    assert 0.5 < u / k < 2.0, (k, u)


# -- throttling: growing delays per (username, address), never a lock ------------------------------
def test_failures_grow_the_delay_from_that_address_only(client: TestClient, mission: Mission) -> None:
    free = client.app.state.settings.login_free_failures
    attacker = _from(mission, "10.66.0.1")
    for _ in range(free):
        assert _login(attacker, "admin", "guess-guess").status_code == 401
    waits = []
    for _ in range(5):
        r = _login(attacker, "admin", PASSWORD)  # even the right password is not tried while throttled
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        waits.append(int(r.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert _login(attacker, "admin", "guess-guess").status_code == 401
    assert waits == [1, 2, 4, 8, 16]
    # The real admin, from another address, is not slowed at all: no lock anyone can trigger.
    r = _login(_from(mission, "10.1.1.1"), "admin")
    assert r.status_code == 200, r.text
    # Nor is another account from the attacker's address.
    assert _login(attacker, "analyst").status_code == 200
    # The cap holds however long the guessing goes on.
    client.app.state.settings.login_max_delay_s = 60
    for _ in range(4):
        clock.advance(timedelta(minutes=2))
        _login(attacker, "admin", "guess-guess")
    r = _login(attacker, "admin", PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) <= 60


def test_a_success_clears_the_count(client: TestClient, mission: Mission) -> None:
    free = client.app.state.settings.login_free_failures
    for _ in range(free - 1):
        assert _login(client, "hr", "guess-guess").status_code == 401
    assert _login(client, "hr").status_code == 200
    for _ in range(free - 1):
        assert _login(client, "hr", "guess-guess").status_code == 401
    assert _login(client, "hr").status_code == 200  # would be 429 if the earlier failures still counted


# -- password policy ------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["12345678", "aaaaaaaaaaaa", "short1!", "newuser2026", "password1234",
                                      "qwertyuiop123"])
def test_weak_passwords_are_refused_naming_the_field(client: TestClient, mission: Mission, password: str) -> None:
    r = client.post("/api/v1/admin/users", headers=mission.headers("admin"),
                    json={"username": "newuser", "password": password, "role": "patrol", "contingent": "ALPHA"})
    assert r.status_code == 422, (password, r.text)
    assert r.json()["field"] == "password"
    assert client.get("/api/v1/admin/users", headers=mission.headers("admin")).json()[-1]["username"] != "newuser"


def test_a_passphrase_is_accepted_and_the_cli_applies_the_same_policy(client: TestClient, mission: Mission,
                                                                      db_url: str, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    r = client.post("/api/v1/admin/users", headers=mission.headers("admin"),
                    json={"username": "newuser", "password": "river lantern cobalt", "role": "patrol",
                          "contingent": "ALPHA"})
    assert r.status_code == 201, r.text
    common = ["--database-url", db_url, "--data-dir", str(tmp_path / "cli")]
    assert main(["admin", "create-user", "weakling", "--role", "hq_analyst", "--password", "12345678", *common]) != 0
    assert "password" in capsys.readouterr().err
    assert main(["admin", "create-user", "strongling", "--role", "hq_analyst", "--password", "river lantern cobalt",
                 *common]) == 0


# -- session cookies --------------------------------------------------------------------------------
def _browser(client: TestClient) -> TestClient:
    """A browser on HTTPS: it sends Secure cookies back (a client on plain HTTP would not)."""
    return TestClient(client.app, base_url="https://testserver", follow_redirects=False)


def _dashboard_sign_in(client: TestClient, username: str, password: str = PASSWORD, code: str = ""):
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf": csrf, "next": "",
                                       "two_factor_code": code}, follow_redirects=False)


def test_session_cookie_is_secure_httponly_samesite_by_default(client: TestClient, mission: Mission) -> None:
    form = client.get("/login")  # over plain http the cookies are Secure all the same
    prelogin = form.headers["set-cookie"].lower()
    assert "secure" in prelogin and "httponly" in prelogin
    r = _dashboard_sign_in(_browser(client), "analyst")
    assert r.status_code == 303
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("pw_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=strict"} <= flags, cookie


def test_plain_http_development_setting_drops_only_secure(client: TestClient, mission: Mission) -> None:
    client.app.state.settings.cookie_secure = False
    plain = TestClient(client.app, base_url="http://testserver", follow_redirects=False)  # no TLS in development
    r = _dashboard_sign_in(plain, "analyst")
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("pw_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "secure" not in flags and {"httponly", "samesite=strict"} <= flags


# -- TOTP two-factor sign-in ----------------------------------------------------------------------------
def test_totp_flow_with_single_use_recovery_codes(client: TestClient, mission: Mission) -> None:
    secret, codes = _enrol(client, mission.headers("analyst"))
    assert len(codes) == 10 and len(set(codes)) == 10
    with mission.engine.connect() as conn:  # hashed at rest
        stored = set(conn.execute(select(recovery_codes.c.code_hash)).scalars())
    assert not stored & set(codes) and len(stored) == 10

    r = _login(client, "analyst")
    assert r.status_code == 401 and r.json()["error"] == "two_factor_required"
    assert r.json()["field"] == "two_factor_code"
    r = _login(client, "analyst", two_factor_code="000000" if _code(secret) != "000000" else "111111")
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    clock.advance(timedelta(seconds=30))  # the enrolment consumed this step's code
    code = _code(secret)
    assert _login(client, "analyst", two_factor_code=code).status_code == 200
    assert _login(client, "analyst", two_factor_code=code).status_code == 401  # an observed code cannot be replayed
    assert _login(client, "analyst", "wrong-password", two_factor_code=_code(secret, step_offset=1)).status_code == 401

    # A recovery code works once, typed any way; then never again.
    assert _login(client, "analyst", two_factor_code=codes[0].lower().replace("-", " ")).status_code == 200
    r = _login(client, "analyst", two_factor_code=codes[0])
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    assert _login(client, "analyst", two_factor_code=codes[1]).status_code == 200
    status = client.get("/api/v1/auth/two-factor", headers=mission.headers("analyst")).json()
    assert status == {"enabled": True, "required": False, "enrolment_pending": False, "recovery_codes_left": 8}
    # Enrolling again over an active factor is refused (an admin resets it).
    assert client.post("/api/v1/auth/two-factor/setup", headers=mission.headers("analyst")).status_code == 409


def test_confirming_with_a_wrong_code_leaves_two_factor_off(client: TestClient, mission: Mission) -> None:
    headers = mission.headers("commander_a")
    secret = client.post("/api/v1/auth/two-factor/setup", headers=headers).json()["secret"]
    wrong = "123456" if _code(secret) != "123456" else "654321"
    r = client.post("/api/v1/auth/two-factor/confirm", json={"code": wrong}, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "code"
    assert _login(client, "commander_a").status_code == 200  # still password only


def test_dashboard_sign_in_with_totp(client: TestClient, mission: Mission) -> None:
    secret, _codes = _enrol(client, mission.headers("protection"))
    clock.advance(timedelta(seconds=30))
    browser = _browser(client)
    r = _dashboard_sign_in(browser, "protection")
    assert r.status_code == 401 and 'name="two_factor_code"' in r.text and "authenticator" in r.text
    r = _dashboard_sign_in(browser, "protection", code=_code(secret))
    assert r.status_code == 303 and r.headers["location"] == "/overview"


# -- a mission requiring two-factor for HQ roles and admin -----------------------------------------------
def test_required_two_factor_hq_user_cannot_get_a_full_token_without_totp(client: TestClient,
                                                                          mission: Mission) -> None:
    client.app.state.settings.require_2fa = True
    r = _login(client, "analyst")
    assert r.status_code == 200 and r.json()["two_factor_enrolment_required"] is True
    limited = {"Authorization": f"Bearer {r.json()['token']}"}
    for path in ("/api/v1/reports", "/api/v1/sync/pull", "/api/v1/exports/csv", "/api/v1/contingents"):
        r = client.get(path, headers=limited)
        assert r.status_code == 403, (path, r.text)
    assert client.get("/api/v1/auth/me", headers=limited).json()["username"] == "analyst"
    assert client.get("/api/v1/auth/two-factor", headers=limited).json()["required"] is True
    secret, _codes = _enrol(client, limited)
    assert client.get("/api/v1/reports", headers=limited).status_code == 200  # this session proved the factor

    clock.advance(timedelta(seconds=30))
    r = _login(client, "analyst")
    assert r.status_code == 401 and r.json()["error"] == "two_factor_required"  # no token without TOTP
    r = _login(client, "analyst", two_factor_code=_code(secret))
    assert r.status_code == 200 and r.json()["two_factor_enrolment_required"] is False
    # Admin is required too; a patrol (tablet roles) is not.
    assert _login(client, "admin").json()["two_factor_enrolment_required"] is True
    assert _login(client, "patrol_a").json()["two_factor_enrolment_required"] is False


def test_required_two_factor_on_the_dashboard_sends_to_enrolment(client: TestClient, mission: Mission) -> None:
    client.app.state.settings.require_2fa = True
    client = _browser(client)
    r = _dashboard_sign_in(client, "hr")
    assert r.status_code == 303 and r.headers["location"] == "/account/two-factor"
    r = client.get("/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/two-factor"
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "requires two-factor" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    setup = client.post("/account/two-factor/setup", data={"csrf": csrf})
    assert setup.status_code == 200 and 'src="data:image/svg+xml' in setup.text
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", setup.text).group(1)
    done = client.post("/account/two-factor/confirm", data={"csrf": csrf, "code": _code(secret)})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.text)) == 10
    assert client.get("/reports", follow_redirects=False).status_code == 200


def test_admin_cli_resets_two_factor(client: TestClient, mission: Mission, db_url: str, tmp_path: Path) -> None:
    _secret, codes = _enrol(client, mission.headers("hr"))
    assert _login(client, "hr").status_code == 401
    assert main(["admin", "reset-2fa", "hr", "--database-url", db_url, "--data-dir", str(tmp_path / "cli")]) == 0
    assert client.get("/api/v1/auth/me", headers=mission.headers("hr")).status_code == 401  # sessions ended
    assert _login(client, "hr").status_code == 200
    assert _login(client, "hr", two_factor_code=codes[2]).status_code == 200  # code ignored: factor off
    with mission.engine.connect() as conn:
        assert conn.execute(select(recovery_codes.c.id)).first() is None
    assert main(["admin", "reset-2fa", "nobody", "--database-url", db_url, "--data-dir", str(tmp_path / "cli")]) != 0
