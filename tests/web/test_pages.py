"""Dashboard pages in-process (SQLite and PostgreSQL): sign-in, session cookie, CSRF, expiry,
the access policy on pages, review, exports, admin forms, languages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import PASSWORD, Mission, report_body, store
from peacewatch.server import clock
from peacewatch.server.access import Permission
from peacewatch.server.audit.service import query
from peacewatch.server.db.tables import reviews, users
from peacewatch.server.route_policy import route_table
from tests.web.helpers import csrf_of, sign_in


def test_every_page_route_declares_one_permission(client: TestClient) -> None:
    pages = [(m, p, perm) for m, p, perm in route_table(client.app) if not p.startswith("/api/")]
    assert len(pages) > 20
    missing = [(m, p) for m, p, perm in pages if perm is None]
    assert missing == []
    # Posting forms is never public except signing in.
    public_posts = {p for m, p, perm in pages if m == "POST" and perm is Permission.PUBLIC}
    assert public_posts == {"/login"}


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, mission: Mission) -> None:
    r = client.get("/reports?kind=incident")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Freports%3Fkind%3Dincident"
    assert client.get("/").headers["location"] == "/login"


def test_session_cookie_is_httponly_strict_and_expires(client: TestClient, mission: Mission) -> None:
    form = client.get("/login")
    r = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf": csrf_of(form.text),
                                    "next": "/map"})
    assert r.status_code == 303 and r.headers["location"] == "/map"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("pw_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert client.get("/reports").status_code == 200
    clock.advance(timedelta(hours=12, minutes=1))
    r = client.get("/reports")
    assert r.status_code == 303 and "reason=expired" in r.headers["location"]
    assert 'pw_session=""' in r.headers["set-cookie"]  # the dead cookie is dropped


def test_wrong_password_is_an_error_on_the_form_and_audited(client: TestClient, mission: Mission) -> None:
    form = client.get("/login")
    r = client.post("/login", data={"username": "analyst", "password": "nope", "csrf": csrf_of(form.text)})
    assert r.status_code == 401
    assert "wrong username or password" in r.text
    assert "pw_session" not in r.headers.get("set-cookie", "")


def test_sign_in_without_csrf_or_to_another_site_is_refused(client: TestClient, mission: Mission) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403
    form = client.get("/login")
    r = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf": csrf_of(form.text),
                                    "next": "//evil.example/phish"})
    assert r.status_code == 303 and r.headers["location"] == "/overview"  # home, not an open redirect


def test_review_needs_a_csrf_token_bound_to_the_session(client: TestClient, mission: Mission) -> None:
    rid = report_body()["id"]
    store(mission, "patrol_a", report_body(report_id=rid))
    sign_in(client, "analyst", PASSWORD)
    page = client.get(f"/reports/{rid}")
    token = csrf_of(page.text)
    for bad in ("", "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1")):
        r = client.post(f"/reports/{rid}/review", data={"status": "verified", "comment": "x", "csrf": bad})
        assert r.status_code == 403
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 0
    r = client.post(f"/reports/{rid}/review", data={"status": "verified", "comment": "ok", "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{rid}?done=verified"
    assert 'data-status="verified"' in client.get(f"/reports/{rid}").text
    # Another session's token does not work for this one.
    other = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(other, "protection", PASSWORD)
    r = other.post(f"/reports/{rid}/review", data={"status": "rejected", "csrf": token})
    assert r.status_code == 403


def test_pages_show_what_the_policy_allows(client: TestClient, mission: Mission) -> None:
    own = report_body(contingent="ALPHA", author="patrol_a", title="Alpha mission report")
    other = report_body(contingent="BRAVO", author="patrol_b", title="Bravo mission report")
    hr = report_body(kind="hr_concern", category="arbitrary_detention", confidentiality="restricted",
                     contingent="BRAVO", author="patrol_b", title="Bravo restricted case")
    for username, body in (("patrol_a", own), ("patrol_b", other), ("patrol_b", hr)):
        store(mission, username, body)
    sign_in(client, "patrol_a", PASSWORD)
    listing = client.get("/reports").text
    assert "Alpha mission report" in listing and "Bravo" not in listing
    assert client.get(f"/reports/{other['id']}").status_code == 404  # existence does not leak
    assert client.get("/map").status_code == 403
    assert client.get("/admin/devices").status_code == 403
    assert client.get("/exports/download?format=csv").status_code == 403

    analyst = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(analyst, "analyst", PASSWORD)
    assert "Bravo restricted case" not in analyst.get("/reports").text
    assert analyst.get(f"/reports/{hr['id']}").status_code == 404

    hro = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(hro, "hr", PASSWORD)
    detail = hro.get(f"/reports/{hr['id']}")
    assert detail.status_code == 200 and "Victim Secretname" in detail.text

    admin = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(admin, "admin", PASSWORD)
    assert admin.get("/").headers["location"] == "/admin/users"
    assert admin.get("/reports").status_code == 403


def test_a_commander_may_not_review_another_contingent(client: TestClient, mission: Mission) -> None:
    body = report_body(contingent="BRAVO", author="patrol_b", confidentiality="public")
    store(mission, "patrol_b", body)
    sign_in(client, "commander_a", PASSWORD)
    page = client.get(f"/reports/{body['id']}")
    assert page.status_code == 200 and 'id="review-form"' not in page.text
    r = client.post(f"/reports/{body['id']}/review", data={"status": "verified", "csrf": csrf_of(page.text)})
    assert r.status_code == 403 and "own contingent" in r.text
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 0


def test_bad_filters_and_forms_name_the_field(client: TestClient, mission: Mission) -> None:
    sign_in(client, "analyst", PASSWORD)
    r = client.get("/reports?bbox=1,2,3")
    assert r.status_code == 200 and "bbox" in r.text and "role=\"alert\"" in r.text
    r = client.get("/exports/download?format=docx")
    assert r.status_code == 422 and "<strong>format</strong>" in r.text
    admin = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(admin, "admin", PASSWORD)
    token = csrf_of(admin.get("/admin/users").text)
    r = admin.post("/admin/users", data={"username": "Bad Name", "password": "long enough pw", "role": "patrol",
                                         "contingent": "ALPHA", "csrf": token})
    assert r.status_code == 422 and "<strong>username</strong>" in r.text
    r = admin.post("/admin/users", data={"username": "newpatrol", "password": "long enough pw",
                                         "role": "patrol", "contingent": "ALPHA", "csrf": token})
    assert r.status_code == 303
    with mission.engine.connect() as conn:
        assert conn.execute(select(users.c.role).where(users.c.username == "newpatrol")).scalar_one() == "patrol"


def test_csv_export_holds_the_filtered_visible_reports(client: TestClient, mission: Mission) -> None:
    for i in range(3):
        store(mission, "patrol_a", report_body(title=f"incident {i}"))
    store(mission, "patrol_a", report_body(kind="patrol", title="a patrol"))
    sign_in(client, "commander_a", PASSWORD)
    r = client.get("/exports/download?format=csv&kind=incident")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # a spreadsheet reads French and Arabic right
    assert re.search(r'filename="peacewatch-\d{8}T\d{4}Z\.csv"', r.headers["content-disposition"])
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2 + 3  # header, HXL hashtags, three incidents
    xlsx = client.get("/exports/download?format=xlsx&lang=fr")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    with mission.engine.connect() as conn:
        entries = query(conn, action="export", actor="commander_a")
    assert [(e["target"], e["detail"]["lang"]) for e in entries] == [("csv", "en"), ("xlsx", "fr")]
    assert entries[0]["detail"]["filters"] == {"kind": "incident"}


@pytest.mark.parametrize(("lang", "direction", "label"), [("fr", "ltr", "Rapports"), ("ar", "rtl", "التقارير")])
def test_language_choice_and_direction(client: TestClient, mission: Mission, lang: str, direction: str,
                                       label: str) -> None:
    sign_in(client, "analyst", PASSWORD)
    r = client.get(f"/lang/{lang}?next=/reports")
    assert r.status_code == 303 and r.headers["location"] == "/reports"
    page = client.get("/reports").text
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f'aria-current="page">{label}</a>' in page
    client.get("/lang/xx?next=/reports")  # unknown: ignored, the choice stays
    assert f'lang="{lang}"' in client.get("/reports").text


def test_sign_out_ends_the_session(client: TestClient, mission: Mission) -> None:
    sign_in(client, "analyst", PASSWORD)
    cookie = client.cookies["pw_session"]
    token = csrf_of(client.get("/reports").text)
    assert client.post("/logout", data={"csrf": token}).headers["location"] == "/login"
    stale = TestClient(client.app, base_url="https://testserver", follow_redirects=False, cookies={"pw_session": cookie})
    assert stale.get("/reports").status_code == 303


def _queue_item(html: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', html)


def test_duplicates_dismiss_confirm_and_unmerge(client: TestClient, mission: Mission) -> None:
    pairs = []
    for lat in (1.40, 1.90):  # two events far apart, each reported by both contingents
        a = report_body(contingent="ALPHA", author="patrol_a", lat=lat, lon=30.25)
        b = report_body(contingent="BRAVO", author="patrol_b", lat=lat + 0.001, lon=30.251)
        store(mission, "patrol_a", a)
        store(mission, "patrol_b", b)
        pairs.append((a["id"], b["id"]))
    sign_in(client, "analyst", PASSWORD)
    page = client.get("/duplicates")
    proposals = _queue_item(page.text, "data-proposal")
    assert len(proposals) == 2, page.text
    token = csrf_of(page.text)
    assert client.post(f"/duplicates/{proposals[0]}/dismiss", data={"csrf": token}).status_code == 303
    assert client.post(f"/duplicates/{proposals[1]}/confirm", data={"csrf": token}).status_code == 303
    page = client.get("/duplicates")
    assert _queue_item(page.text, "data-proposal") == []
    assert f'action="/duplicates/{proposals[1]}/unmerge"' in page.text
    # Confirming twice is a clear refusal, not a crash.
    r = client.post(f"/duplicates/{proposals[1]}/confirm", data={"csrf": token})
    assert r.status_code == 409
    assert client.post(f"/duplicates/{proposals[1]}/unmerge", data={"csrf": token}).status_code == 303
    assert _queue_item(client.get("/duplicates").text, "data-proposal") == [proposals[1]]
    assert client.post(f"/duplicates/{proposals[1]}/explode", data={"csrf": token}).status_code == 422


def test_duplicates_page_shows_reasons_for_and_against_in_the_visitors_language(
        client: TestClient, mission: Mission) -> None:
    a = report_body(contingent="ALPHA", author="patrol_a", lat=1.40, lon=30.25)
    b = report_body(contingent="BRAVO", author="patrol_b", lat=1.401, lon=30.25,
                    casualties={"killed": 9, "injured": 3, "abducted": 0, "displaced": 40})
    store(mission, "patrol_a", a)
    store(mission, "patrol_b", b)
    sign_in(client, "analyst", PASSWORD)
    page = client.get("/duplicates").text
    assert len(_queue_item(page, "data-proposal")) == 1
    against = re.search(r'<p class="reasons-against">(.*?)</p>', page, re.S)
    for_ = re.search(r'<p class="reasons-for">(.*?)</p>', page, re.S)
    assert against and for_
    assert '<span class="badge against">casualty counts differ</span>' in against.group(1)
    assert '<span class="badge for">same category (Attack on civilians)</span>' in for_.group(1)
    assert "casualty counts differ" not in for_.group(1)
    client.cookies.set("pw_lang", "fr")
    page = client.get("/duplicates").text
    against = re.search(r'<p class="reasons-against">(.*?)</p>', page, re.S)
    assert against and "bilans des victimes différents" in against.group(1)
    assert "Contre :" in page and "Pour le même événement :" in page
    assert "même catégorie (Attaque contre des civils)" in page
    assert "casualty counts differ" not in page


def test_resolve_a_conflict_by_choosing_each_field(client: TestClient, mission: Mission) -> None:
    base = report_body(title="Original title", severity=2)
    v1 = store(mission, "patrol_a", base)
    va = store(mission, "patrol_a", base | {"title": "Title from the tablet"}, [v1])
    vb = store(mission, "commander_a", base | {"severity": 5}, [v1])
    sign_in(client, "analyst", PASSWORD)
    page = client.get("/conflicts")
    assert _queue_item(page.text, "data-report") == [base["id"]]
    assert 'name="field:title"' in page.text and 'name="field:severity"' in page.text
    # Fields by their names in words, and what they were before both edits (the common ancestor).
    assert '<th scope="row" data-field="severity">Severity</th>' in page.text
    assert re.search(r'<td class="ancestor">Original title</td>', page.text)
    client.get("/lang/fr?next=/conflicts")
    fr = client.get("/conflicts").text
    assert '<th scope="row" data-field="severity">Gravité</th>' in fr and "Avant les deux modifications" in fr
    client.get("/lang/en?next=/conflicts")
    parents = ",".join(sorted([va, vb]))
    r = client.post(f"/conflicts/{base['id']}/resolve", data={
        "csrf": csrf_of(page.text), "parents": parents, "field:title": va, "field:severity": vb})
    assert r.status_code == 303 and "merged" in r.headers["location"]
    assert "a new version combines the fields you chose" in client.get(r.headers["location"]).text
    detail = client.get(f"/reports/{base['id']}").text
    assert "Title from the tablet" in detail and "in conflict" not in detail
    assert re.search(r"<dt>Severity</dt><dd>5</dd>", detail)
    assert _queue_item(client.get("/conflicts").text, "data-report") == []


def test_every_page_as_every_role_follows_the_policy(client: TestClient, mission: Mission) -> None:
    from factories import USERS
    from peacewatch.server.access import ROLE_PERMISSIONS

    body = report_body()
    store(mission, "patrol_a", body)
    call = mission.client.post("/api/v1/community/alerts", json={"text": "armed men near the school"},
                               headers=mission.headers("liaison"))
    assert call.status_code == 201, call.text
    task = mission.client.post("/api/v1/tasks", headers=mission.headers("analyst"), json={
        "source": {"kind": "report", "ref": body["id"]}, "assignee": {"contingent": "ALPHA"}})
    assert task.status_code == 201, task.text
    ids = {"report_id": body["id"], "sha256": "0" * 64, "code": "en", "name": "demo", "z": "0", "x": "0", "y": "0",
           "job_id": "0" * 32, "alert_id": str(call.json()["id"]), "agreement_id": "1", "rule_id": "1",
           "task_id": str(task.json()["id"])}
    pages = [(p, perm) for m, p, perm in route_table(client.app) if m == "GET" and not p.startswith("/api/")]
    client.app.state.settings.alert_stream_max_s = 0.3  # so the walk can read the live stream whole
    failures = []
    for username, (role, _contingent) in USERS.items():
        browser = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        sign_in(browser, username, PASSWORD)
        for path, perm in pages:
            url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            resp = browser.get(url)
            allowed = perm in ROLE_PERMISSIONS[role]
            role_refusal = resp.status_code == 403 and "role may not open this page" in resp.text
            if allowed == role_refusal or resp.status_code >= 500:
                failures.append(f"{path} as {username}: {resp.status_code}")
    assert failures == []


def test_every_asset_is_served_locally(client: TestClient, mission: Mission) -> None:
    from peacewatch.server.web import app as web_app

    own = [*web_app.HERE.joinpath("templates").glob("*.html"), *web_app.HERE.joinpath("static").glob("*")]
    for path in own:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "url(http" not in text and "@import" not in text, path.name
    sign_in(client, "analyst", PASSWORD)
    page = client.get("/map").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert {"/static/vendor/leaflet/leaflet.js", "/static/app/map.js"} <= set(assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_map_libraries_come_from_an_installed_python_package() -> None:
    """A plain ``pip install`` serves a working map: Leaflet is package data, not an npm folder in the repo."""
    from peacewatch.server.web.vendor import VENDOR

    for folder in VENDOR.values():
        assert any(folder.glob("*.js")) and any(folder.glob("*.css")), folder
        assert "site-packages" in folder.resolve().parts, f"{folder} is not inside an installed package"


def test_overview_counts_only_what_the_visitor_may_read(client: TestClient, mission: Mission) -> None:
    severe = {"severity": 5, "casualties": {"killed": 3, "injured": 0, "abducted": 0, "displaced": 0},
              "event_time": clock.now() - timedelta(hours=2)}
    store(mission, "patrol_a", report_body(contingent="ALPHA", **severe))
    store(mission, "patrol_b", report_body(contingent="BRAVO", **severe))
    store(mission, "patrol_a", report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                           confidentiality="restricted", contingent="ALPHA", **severe))

    def figures(username: str) -> tuple[int, int, int]:
        browser = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        sign_in(browser, username, PASSWORD)
        html = browser.get("/overview").text
        new = int(re.search(r'id="tile-new"><a [^>]*>\s*<b><bdi>(\d+)', html).group(1))
        critical = int(re.search(r'id="tile-critical-24h">\s*<a [^>]*><b><bdi>(\d+)', html).group(1))
        killed = int(re.search(r'id="tile-critical-24h">.*?class="killed">(\d+)', html, re.S).group(1))
        return new, critical, killed

    assert figures("commander_a") == (1, 1, 3)  # ALPHA's own; neither BRAVO's nor the restricted case
    assert figures("analyst") == (2, 2, 6)
    assert figures("protection") == (3, 3, 9)


def _reviewer(client: TestClient, username: str) -> tuple[TestClient, str]:
    browser = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(browser, username, PASSWORD)
    return browser, csrf_of(browser.get("/reports").text)


def test_bulk_review_is_all_or_nothing_and_names_the_refused_report(client: TestClient, mission: Mission) -> None:
    own = [report_body(contingent="ALPHA", title=f"alpha {i}") for i in range(3)]
    other = report_body(contingent="BRAVO", title="bravo", confidentiality="public")
    for body in own:
        store(mission, "patrol_a", body)
    store(mission, "patrol_b", other)
    browser, token = _reviewer(client, "commander_a")
    # BRAVO's public report is readable by ALPHA's commander, but not reviewable: nothing is stored.
    r = browser.post("/reports/bulk-review", data={"csrf": token, "status": "verified", "comment": "checked",
                                                   "ids": [own[0]["id"], other["id"]]})
    assert r.status_code == 403
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reviews)).scalar_one() == 0
    r = browser.post("/reports/bulk-review", data={"csrf": token, "status": "verified", "comment": "checked",
                                                   "ids": [b["id"] for b in own], "list": "kind=incident"})
    assert r.status_code == 303 and r.headers["location"] == "/reports?kind=incident&done=verified&n=3"
    with mission.engine.connect() as conn:
        rows = conn.execute(select(reviews.c.report_id, reviews.c.comment)).all()
    assert sorted(rows) == sorted((b["id"], "checked") for b in own)
    nothing = browser.post("/reports/bulk-review", data={"csrf": token, "status": "verified", "ids": [""]})
    assert nothing.status_code == 422 and "select at least one report" in nothing.text


def test_the_review_queue_goes_oldest_received_first_within_the_filters(client: TestClient, mission: Mission) -> None:
    bodies = []
    for i in range(3):
        body = report_body(contingent="ALPHA", title=f"queue {i}")
        store(mission, "patrol_a", body)
        bodies.append(body)
        clock.advance(timedelta(minutes=5))
    store(mission, "patrol_a", report_body(kind="patrol", contingent="ALPHA"))  # outside the filter
    browser, token = _reviewer(client, "commander_a")
    r = browser.get("/reports/next-unreviewed?kind=incident")
    assert r.headers["location"] == f"/reports/{bodies[0]['id']}?list=kind%3Dincident"
    r = browser.post(f"/reports/{bodies[0]['id']}/review", data={"csrf": token, "status": "verified",
                                                                 "list": "kind=incident", "then": "next"})
    r = browser.get(r.headers["location"])
    assert r.headers["location"].startswith(f"/reports/{bodies[1]['id']}?")
    for body in bodies[1:]:
        browser.post(f"/reports/{body['id']}/review", data={"csrf": token, "status": "rejected"})
    r = browser.get("/reports/next-unreviewed?kind=incident")
    assert r.headers["location"] == "/reports?kind=incident&done=queue_empty"
    assert "No unreviewed report is left" in browser.get(r.headers["location"]).text


def test_report_page_shows_its_duplicate_candidates_that_the_visitor_may_read(client: TestClient,
                                                                              mission: Mission) -> None:
    from peacewatch.server.db.tables import duplicate_proposals
    from peacewatch.server.duplicates.backlog import ensure_current

    # Far apart, so the duplicates engine proposes nothing itself: the proposals are the test's.
    target = report_body(contingent="ALPHA", title="Target report", lat=1.0, lon=29.0)
    twin = report_body(contingent="BRAVO", title="Twin seen by BRAVO", lat=2.0, lon=30.0)
    secret = report_body(kind="hr_concern", category="conflict_related_sexual_violence", contingent="BRAVO",
                         confidentiality="restricted", title="Secret case", lat=3.0, lon=31.0)
    store(mission, "patrol_a", target)
    store(mission, "patrol_b", twin)
    store(mission, "patrol_b", secret)
    ensure_current(mission.engine)  # the engine's own proposals first (it proposes none for these)
    with mission.engine.begin() as conn:
        for other, score in ((twin, 0.91), (secret, 0.95)):
            conn.execute(duplicate_proposals.insert().values(report_a=target["id"], report_b=other["id"], score=score,
                                                             reasons=[], created_at=clock.now()))
    sign_in(client, "analyst", PASSWORD)
    page = client.get(f"/reports/{target['id']}").text
    assert 'id="duplicate-candidates"' in page and "Twin seen by BRAVO" in page and "91 %" in page
    assert "Secret case" not in page and secret["id"] not in page  # a proposal reveals nothing unreadable
    assert 'id="report-map"' in page


def test_operations_page_shows_measured_response(client: TestClient, mission: Mission) -> None:
    from peacewatch.server.alerts.rules import ensure_defaults
    from peacewatch.server.db.engine import WRITE

    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    store(mission, "patrol_a", report_body(severity=5))
    sign_in(client, "analyst", PASSWORD)
    alert = client.get("/operations/alerts.json").json()["items"][0]
    clock.advance(timedelta(minutes=7))
    html = client.get("/operations").text
    r = client.post(f"/operations/alerts/{alert['id']}/acknowledge", data={"csrf": csrf_of(html)})
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert client.post(f"/operations/alerts/{alert['id']}/acknowledge", data={"csrf": "forged"}).status_code == 403
    table = client.get("/operations").text.split('id="response-rule"')[1].split("</table>")[0]
    assert "Attack on civilians or killing" in table and "<td>7.0</td>" in table


def test_an_arabic_report_page_keeps_coordinates_times_and_mgrs_left_to_right(client: TestClient,
                                                                               mission: Mission) -> None:
    body = report_body(contingent="ALPHA", author="patrol_a", lat=1.56, lon=30.25)
    store(mission, "patrol_a", body)
    sign_in(client, "analyst", PASSWORD)
    client.get("/lang/ar?next=/reports")
    page = client.get(f"/reports/{body['id']}").text
    # Without isolation the bidi algorithm shows "30.25000 ,1.56000" in a right-to-left page.
    assert '<bdi dir="ltr">1.56000, 30.25000</bdi>' in page
    assert re.search(r'MGRS <bdi dir="ltr">\d{1,2}[A-Z]{3}\d+</bdi>', page)
    assert re.search(r'<bdi dir="ltr">\d{4}-\d\d-\d\d \d\d:\d\dZ</bdi>', page)
