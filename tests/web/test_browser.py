"""The HQ dashboard in a real browser (Debian's Chromium via Playwright) against a real, seeded server.

One server and one browser for the module; each test signs in through the form as the role it
needs. Screenshots of every page go to docs/img/ for the README.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from peacewatch.server.db.tables import devices, reports, reviews
from tests.web.helpers import LiveServer, screenshot

pytestmark = pytest.mark.browser

NAV = {
    "patrol": ["Reports", "Operations", "Tasks"],
    "commander": ["Overview", "Reports", "Operations", "Tasks", "Map", "Exports"],
    "hq_analyst": ["Overview", "Reports", "Operations", "Tasks", "Duplicates", "Conflicts", "Map", "Hotline", "Triage",
                   "Exports", "Alert rules"],
    "protection_officer": ["Overview", "Reports", "Operations", "Tasks", "Case follow-up", "Duplicates", "Conflicts",
                           "Map", "Hotline", "Triage", "Exports", "Alert rules"],
    "hr_officer": ["Overview", "Reports", "Operations", "Tasks", "Case follow-up", "Duplicates", "Conflicts", "Map",
                   "Hotline", "Triage", "Exports", "Alert rules"],
    "admin": ["Users", "Contingents", "Devices", "Audit log", "Sharing agreements", "Webhooks", "Alert rules"],
}


def _total(page: Any) -> int:
    return int(re.search(r"(\d+)", page.inner_text("#counts strong")).group(1))


def test_sign_in_as_each_role_shows_only_its_pages(live_server: LiveServer, open_as: Any, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 820})
    login = ctx.new_page()
    login.goto(f"{live_server.url}/map")
    assert "/login" in login.url  # signed out: sent to sign in, the page remembered
    screenshot(login, "login")
    login.fill("input[name=username]", "analyst")
    login.fill("input[name=password]", "wrong password")
    login.click("form[action='/login'] button[type=submit]")
    assert "wrong username or password" in login.inner_text("[role=alert]")
    ctx.close()

    roles = {}
    for username, role in live_server.sign_ins:
        roles.setdefault(role, username)
    assert set(roles) == set(NAV)
    totals = {}
    for role, username in roles.items():
        page = open_as(username)
        assert page.locator("header nav a").all_inner_texts() == NAV[role], role
        assert page.get_attribute(".who", "data-role") == role
        if "Overview" in NAV[role]:
            assert page.url.endswith("/overview")  # HQ roles and commanders land on the overview
        if "Reports" in NAV[role]:
            page.goto(f"{live_server.url}/reports")
            totals[role] = _total(page)
        # The same policy as the API: a page outside the role answers 403, not its content.
        forbidden = "/admin/devices" if role != "admin" else "/reports"
        response = page.goto(f"{live_server.url}{forbidden}")
        assert response.status == 403, (role, forbidden)
        if role == "patrol":
            assert page.goto(f"{live_server.url}/map").status == 403
    # Restricted human-rights cases: the protection team sees them, an analyst does not.
    assert totals["protection_officer"] > totals["hq_analyst"] > totals["patrol"] > 0


def test_filter_search_and_page_reports(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports")
    everything = _total(page)
    page.click("details.filter-panel summary")  # the filters fold away so the reports come first
    page.check("input[name=kind][value=incident]")
    page.check("input[name=review_status][value=unreviewed]")
    page.click("#report-filters button[type=submit]")
    page.wait_for_url(re.compile(r"kind=incident"))
    filtered = _total(page)
    assert 0 < filtered < everything
    # Per-status counts are under the other filters: together they are every incident.
    counts = {s: int(page.inner_text(f"b[data-status={s}]"))
              for s in ("unreviewed", "verified", "rejected", "needs_information")}
    assert counts["unreviewed"] == filtered and counts["verified"] > 0
    rows = page.locator("#reports-table tbody tr")
    assert rows.count() == min(filtered, 50)
    statuses = rows.locator("td:nth-child(9) span").evaluate_all("els => els.map(e => e.dataset.status)")
    assert set(statuses) == {"unreviewed"}
    assert set(rows.locator("td:nth-child(4)").all_inner_texts()) == {"Incident"}
    # Sorting by severity is done by the server over every page, not just the one shown.
    page.click("#reports-table a[data-order=severity]")
    page.wait_for_url(re.compile(r"sort=-severity"))
    severities = [int(t) for t in rows.locator("td:nth-child(7)").all_inner_texts()]
    assert severities == sorted(severities, reverse=True)
    screenshot(page, "reports")
    if filtered > 50:
        page.click("a[rel=next]")
        assert page.locator("#reports-table tbody tr").count() == min(filtered - 50, 50)
        later = [int(t) for t in rows.locator("td:nth-child(7)").all_inner_texts()]
        assert later == sorted(later, reverse=True) and max(later) <= min(severities)
    page.goto(f"{live_server.url}/reports?kind=incident")
    assert _total(page) == sum(counts.values())
    # Text search narrows further, and a bad filter is a message naming the field, not a crash.
    page.goto(f"{live_server.url}/reports?q=zzzz-no-such-words")
    assert _total(page) == 0
    page.goto(f"{live_server.url}/reports?severity_min=9")
    assert "severity_min" in page.inner_text("[role=alert]")


def test_verify_a_report_with_a_comment(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports?kind=incident&review_status=unreviewed")
    page.click("#reports-table tbody tr:first-child td:nth-child(3) a")
    report_id = page.url.rsplit("/", 1)[1].split("?")[0]
    assert page.get_attribute("#review-status", "data-status") == "unreviewed"
    assert page.inner_text("#review-status") == "Unreviewed"
    assert page.locator("#versions tbody tr").count() >= 1
    page.wait_for_selector("#report-map[data-ready='1'] .leaflet-interactive")  # its point on a small map
    page.fill("#review-form textarea[name=comment]", "Confirmed by the Drodro CIMIC team.")
    page.uncheck("#review-form input[name=then]")  # stay on this report rather than go on to the next
    page.click("#review-form button[value=verified]")
    page.wait_for_url(re.compile(r"done=verified"))
    assert page.get_attribute("#review-status", "data-status") == "verified"
    assert "Confirmed by the Drodro CIMIC team." in page.inner_text(".timeline")
    screenshot(page, "report")
    with live_server.engine.connect() as conn:
        assert conn.execute(select(reports.c.review_status).where(reports.c.id == report_id)).scalar_one() \
            == "verified"
        row = conn.execute(select(reviews.c.comment).where(reviews.c.report_id == report_id)
                           .order_by(reviews.c.seq.desc())).first()
        assert row is not None and row.comment == "Confirmed by the Drodro CIMIC team."


def test_a_commander_cannot_review_another_contingents_report(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("banbat.cmd")
    page.goto(f"{live_server.url}/reports?contingent=NEPBAT")
    if page.locator("#reports-table tbody tr[data-id]").count() == 0:
        pytest.fail("the demo mission should share some NEPBAT reports as public")
    page.click("#reports-table tbody tr[data-id]:first-child td:nth-child(3) a")
    assert page.locator("#review-form").count() == 0


def test_resolve_a_conflict_field_by_field(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("protection")
    page.goto(f"{live_server.url}/conflicts")
    sections = page.locator("section.conflict")
    before = sections.count()
    assert before > 0, "the demo mission has reports edited on two tablets"
    report_id = sections.first.get_attribute("data-report")
    screenshot(page, "conflicts")
    sections.first.locator("button.primary").click()
    page.wait_for_url(re.compile(r"done="))
    assert page.locator(f"section.conflict[data-report='{report_id}']").count() == 0
    with live_server.engine.connect() as conn:
        assert conn.execute(select(reports.c.heads_count).where(reports.c.id == report_id)).scalar_one() == 1


def test_confirm_a_duplicate(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/duplicates")
    proposals = page.locator("section.proposal")
    assert proposals.count() > 0, "the demo mission reports some events from two contingents"
    # What argues for and against the merge is on the card the analyst decides on.
    assert proposals.first.locator("p.reasons-for .badge.for").count() >= 3
    assert proposals.first.locator("p.reasons-against").is_visible()
    screenshot(page, "duplicates")
    proposal_id = proposals.first.get_attribute("data-proposal")
    merged_before = page.locator("#merged button.unmerge").count()
    proposals.first.locator("button.confirm").click()
    page.wait_for_url(re.compile(r"done=confirm"))
    assert page.locator(f"section.proposal[data-proposal='{proposal_id}']").count() == 0
    assert page.locator("#merged button.unmerge").count() == merged_before + 1


def test_map_shows_hotspots_reference_layers_and_legend(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    # The demo's base map (rendered by the seed) is under the layers, served by this server only.
    page.wait_for_function("Number(document.getElementById('map').dataset.tiles) >= 4", timeout=30_000)
    data = page.eval_on_selector("#map", "el => Object.assign({}, el.dataset)")
    assert int(data["hotspots"]) > 0, data
    assert int(data["reports"]) > 0, data
    assert "error" not in (page.get_attribute("#map-status", "class") or ""), page.inner_text("#map-status")
    # Place names from the reference data over the mission's own base map tiles.
    assert page.locator(".place-label", has_text="Bunia").count() == 1
    assert page.locator(".legend .bin").count() == 6
    assert data["basemap"] == "demo"
    assert page.locator(".leaflet-tile-loaded").count() >= 4
    tiles = [u for u in requested if "/map/basemaps/demo/" in u]
    assert tiles and all(u.startswith(live_server.url) for u in requested), \
        [u for u in requested if not u.startswith(live_server.url)]
    screenshot(page, "map")
    # The time slider narrows the time-dependent layers: a 7-day window ending 90 days ago.
    page.select_option("#window-days", "7")
    page.eval_on_selector("#time-slider", "el => { el.value = '90'; el.dispatchEvent(new Event('change')); }")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    narrowed = page.eval_on_selector("#map", "el => Number(el.dataset.reports)")
    assert narrowed < int(data["reports"])


def test_commander_sees_the_map_of_what_they_may_read(live_server: LiveServer, open_as: Any) -> None:
    commander = next(u for u, role in live_server.sign_ins if role == "commander")
    page = open_as(commander)
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    page.wait_for_function("Number(document.getElementById('map').dataset.tiles) >= 4", timeout=30_000)
    contingents = page.evaluate(
        "fetch('/map/data/reports.geojson', {credentials: 'same-origin'}).then(r => r.json())"
        ".then(fc => Array.from(new Set(fc.features.filter(f => f.properties.contingent)"
        ".map(f => f.properties.contingent))))")
    assert len(contingents) >= 1  # their own contingent, plus any public report of another
    screenshot(page, "map-commander")


def test_map_in_arabic_is_right_to_left(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst", lang="ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    assert "الخريطة" in page.locator("header nav").inner_text()
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    assert page.locator(".place-label", has_text="بونيا").count() == 1
    screenshot(page, "map-ar")
    page.click("header .langs a[lang=fr]")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.get_attribute("html", "lang") == "fr"
    assert "Carte" in page.locator("header nav").inner_text()


def test_revoke_a_device_and_enrol_one_with_a_qr_code(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("admin")
    page.goto(f"{live_server.url}/admin/devices")
    row = page.locator("#devices tbody tr", has=page.locator("button.revoke")).first
    device_id = row.get_attribute("data-device")
    row.locator("button.revoke").click()
    page.wait_for_url(re.compile(r"done=revoked"))
    assert "revoked" in page.locator(f"#devices tr[data-device='{device_id}'] td.state").inner_text()
    with live_server.engine.connect() as conn:
        assert conn.execute(select(devices.c.revoked_at).where(devices.c.id == device_id)).scalar_one() is not None
    page.select_option("select[name=username]", "banbat.patrol1")
    page.click("form[action='/admin/devices/codes'] button")
    assert page.locator("#enrolment img").get_attribute("src").startswith("data:image/svg+xml")
    assert len(page.inner_text("#enrolment-code").strip()) >= 8
    screenshot(page, "devices")
    page.goto(f"{live_server.url}/admin/audit?action=device_revoked")
    assert device_id in page.inner_text("#audit")
    assert "intact" in page.inner_text("#chain")
    screenshot(page, "audit")
    page.goto(f"{live_server.url}/admin/users")
    screenshot(page, "users")


def test_export_the_filtered_reports_as_csv(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports?kind=patrol")
    expected = _total(page)
    page.click("a[href^='/exports?']")
    assert page.is_checked("input[name=kind][value=patrol]")  # the table's filters carried over
    page.select_option("select[name=format]", "csv")
    screenshot(page, "exports")
    with page.expect_download() as info:
        page.click("#export-button")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert info.value.suggested_filename.endswith(".csv")
    assert rows[1][0].startswith("#")  # the HXL hashtag row
    assert len(rows) - 2 == expected > 0


def test_overview_shows_what_is_new_and_critical_and_links_to_it(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    assert page.url.endswith("/overview")
    for window in ("24h", "7d"):
        assert page.locator(f"#tile-critical-{window}").is_visible()
    assert page.locator("#trends svg rect[data-category]").count() > 0  # the demo mission has incidents
    assert page.locator("#backlog a[data-age]").count() == 4
    screenshot(page, "overview")
    # A number is a link to the reports behind it: the backlog's total is the unreviewed reports.
    backlog = sum(int(t) for t in page.locator("#backlog a[data-age]").all_inner_texts())
    page.goto(f"{live_server.url}/reports?review_status=unreviewed")
    assert _total(page) == backlog
    page.goto(f"{live_server.url}/overview")
    page.click("#tile-critical-7d > a")
    page.wait_for_url(re.compile(r"severity_min=4"))
    severities = {int(t) for t in page.locator("#reports-table tbody td:nth-child(7)").all_inner_texts()}
    assert severities <= {4, 5}
    assert page.locator("#reports-table tbody td.severity-5, #reports-table tbody td.severity-4").count() > 0


def test_review_queue_with_keyboard_and_bulk_decisions(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports?kind=incident&review_status=unreviewed")
    before = _total(page)
    page.click("#start-queue")
    page.wait_for_url(re.compile(r"/reports/[0-9a-f-]{36}\?list="))
    first = page.url.split("/reports/")[1].split("?")[0]
    page.keyboard.press("v")  # verify, then the next unreviewed report of the same list opens
    page.wait_for_url(lambda url: first not in url and "/reports/" in url)
    with live_server.engine.connect() as conn:
        assert conn.execute(select(reports.c.review_status).where(reports.c.id == first)).scalar_one() == "verified"
    # Bulk: select two rows, reject both with one comment.
    page.goto(f"{live_server.url}/reports?kind=incident&review_status=unreviewed")
    assert _total(page) == before - 1
    boxes = page.locator("#reports-table tbody input[name=ids]")
    chosen = [boxes.nth(i).get_attribute("value") for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#bulk-actions input[name=comment]", "Duplicate entries from a training exercise.")
    screenshot(page, "review-queue")
    page.click("#bulk-actions button[value=rejected]")
    page.wait_for_url(re.compile(r"done=rejected"))
    assert _total(page) == before - 3
    with live_server.engine.connect() as conn:
        statuses = conn.execute(select(reports.c.review_status).where(reports.c.id.in_(chosen))).scalars().all()
    assert statuses == ["rejected", "rejected"]


def test_a_large_export_prepared_in_the_background(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports?kind=incident")
    expected = _total(page)
    page.goto(f"{live_server.url}/exports?kind=incident")
    page.select_option("select[name=format]", "csv")
    page.click("#job-button")
    page.wait_for_selector("#job[data-state=done]", timeout=60_000)  # the page refreshes itself until done
    screenshot(page, "export-job")
    with page.expect_download() as info:
        page.click("#job-download")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert len(rows) == 2 + expected  # header, HXL hashtags, the filtered reports only
