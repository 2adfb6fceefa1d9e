"""The operations view in a real browser: a tablet's push of a severe report appears on open
dashboards without a reload, and acknowledging in one tab updates the other."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.web.helpers import LiveServer, screenshot, tablet_push

pytestmark = pytest.mark.browser


def test_a_push_appears_live_and_acknowledging_updates_the_other_tab(live_server: LiveServer,
                                                                     open_as: Any) -> None:
    tabs = [open_as("analyst"), open_as("analyst")]
    for tab in tabs:
        tab.goto(f"{live_server.url}/operations")
        tab.wait_for_selector("#ops[data-live=true]", timeout=20_000)
    before = int(tabs[0].get_attribute("#ops", "data-count") or "0")
    title = f"Village attacked {uuid.uuid4().hex[:6]}"
    report_id = tablet_push(live_server, title=title, killed=2, injured=5)
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
    report_id = tablet_push(live_server, title="BANBAT-only incident", killed=2, injured=5)
    page.wait_for_timeout(3000)  # time for the stream to have delivered it, were it allowed to
    assert page.locator(f"a[href='/reports/{report_id}']").count() == 0
