"""The dashboard in a real browser: saved filters on the reports list, a map legend that matches
what is drawn, and Arabic pages whose texts and controls never overlap (one seeded server, Chromium).
Screenshots for the README's gallery go to docs/img/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.helpers import LiveServer, screenshot

pytestmark = pytest.mark.browser

# Boxes of every visible text run (a Range over each text node, so a paragraph's box is its words,
# not its whole line) and of every control; pairs where one element contains the other are one
# thing, not an overlap. The map's own pane (tiles, markers, place labels drawn on the map) is the
# picture, not the page's layout: only its controls (toggles, legend, zoom, scale) are checked.
OVERLAPS_JS = r"""
() => {
  const boxes = [];
  // Not rendered (e.g. inside a closed <details>), hidden or transparent: not on the screen.
  const visible = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true, contentVisibilityAuto: true});
  const skip = el => !!el.closest('.leaflet-map-pane, .visually-hidden, [hidden], script, style, noscript, option');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || skip(el) || !visible(el)) continue;
    if (el.closest('select, button, input, textarea')) continue;  // the control's own box below
    const range = document.createRange(); range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 1 && r.height > 1) boxes.push({el, r});
  }
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, .swatch, summary')) {
    if (skip(el) || !visible(el)) continue;
    // A link wrapped over two lines is two boxes (one per line), not the rectangle around both.
    for (const r of el.getClientRects()) if (r.width > 1 && r.height > 1) boxes.push({el, r});
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
    ' "' + (el.innerText || el.value || '').trim().slice(0, 30) + '"';
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.el === b.el || a.el.contains(b.el) || b.el.contains(a.el)) continue;
    const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
    const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
    if (w > 1 && h > 1) out.push(name(a.el) + ' x ' + name(b.el));
  }
  return Array.from(new Set(out)).slice(0, 20);
}
"""


def _total(page: Any) -> int:
    return int(re.search(r"(\d+)", page.inner_text("#counts strong")).group(1))


def test_save_apply_and_delete_a_filter(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/reports?kind=incident&severity_min=4")
    severe = _total(page)
    page.fill("#save-filter input[name=name]", "Severe incidents")
    page.click("#save-filter button[type=submit]")
    page.wait_for_url(re.compile(r"done=filter_saved"))
    saved = page.locator("#saved-filters li", has_text="Severe incidents")
    assert saved.count() == 1
    page.goto(f"{live_server.url}/reports")
    everything = _total(page)
    page.click("#saved-filters a.apply-filter:has-text('Severe incidents')")
    page.wait_for_url(re.compile(r"severity_min=4"))
    assert _total(page) == severe < everything
    assert page.is_checked("input[name=kind][value=incident]")
    # Another user does not see it.
    other = open_as("protection")
    other.goto(f"{live_server.url}/reports")
    assert other.locator("#saved-filters li", has_text="Severe incidents").count() == 0
    page.locator("#saved-filters li", has_text="Severe incidents").locator("button.delete-filter").click()
    page.wait_for_url(re.compile(r"done=filter_deleted"))
    assert page.locator("#saved-filters li", has_text="Severe incidents").count() == 0


def _legend(page: Any) -> dict[str, list[dict[str, str]]]:
    return page.evaluate("""() => {
      const out = {};
      for (const sec of document.querySelectorAll('.legend .legend-section')) {
        out[sec.dataset.layer] = Array.from(sec.querySelectorAll('.swatch')).map(s => ({
          declared: s.dataset.colour, shown: getComputedStyle(s).backgroundColor}));
      }
      return out;
    }""")


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def _toggle(page: Any, label: str) -> None:
    page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()


def test_map_legend_lists_only_shown_layers_in_their_drawn_colours(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    shown = {"reports", "hotspots", "sites", "places", "area"}
    assert set(_legend(page)) == shown
    _toggle(page, "Coverage gaps")
    _toggle(page, "Emerging hotspots")
    _toggle(page, "Patrol routes")
    _toggle(page, "Place names")
    shown = {"reports", "hotspots", "sites", "area", "gaps", "emerging", "patrols"}
    legend = _legend(page)
    assert set(legend) == shown
    drawn = page.eval_on_selector("#map", "el => JSON.parse(el.dataset.drawn)")
    for layer, swatches in legend.items():
        # Every swatch shows the colour it declares (the gap swatch once had invalid CSS and showed none)...
        for s in swatches:
            assert s["shown"] == _rgb(s["declared"]), (layer, s)
        # ... and every colour the layer is drawn in is one of its swatches.
        declared = {s["declared"].lower() for s in swatches}
        extra = {c.lower() for c in drawn[layer]} - declared
        if layer != "sites":  # a site is filled with its colour inside a black ring
            assert not extra, (layer, extra, declared)
    assert drawn["hotspots"] and drawn["reports"] and drawn["sites"]
    # Distinct colours across the legend: no two layers share a swatch colour.
    colours = [s["declared"] for sw in legend.values() for s in sw]
    assert len(colours) == len(set(colours)), colours
    assert "error" not in (page.get_attribute("#map-status", "class") or "")


def test_a_short_window_is_a_note_not_a_red_developer_error(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    _toggle(page, "Emerging hotspots")
    page.select_option("#window-days", "7")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    status = page.inner_text("#map-status")
    assert "error" not in (page.get_attribute("#map-status", "class") or ""), status
    assert "step" not in status and "z =" not in status and "q =" not in status, status
    # The window's label ends today, not tomorrow, and spans seven days both ends included.
    first, last = page.eval_on_selector("#time-label", "el => [el.dataset.first, el.dataset.last]")
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    assert last == today
    from datetime import date
    assert (date.fromisoformat(last) - date.fromisoformat(first)).days == 6
    assert page.locator("#time-label bdi[dir=ltr]").count() == 2


def test_hot_spot_pop_up_speaks_plainly(live_server: LiveServer, open_as: Any) -> None:
    page = open_as("analyst")
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    # The centre of the hottest cell, on the screen (canvas shapes have no element to click).
    x, y = page.evaluate("""() => fetch('/map/data/hotspots.geojson', {credentials: 'same-origin'})
      .then(r => r.json()).then(fc => {
        const f = fc.features.filter(f => f.properties.bin === 3)[0];
        const ring = f.geometry.coordinates[0].slice(0, -1);
        const lon = ring.reduce((s, p) => s + p[0], 0) / ring.length, lat = ring.reduce((s, p) => s + p[1], 0) / ring.length;
        const map = document.getElementById('map').leafletMap;
        map.setView([lat, lon], 12, {animate: false});
        const pt = map.latLngToContainerPoint([lat, lon]), box = map.getContainer().getBoundingClientRect();
        return [box.left + pt.x, box.top + pt.y];
      })""")
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "Significantly more reports than around it, 99 % confidence" in popup, popup
    assert "z =" not in popup and "q =" not in popup


def _viewport(page: Any, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(150)


@pytest.mark.parametrize("size", [(1366, 768), (800, 1280)], ids=["1366x768", "800x1280"])
def test_arabic_pages_have_no_overlapping_text_or_controls(live_server: LiveServer, open_as: Any,
                                                          size: tuple[int, int]) -> None:
    page = open_as("analyst", lang="ar")
    _viewport(page, *size)
    for path in ("/overview", "/reports", "/map"):
        page.goto(f"{live_server.url}{path}")
        if path == "/map":
            page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
        assert page.get_attribute("html", "dir") == "rtl"
        overlaps = page.evaluate(OVERLAPS_JS)
        assert overlaps == [], (path, size, overlaps)


def test_gallery_in_english_and_arabic(live_server: LiveServer, open_as: Any) -> None:
    for lang in ("en", "ar"):
        page = open_as("analyst", lang=lang)
        _viewport(page, 1366, 768)
        suffix = "" if lang == "en" else "-ar"
        page.goto(f"{live_server.url}/overview")
        screenshot(page, f"gallery-overview{suffix}")
        page.goto(f"{live_server.url}/reports?review_status=unreviewed&kind=incident")
        page.click("#start-queue")  # the queue's first report, with its decision keys
        page.wait_for_url(re.compile(r"/reports/[0-9a-f-]{36}\?list="))
        screenshot(page, f"gallery-queue{suffix}")
        page.goto(f"{live_server.url}/map")
        page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
        page.wait_for_function("Number(document.getElementById('map').dataset.tiles) >= 4", timeout=30_000)
        screenshot(page, f"gallery-map{suffix}")
