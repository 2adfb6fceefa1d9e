"""The dashboard map never runs markup from data: a place name (reference data) full of HTML is shown as text.

Issue 16, item 8: Leaflet reads tooltip and popup strings as HTML, so a place name inserted as is
ran (the CSP stopped the script; escaping must). Checked in a real browser, with the hostile name
in both a permanent place label and a sensitive site's tooltip.
"""

from __future__ import annotations

from typing import Any

from peacewatch.server.access import Principal, Role
from peacewatch.server.db.engine import WRITE
from peacewatch.server.reference.service import upsert
from tests.web.helpers import LiveServer

HOSTILE = '<img src=x onerror="window.__pwned=1"><b id="injected">Evil</b>'


def test_a_place_name_with_markup_is_shown_as_text(live_server: LiveServer, open_as: Any) -> None:
    admin = Principal(user_id=1, username="admin", role=Role.ADMIN, contingent_id=None)
    with live_server.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for item_id, kind in (("xss-place", "place"), ("xss-site", "sensitive_site")):
            upsert(conn, admin, item_id=item_id, kind=kind, names={"en": HOSTILE},
                   geometry={"type": "Point", "coordinates": [30.0, 1.5]}, properties={})
    page = open_as("analyst")
    page.goto(f"{live_server.url}/map")
    page.wait_for_selector("#map[data-loaded=true]", timeout=30_000)
    label = page.locator(".place-label", has_text="Evil")
    assert label.count() == 1
    assert label.inner_text() == HOSTILE  # the markup is text on the page
    assert page.locator("#injected").count() == 0
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
