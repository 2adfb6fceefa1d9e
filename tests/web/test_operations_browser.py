"""The operations view in a real browser: a tablet's push of a severe report appears on open
dashboards without a reload, and acknowledging in one tab updates the other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from peacewatch.common.versioning import version_id
from peacewatch.server.db.engine import WRITE
from peacewatch.server.devices.service import enrol, issue_code
from tests.web.helpers import LiveServer, screenshot

pytestmark = pytest.mark.browser


def _tablet_push(live_server: LiveServer, title: str) -> str:
    """Enrol a tablet for a BANBAT patrol and push one severe report over HTTP; returns its id."""
    with live_server.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="banbat.patrol1", ttl=timedelta(hours=1))["code"]
        tablet = enrol(conn, code=code, label="ops test tablet", client="test", max_failures=100)
    body = {"id": str(uuid.uuid4()), "kind": "incident", "category": "attack_on_civilians",
            "event_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "location": {"lat": 1.56, "lon": 30.25, "precision_m": 10, "source": "gps"},
            "title": title, "description": "Armed men fired on the market.",
            "casualties": {"killed": 2, "injured": 5, "abducted": 0, "displaced": 0}, "severity": 5,
            "confidentiality": "mission", "attachments": [], "contingent": "BANBAT", "author": "banbat.patrol1",
            "language": "en"}
    entry = {"report_id": body["id"], "version_id": version_id(body, [], tablet["device_id"]), "parents": [],
             "body": body}
    r = httpx.post(f"{live_server.url}/api/v1/sync/push", json={"versions": [entry]},
                   headers={"Authorization": f"Device {tablet['credential']}"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    return body["id"]


def test_a_push_appears_live_and_acknowledging_updates_the_other_tab(live_server: LiveServer,
                                                                     open_as: Any) -> None:
    tabs = [open_as("analyst"), open_as("analyst")]
    for tab in tabs:
        tab.goto(f"{live_server.url}/operations")
        tab.wait_for_selector("#ops[data-live=true]", timeout=20_000)
    before = int(tabs[0].get_attribute("#ops", "data-count") or "0")
    title = f"Village attacked {uuid.uuid4().hex[:6]}"
    report_id = _tablet_push(live_server, title)
    card = f".alert-card:has(a[href='/reports/{report_id}'])"
    for tab in tabs:  # no reload: the stream brings it
        tab.wait_for_selector(card, timeout=15_000)
        assert tab.get_attribute(card, "data-status") == "new"
        tab.wait_for_function(f"document.title.startsWith('({before + 1})')", timeout=5_000)
    tabs[0].click(f"{card} >> text=Acknowledge")
    tabs[0].wait_for_selector(f"{card}[data-status=acknowledged]", timeout=10_000)
    tabs[1].wait_for_selector(f"{card}[data-status=acknowledged]", timeout=15_000)
    assert "analyst" in tabs[1].inner_text(card)
    tabs[1].wait_for_function(f"document.title.startsWith('({before})') || {before} === 0", timeout=5_000)
    tabs[1].click(card)
    tabs[1].wait_for_selector("#ops-map[data-markers='1']", timeout=10_000)
    screenshot(tabs[1], "operations")


def test_a_contingent_never_sees_another_contingents_alert(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("nepbat.cmd")
    page.goto(f"{live_server.url}/operations")
    page.wait_for_selector("#ops[data-live=true]", timeout=20_000)
    report_id = _tablet_push(live_server, "BANBAT-only incident")
    page.wait_for_timeout(3000)  # time for the stream to have delivered it, were it allowed to
    assert page.locator(f"a[href='/reports/{report_id}']").count() == 0
