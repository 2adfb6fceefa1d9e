"""Saved filters on the reports list page (SQLite and PostgreSQL): saved, listed, applied and
deleted with the session's CSRF token; the list a saved filter opens is read under the policy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories import PASSWORD, Mission, report_body, store
from tests.web.helpers import csrf_of, sign_in


def test_a_saved_filter_opens_the_list_under_the_policy(client: TestClient, mission: Mission) -> None:
    """The same saved query shows each visitor only what they may read: a BRAVO mission report
    never appears in ALPHA's commander's list, whatever the filter says."""
    store(mission, "patrol_a", report_body(title="alpha market", contingent="ALPHA"))
    store(mission, "patrol_b", report_body(title="bravo market", contingent="BRAVO", author="patrol_b"))
    sign_in(client, "commander_a", PASSWORD)
    page = client.get("/reports?contingent=BRAVO&contingent=ALPHA&q=market")
    assert 'id="saved-filters"' in page.text and "No saved filters yet." in page.text
    r = client.post("/reports/saved-filters", data={"csrf": csrf_of(page.text), "name": "Markets",
                                                    "query": "contingent=BRAVO&contingent=ALPHA&q=market"})
    assert r.status_code == 303 and r.headers["location"].startswith("/reports?contingent=BRAVO")
    listed = client.get(r.headers["location"])
    assert "Filters saved." in listed.text and ">Markets</bdi>" in listed.text
    assert "alpha market" in listed.text and "bravo market" not in listed.text
    client.cookies.clear()
    sign_in(client, "analyst", PASSWORD)
    both = client.get("/reports?contingent=BRAVO&contingent=ALPHA&q=market")
    assert "alpha market" in both.text and "bravo market" in both.text
    assert "Markets" not in both.text  # the commander's own filter


def test_save_and_delete_pages_need_csrf_and_name_the_field(client: TestClient, mission: Mission) -> None:
    sign_in(client, "analyst", PASSWORD)
    page = client.get("/reports")
    token = csrf_of(page.text)
    assert client.post("/reports/saved-filters", data={"csrf": "forged", "name": "x"}).status_code == 403
    bad = client.post("/reports/saved-filters", data={"csrf": token, "name": "x", "query": "severity_min=0"})
    assert bad.status_code == 422 and "query.severity_min" in bad.text
    bad = client.post("/reports/saved-filters", data={"csrf": token, "name": "", "query": ""})
    assert bad.status_code == 422 and "name" in bad.text
    ok = client.post("/reports/saved-filters", data={"csrf": token, "name": "Unreviewed", "query": "review_status=unreviewed"})
    assert ok.status_code == 303
    filter_id = client.get("/api/v1/saved-filters", headers=mission.headers("analyst")).json()["filters"][0]["id"]
    assert client.post(f"/reports/saved-filters/{filter_id}/delete", data={"csrf": "forged"}).status_code == 403
    gone = client.post(f"/reports/saved-filters/{filter_id}/delete",
                       data={"csrf": token, "list": "kind=patrol&junk=<script>"})
    assert gone.status_code == 303 and gone.headers["location"] == "/reports?kind=patrol&done=filter_deleted"
    assert "Saved filter deleted." in client.get(gone.headers["location"]).text
    assert client.post(f"/reports/saved-filters/{filter_id}/delete", data={"csrf": token}).status_code == 404
    assert client.post("/reports/saved-filters/abc/delete", data={"csrf": token}).status_code == 422
