"""The dashboard's sharing pages (admin): the agreements and the preview of the partner's next page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from factories import PASSWORD
from tests.web.helpers import sign_in

from .conftest import create_agreement, issue_key
from .test_feed import POLICY


def test_preview_page_lists_exactly_the_next_page_of_the_feed(client, mission, generated) -> None:
    agreement = create_agreement(mission, **POLICY)
    pending = create_agreement(mission, "unhcr", kinds=["hr_concern"])
    admin = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(admin, "admin", PASSWORD)
    listing = admin.get("/admin/sharing")
    assert listing.status_code == 200 and 'data-partner="ohchr"' in listing.text
    preview = admin.get(f"/admin/sharing/{agreement['id']}")
    assert preview.status_code == 200
    shown = re.findall(r"<tr><td>([0-9a-f-]{36})</td>", preview.text)
    feed = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "geojson"},
                              headers=issue_key(mission, agreement["id"])).json()
    assert shown == [f["id"] for f in feed["features"]] and shown
    refused = admin.get(f"/admin/sharing/{pending['id']}")
    assert refused.status_code == 200 and 'id="refused"' in refused.text and "<table" not in refused.text
    patrol = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(patrol, "protection", PASSWORD)
    assert patrol.get(f"/admin/sharing/{agreement['id']}").status_code == 403
