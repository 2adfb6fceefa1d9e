"""Every route of the app, called as every role and anonymously.

For each route: it declares exactly one permission; a role without it is refused (401 anonymous,
403 signed in); a role with it is not refused by the policy. A restricted human-rights report
with secret strings exists throughout, and no response to a role that may not read restricted
content contains them. A route added without a policy fails ``test_every_route_declares_a_policy``.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import select

from factories import USERS, report_body, store
from peacewatch.server.access import ROLE_PERMISSIONS, Permission, Role
from peacewatch.server.alerts.raising import ensure_current
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import alert_reports
from peacewatch.server.route_policy import route_table

SECRET_NAME = "Zebulon Secretname"
SECRET_TEXT = "SECRET-CRSV-ACCOUNT-7731"
SECRET_TITLE = "SECRET-CRSV-TITLE-0458"  # alerts name their reports by title
PUBLIC_TEXT = "ordinary market incident"


def _fill_path(path: str, ids: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        for key, v in ids.items():
            if key in name:
                return v
        return "1"

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", value, path)


def test_every_route_declares_a_policy(client) -> None:
    missing = [(m, p) for m, p, perm in route_table(client.app) if perm is None]
    assert missing == [], f"routes without a declared permission: {missing}"


def test_a_route_without_policy_is_caught() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/leak")
    def leak() -> dict:
        return {}

    app.include_router(router)
    assert ("GET", "/leak", None) in route_table(app)


@pytest.fixture
def restricted_world(mission):
    """A restricted CRSV report with secrets, a mission report and its attachment link."""
    secret = report_body(kind="hr_concern", category="conflict_related_sexual_violence", confidentiality="restricted",
                         description=SECRET_TEXT, title=SECRET_TITLE, severity=5)
    secret["victims"][0]["name"] = SECRET_NAME
    store(mission, "patrol_a", secret)
    ordinary = report_body(description=PUBLIC_TEXT)
    store(mission, "patrol_a", ordinary)
    # Both raise alerts under the default rules: the restricted one for the protection team only.
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    ensure_current(mission.engine)
    with mission.engine.connect() as conn:
        alert_id = conn.execute(select(alert_reports.c.alert_id)
                                .where(alert_reports.c.report_id == secret["id"])).scalar_one()
    # A task about the restricted case, for its author, whose title quotes it: only they and the
    # protection team may see it (routes with {task_id} use it).
    task = mission.client.post("/api/v1/tasks", headers=mission.headers("protection"), json={
        "source": {"kind": "report", "ref": secret["id"]}, "title": SECRET_TITLE, "instructions": SECRET_TEXT,
        "assignee": {"user": "patrol_a"}})
    assert task.status_code == 201, task.text
    return {"report": secret["id"], "ordinary": ordinary["id"], "alert": alert_id, "task": task.json()["id"]}


def test_every_route_every_role(client, mission, restricted_world) -> None:
    ids = {
        "report_id": restricted_world["report"],
        "sha256": hashlib.sha256(b"x").hexdigest(),
        "device_id": mission.device_id("patrol_a"),
        "username": "patrol_b",
        "fmt": "csv",
        "format": "csv",
        "kind": "csv",
        "alert_id": str(restricted_world["alert"]),
        "partner": "ohchr",
        "task_id": str(restricted_world["task"]),
    }
    table = route_table(client.app)
    assert len(table) > 10
    client.app.state.settings.alert_stream_max_s = 0.3  # so the walk can read the live stream whole
    callers = [None, *USERS]
    failures: list[str] = []
    for method, path, perm in table:
        if path.endswith(("/logout", "/revoke", "/disable", "/lost")):
            continue  # would end the session or device the rest of the walk uses; covered in their own tests
        url = _fill_path(path, ids)
        for username in callers:
            headers = mission.headers(username) if username else {}
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            resp = client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
            role = USERS[username][0] if username else None
            allowed = perm is Permission.PUBLIC or (role is not None and perm in ROLE_PERMISSIONS[role])
            who = username or "anonymous"
            # Pages refuse an anonymous visitor by sending them to the sign-in page.
            refused = resp.status_code in (401, 403) or (
                not path.startswith("/api/") and resp.status_code in (302, 303, 307)
                and "login" in resp.headers.get("location", ""))
            if not allowed and not refused:
                failures.append(f"{method} {path} as {who}: expected refusal, got {resp.status_code}")
            if allowed and resp.status_code in (401, 403) and "may not do this" in resp.text:
                # A 403 with a more specific reason (e.g. own contingent only) is the policy at work;
                # the role-level refusal text is not.
                failures.append(f"{method} {path} as {who}: refused by role although allowed ({resp.text[:120]})")
            reads_restricted = role in (Role.PROTECTION_OFFICER, Role.HR_OFFICER)
            if not reads_restricted and username != "patrol_a":
                body = resp.content.decode("utf-8", "replace")
                for secret in (SECRET_NAME, SECRET_TEXT, SECRET_TITLE):
                    if secret in body:
                        failures.append(f"{method} {path} as {who}: restricted content leaked")
    assert failures == [], "\n".join(failures)


def test_protection_team_reads_restricted_and_is_audited(client, mission, restricted_world) -> None:
    rid = restricted_world["report"]
    for username in ("protection", "hr"):
        r = client.get(f"/api/v1/reports/{rid}", headers=mission.headers(username))
        assert r.status_code == 200
        assert SECRET_NAME in r.text and SECRET_TEXT in r.text
        # The alert naming it reaches them (so the leak check above is not vacuous for alerts).
        assert SECRET_TITLE in client.get("/api/v1/alerts", headers=mission.headers(username)).text
    for username in ("analyst", "commander_a", "patrol_b", "commander_b", "admin"):
        r = client.get(f"/api/v1/reports/{rid}", headers=mission.headers(username))
        assert r.status_code in (403, 404)
        assert SECRET_TEXT not in r.text
    audit = client.get("/api/v1/audit?action=restricted_report_read", headers=mission.headers("admin")).json()
    assert {e["actor"] for e in audit["entries"]} >= {"protection", "hr"}


CALLER_SECRET = "Caller Secretname"
CALLER_PHONE = "+243990077331"


def test_community_alerts_and_caller_identity_by_role(client, mission) -> None:
    """The liaison role and the caller-identity fields: who reads the queue, who reads who called
    (audited), and that no other route (reports, alerts, exports, pulls) carries the caller."""
    logged = client.post("/api/v1/community/alerts", headers=mission.headers("liaison"), json={
        "text": "gunmen near the water point", "caller_name": CALLER_SECRET, "caller_phone": CALLER_PHONE,
        "category": "attack_on_civilians", "urgency": 5})
    assert logged.status_code == 201
    alert_id = logged.json()["id"]
    for username, (role, _c) in USERS.items():
        r = client.get(f"/api/v1/community/alerts/{alert_id}", headers=mission.headers(username))
        if Permission.COMMUNITY not in ROLE_PERMISSIONS[role]:
            assert r.status_code == 403, username
            continue
        assert r.status_code == 200, username
        sees = CALLER_SECRET in r.text and CALLER_PHONE in r.text
        assert sees == (Permission.CALLER_IDENTITY in ROLE_PERMISSIONS[role]), username
    assert {r for r, perms in ROLE_PERMISSIONS.items() if Permission.CALLER_IDENTITY in perms} == {
        Role.LIAISON, Role.PROTECTION_OFFICER, Role.HR_OFFICER}
    # Nothing else the app serves names the caller, for any role (the alert page aside).
    for method, path, _perm in route_table(client.app):
        if method != "GET" or "{" in path or path.endswith("/stream"):
            continue
        for username in USERS:
            body = client.get(path, headers=mission.headers(username)).text
            assert CALLER_SECRET not in body and CALLER_PHONE not in body, (path, username)
def test_a_partner_key_opens_its_feed_and_nothing_else(client, mission, restricted_world) -> None:
    """Partners are principals of their own: with its key a partner reaches only the routes that
    declare ``Permission.PARTNER`` (public ones aside), only for its own partner id, and nothing it
    receives names restricted content its agreement (public incidents) does not share."""
    admin = mission.headers("admin")
    made = client.post("/api/v1/sharing/agreements", headers=admin, json={
        "partner": "ohchr", "name": "OHCHR", "policy": {"kinds": ["incident"], "categories": ["looting"],
                                                        "verified_only": False}})
    assert made.status_code == 201, made.text
    key = client.post(f"/api/v1/sharing/agreements/{made.json()['id']}/key", headers=admin).json()["key"]
    ids = {"report_id": restricted_world["report"], "sha256": hashlib.sha256(b"x").hexdigest(),
           "device_id": mission.device_id("patrol_a"), "username": "patrol_b", "fmt": "csv", "format": "csv",
           "kind": "csv", "partner": "ohchr", "agreement_id": str(made.json()["id"])}
    failures: list[str] = []
    for method, path, perm in route_table(client.app):
        if path.endswith("/logout") or path.endswith("/revoke") or path.endswith("/disable"):
            continue
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        resp = client.request(method, _fill_path(path, ids), headers={"X-Partner-Key": key},
                              follow_redirects=False, **kwargs)
        refused = resp.status_code in (401, 403) or (
            not path.startswith("/api/") and resp.status_code in (302, 303, 307)
            and "login" in resp.headers.get("location", ""))
        if perm is Permission.PARTNER and refused:
            failures.append(f"{method} {path}: own partner key refused ({resp.status_code})")
        if perm not in (Permission.PARTNER, Permission.PUBLIC) and not refused:
            failures.append(f"{method} {path}: a partner key was let in ({resp.status_code})")
        for secret in (SECRET_NAME, SECRET_TEXT):
            if secret in resp.content.decode("utf-8", "replace"):
                failures.append(f"{method} {path}: restricted content reached a partner")
        if perm is Permission.PARTNER:  # the same key on another partner's id is refused
            other = client.request(method, _fill_path(path, ids | {"partner": "unhcr"}),
                                   headers={"X-Partner-Key": key}, **kwargs)
            if other.status_code != 403:
                failures.append(f"{method} {path} for another partner: {other.status_code}")
    assert failures == [], "\n".join(failures)


def test_every_route_as_a_federated_sector_server(client, mission, restricted_world) -> None:
    """A sector server (role ``sector``, its own device credential, contingent BRAVO) reaches only the
    routes its permissions allow, and nothing it receives names ALPHA's restricted case."""
    from peacewatch.server.federation.cli import add_sector

    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        peer = add_sector(conn, name="sector-bravo", contingent_codes=["BRAVO"])
    headers = {"Authorization": f"Device {peer['credential']}"}
    ids = {"report_id": restricted_world["report"], "sha256": hashlib.sha256(b"x").hexdigest(),
           "device_id": peer["device_id"], "username": "patrol_b", "fmt": "csv", "format": "csv", "kind": "csv",
           "alert_id": str(restricted_world["alert"]), "partner": "ohchr", "task_id": str(restricted_world["task"])}
    client.app.state.settings.alert_stream_max_s = 0.3
    failures: list[str] = []
    for method, path, perm in route_table(client.app):
        if path.endswith(("/logout", "/revoke", "/disable", "/lost")):
            continue
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        resp = client.request(method, _fill_path(path, ids), headers=headers, follow_redirects=False, **kwargs)
        refused = resp.status_code in (401, 403) or (
            not path.startswith("/api/") and resp.status_code in (302, 303, 307)
            and "login" in resp.headers.get("location", ""))
        allowed = perm in ROLE_PERMISSIONS[Role.SECTOR]
        if path.startswith("/api/") and not allowed and not refused:
            failures.append(f"{method} {path}: expected refusal, got {resp.status_code}")
        for secret in (SECRET_NAME, SECRET_TEXT, SECRET_TITLE):
            if secret in resp.content.decode("utf-8", "replace"):
                failures.append(f"{method} {path}: restricted content reached a sector server")
    assert failures == [], "\n".join(failures)
