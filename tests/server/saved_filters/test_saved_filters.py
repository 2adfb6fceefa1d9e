"""Saved filters of the reports list through the API (SQLite and PostgreSQL): per user, validated
as the list validates its filters; the pages are in tests/web/test_saved_filters_pages.py."""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories import Mission
from peacewatch.server.saved_filters.service import MAX_PER_USER


def test_save_list_replace_and_delete_own_filters(client: TestClient, mission: Mission) -> None:
    me = mission.headers("analyst")
    r = client.post("/api/v1/saved-filters", headers=me,
                    json={"name": "  Severe  incidents ", "query": "?severity_min=4&kind=incident&limit=50&sort=-severity"})
    assert r.status_code == 201, r.text
    saved = r.json()
    # Normal form: filter keys only, in one order; paging and sort are not filters.
    assert saved["name"] == "Severe incidents" and saved["query"] == "kind=incident&severity_min=4"
    again = client.post("/api/v1/saved-filters", headers=me, json={"name": "Severe incidents", "query": "severity_min=5"})
    assert again.status_code == 200 and again.json()["id"] == saved["id"]
    assert again.json()["query"] == "severity_min=5"
    client.post("/api/v1/saved-filters", headers=me, json={"name": "All", "query": ""})
    listed = client.get("/api/v1/saved-filters", headers=me).json()["filters"]
    assert [f["name"] for f in listed] == ["All", "Severe incidents"]
    assert client.get(f"/api/v1/saved-filters/{saved['id']}", headers=me).json()["query"] == "severity_min=5"
    # Another user neither sees nor deletes it.
    other = mission.headers("protection")
    assert client.get("/api/v1/saved-filters", headers=other).json() == {"filters": []}
    assert client.get(f"/api/v1/saved-filters/{saved['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/saved-filters/{saved['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/saved-filters/{saved['id']}", headers=me).status_code == 200
    assert [f["name"] for f in client.get("/api/v1/saved-filters", headers=me).json()["filters"]] == ["All"]
    assert client.delete(f"/api/v1/saved-filters/{saved['id']}", headers=me).status_code == 404


def test_bad_filters_and_names_are_refused_naming_the_field(client: TestClient, mission: Mission) -> None:
    me = mission.headers("commander_a")
    for body, field in (({"name": "x", "query": "severity_min=9"}, "query.severity_min"),
                        ({"name": "x", "query": "review_status=lost"}, "query.review_status"),
                        ({"name": "x", "query": "bbox=1,2"}, "query.bbox"),
                        ({"name": "x", "query": "start=2026-13-40"}, "query.start"),
                        ({"name": "   ", "query": ""}, "name"),
                        ({"name": "a\x00b", "query": ""}, "name"),
                        ({"name": "x" * 101, "query": ""}, "name"),
                        ({"name": "x", "query": "q=" + "a" * 5000}, "query")):
        r = client.post("/api/v1/saved-filters", headers=me, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert client.get("/api/v1/saved-filters/99999999999999999999", headers=me).status_code == 422
    for i in range(MAX_PER_USER):
        assert client.post("/api/v1/saved-filters", headers=me, json={"name": f"f{i}"}).status_code == 201
    r = client.post("/api/v1/saved-filters", headers=me, json={"name": "one too many"})
    assert r.status_code == 409 and r.json()["field"] == "name"
    assert client.get("/api/v1/saved-filters", headers=mission.headers("admin")).status_code == 403
