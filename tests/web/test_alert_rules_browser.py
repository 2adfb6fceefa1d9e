"""In a real browser: an analyst creates an alert rule with the form and a matching push raises
it; a new report appears on the operations view without a reload (and not for a contingent that
may not read it); the administrator reads the webhook delivery log."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from peacewatch.server import clock
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import webhook_deliveries, webhook_endpoints
from tests.web.helpers import LiveServer, screenshot, tablet_push

pytestmark = pytest.mark.browser


def test_a_rule_created_in_the_browser_raises_on_a_matching_push(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/alert-rules")
    page.click("#new-rule")
    page.wait_for_selector("#rule-form")
    # A mistake first: no audience. The form comes back with the error next to the field.
    name = f"Looting at night {uuid.uuid4().hex[:4]}"
    page.fill("input[name=name]", name)
    page.select_option("select[name=categories]", ["looting"])
    page.select_option("select[name=min_severity]", "2")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector("#error-audience_roles")
    assert page.locator("input[name=name]").input_value() == name  # what was typed is kept
    page.check("input[name=audience_roles][value=hq_analyst]")
    page.fill("input[name=esc-0-after_minutes]", "20")
    page.check("input[name=esc-0-roles][value=commander]")
    screenshot(page, "alert-rule-form")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector(f"#rules tr:has-text('{name}')")
    screenshot(page, "alert-rules")
    # The rule raises on the next matching push, and the operations view shows it live.
    ops = open_as("analyst")
    ops.goto(f"{live_server.url}/operations")
    ops.wait_for_selector("#ops[data-live=true]", timeout=20_000)
    report_id = tablet_push(live_server, title="Shops looted at the market", category="looting", severity=3,
                            lat=1.58, lon=30.27)
    card = f".alert-card:has(a[href='/reports/{report_id}'])"
    ops.wait_for_selector(card, timeout=15_000)
    assert name in ops.inner_text(card)


def test_a_new_report_appears_live_on_the_operations_view(live_server: LiveServer, open_as: Any) -> None:
    analyst = open_as("analyst")
    other = open_as("nepbat.cmd")
    for page in (analyst, other):
        page.goto(f"{live_server.url}/operations")
        page.wait_for_selector("#report-feed[data-live=true]", timeout=20_000)
    report_id = tablet_push(live_server, title=f"Checkpoint moved {uuid.uuid4().hex[:4]}", category="looting",
                         severity=1, lat=1.58, lon=30.27)
    item = f"#report-feed li[data-id='{report_id}']"
    analyst.wait_for_selector(item, timeout=15_000)  # no reload: the stream brings it
    assert "Checkpoint moved" in analyst.inner_text(item)
    analyst.locator(item).scroll_into_view_if_needed()
    screenshot(analyst, "operations-live-reports")
    other.wait_for_timeout(3000)  # time for its stream to have delivered it, were it allowed to
    assert other.locator(item).count() == 0  # a BANBAT mission report: NEPBAT may not read it


def test_the_webhook_log_in_the_browser(live_server: LiveServer, open_as: Any) -> None:
    now = clock.now()
    with live_server.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        eid = conn.execute(insert(webhook_endpoints).values(
            url="https://alerts.partner.example/peacewatch", secret="partner-signing-secret-77", active=True,
            created_at=now - timedelta(days=2)).returning(webhook_endpoints.c.id)).scalar_one()
        conn.execute(insert(webhook_deliveries), [
            {"endpoint_id": eid, "event_id": 1, "payload": {"alert_id": 1}, "status": "delivered", "attempts": 1,
             "next_attempt_at": now, "last_status": 200, "last_error": None, "delivered_at": now,
             "created_at": now - timedelta(minutes=30)},
            {"endpoint_id": eid, "event_id": 2, "payload": {"alert_id": 2}, "status": "pending", "attempts": 3,
             "next_attempt_at": now + timedelta(seconds=8), "last_status": 503,
             "last_error": "503 Service Unavailable", "delivered_at": None, "created_at": now - timedelta(minutes=2)},
            {"endpoint_id": eid, "event_id": 3, "payload": {"alert_id": 3}, "status": "failed", "attempts": 10,
             "next_attempt_at": now, "last_status": None, "last_error": "connection refused", "delivered_at": None,
             "created_at": now - timedelta(hours=3)}])
    page = open_as("admin")
    page.goto(f"{live_server.url}/admin/webhooks")
    section = f".webhook[data-endpoint='{eid}']"
    page.wait_for_selector(section)
    assert page.locator(f"{section} tr.delivery").count() == 3
    assert "503 Service Unavailable" in page.inner_text(section)
    assert "partner-signing-secret-77" not in page.content()
    screenshot(page, "webhooks")
    assert open_as("analyst").goto(f"{live_server.url}/admin/webhooks").status == 403
