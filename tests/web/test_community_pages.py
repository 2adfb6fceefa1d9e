"""The hotline log and triage pages as a liaison uses them: one form saves a call, the triage page
shows candidates and confirms, the alert page shows who called (audited) only to the right roles,
in English, French and Arabic."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from factories import PASSWORD, Mission
from peacewatch.server.access import Principal, Role
from peacewatch.server.db.engine import WRITE
from peacewatch.server.reference.service import upsert
from tests.web.helpers import csrf_of, sign_in

ADMIN = Principal(user_id=0, username="t", role=Role.ADMIN, contingent_id=None)


def _places(mission: Mission) -> None:
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        for pid, names, lon, lat in (("mambasa", {"en": "Mambasa", "ar": "مامباسا"}, 29.05, 1.36),
                                     ("beni", {"en": "Beni", "fr": "Béni"}, 29.47, 0.49)):
            upsert(conn, ADMIN, item_id=pid, kind="place", names=names,
                   geometry={"type": "Point", "coordinates": [lon, lat]}, properties={})


def test_hotline_to_triage_to_confirmed(client: TestClient, mission: Mission) -> None:
    _places(mission)
    sign_in(client, "liaison", PASSWORD)
    form = client.get("/community/hotline")
    assert form.status_code == 200
    html = form.text
    # Keyboard-first: the first field has focus, every field has a label, Save has an access key.
    assert re.search(r'<textarea name="text"[^>]*autofocus', html) and 'accesskey="s"' in html
    r = client.post("/community/hotline", data={
        "csrf": csrf_of(html), "text": "Armed men stole cattle", "place": "Mambassa", "place_id": "",
        "category": "", "event_time": "2026-12-02T05:30", "urgency": "4", "how_known": "saw",
        "caller_name": "Neema Secretcaller", "caller_phone": "+243990005555", "caller_language": "fr",
        "caller_relationship": "neighbour"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    alert_id = int(r.headers["location"].split("done=")[1])
    triage = client.get("/community/triage").text
    assert f'data-alert="{alert_id}"' in triage and 'data-place="mambasa"' in triage
    assert "Neema" not in triage  # the queue never shows who called
    page = client.get(f"/community/alerts/{alert_id}").text
    assert "Neema Secretcaller" in page and "+243990005555" in page
    r = client.post(f"/community/alerts/{alert_id}/confirm", data={
        "csrf": csrf_of(triage), "place_id": "mambasa", "category": "cattle_raiding", "urgency": "4"},
        follow_redirects=False)
    assert r.status_code == 303
    assert f'data-alert="{alert_id}"' not in client.get("/community/triage").text
    # A bad form names its field on the error page, and nothing is saved.
    bad = client.post("/community/hotline", data={"csrf": csrf_of(html), "text": "x", "urgency": "9"})
    assert bad.status_code == 422 and "urgency" in bad.text


def test_caller_identity_hidden_from_analyst_page(client: TestClient, mission: Mission) -> None:
    out = mission.client.post("/api/v1/community/alerts", json={"text": "fire", "caller_name": "Hidden Person"},
                              headers=mission.headers("liaison")).json()
    analyst = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(analyst, "analyst", PASSWORD)
    page = analyst.get(f"/community/alerts/{out['id']}")
    assert page.status_code == 200 and "Hidden Person" not in page.text and 'id="caller"' not in page.text
    patrol = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    sign_in(patrol, "patrol_a", PASSWORD)
    assert patrol.get("/community/hotline").status_code == 403


def test_pages_in_french_and_arabic(client: TestClient, mission: Mission) -> None:
    sign_in(client, "liaison", PASSWORD)
    client.cookies.set("pw_lang", "fr")
    assert "Journal de la ligne d&#39;alerte" in client.get("/community/hotline").text
    client.cookies.set("pw_lang", "ar")
    html = client.get("/community/hotline").text
    assert 'dir="rtl"' in html and "سجل الخط الساخن" in html
