"""Tasks in a real browser: from a coverage gap on the map to a task in one click, then the board."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.helpers import LiveServer, screenshot

pytestmark = pytest.mark.browser


def test_a_gap_on_the_map_becomes_a_task_on_the_board(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    assert int(page.eval_on_selector("#map", "el => Number(el.dataset.gaps)")) > 0
    # Coverage gaps are an overlay to switch on; a gap's hexagon is drawn dashed; its pop-up offers the task.
    page.check(".leaflet-control-layers label:has-text('Coverage gaps') input")
    page.wait_for_timeout(500)
    # The map draws on a canvas: find a gap's hexagon through Leaflet and click its middle.
    x, y = page.eval_on_selector("#map", """el => {
      let at = null;
      el.leafletMap.eachLayer(l => { if (!at && l.options && l.options.dashArray === "5 4" && l.getCenter) {
        const p = el.leafletMap.latLngToContainerPoint(l.getCenter()); at = [p.x, p.y]; } });
      return at; }""")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    link = page.wait_for_selector(".leaflet-popup a.make-task", timeout=10_000)
    assert "source_kind=coverage_gap" in (link.get_attribute("href") or "")
    link.click()
    page.wait_for_selector("#task-form")
    assert "Coverage gap" in page.inner_text("#task-source")
    page.select_option("select[name=priority]", "high")
    page.fill("textarea[name=instructions]", "Nobody has patrolled here for a month: go by the river road.")
    page.click("#create-task")
    page.wait_for_selector("#gap-result")
    assert page.inner_text("h1").startswith("Patrol the coverage gap")
    assert "Shown once the task is done." in page.inner_text("#gap-result")
    page.goto(f"{live_server.url}/tasks")
    page.wait_for_selector("#task-board")
    assert page.locator("#task-list tr[data-task]").count() >= 1
    screenshot(page, "tasks")
