"""Listing, filtering, paging, reading, history, review and comments through the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from factories import report_body, store


@pytest.fixture
def reports(mission):
    """Six reports across contingents, categories, kinds, times and places."""
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    bodies = {
        "a_old": report_body(event_time=t0, severity=2, lat=1.55, lon=30.25),
        "a_new": report_body(event_time=t0 + timedelta(days=10), category="looting", lat=1.92, lon=30.50),
        "a_patrol": report_body(kind="patrol", event_time=t0 + timedelta(days=3), lat=1.45, lon=29.87),
        "b_mission": report_body(contingent="BRAVO", author="patrol_b", event_time=t0 + timedelta(days=5),
                                 lat=2.30, lon=31.00, severity=5),
        "b_public": report_body(contingent="BRAVO", author="patrol_b", confidentiality="public",
                                category="armed_group_movement", event_time=t0 + timedelta(days=6), lat=2.31,
                                lon=31.01),
        "a_restricted": report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                    confidentiality="restricted", event_time=t0 + timedelta(days=7)),
    }
    for key, body in bodies.items():
        store(mission, "patrol_b" if key.startswith("b_") else "patrol_a", body)
    return {k: b["id"] for k, b in bodies.items()}


def _ids(client, mission, user, query=""):
    r = client.get(f"/api/v1/reports{query}", headers=mission.headers(user))
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def test_visibility_by_role(client, mission, reports) -> None:
    everything = set(reports.values())
    assert _ids(client, mission, "protection") == everything
    assert _ids(client, mission, "analyst") == everything - {reports["a_restricted"]}
    assert _ids(client, mission, "commander_a") == {reports[k] for k in ("a_old", "a_new", "a_patrol", "b_public")}
    assert _ids(client, mission, "patrol_b") == {reports["b_mission"], reports["b_public"]}
    # The author still sees their own restricted report.
    assert reports["a_restricted"] in _ids(client, mission, "patrol_a")
    assert client.get("/api/v1/reports", headers=mission.headers("admin")).status_code == 403


def test_filters(client, mission, reports) -> None:
    get = lambda q: _ids(client, mission, "analyst", q)  # noqa: E731
    assert get("?category=looting") == {reports["a_new"]}
    assert get("?kind=patrol") == {reports["a_patrol"]}
    assert get("?contingent=BRAVO") == {reports["b_mission"], reports["b_public"]}
    assert get("?severity_min=5") == {reports["b_mission"]}
    assert get("?start=2026-11-05T00:00:00Z&end=2026-11-07T00:00:00Z") == {reports["b_mission"]}
    assert get("?bbox=30.9,2.2,31.1,2.4") == {reports["b_mission"], reports["b_public"]}
    triangle = {"type": "Polygon", "coordinates": [[[30.9, 2.2], [31.1, 2.2], [31.0, 2.305], [30.9, 2.2]]]}
    from urllib.parse import quote

    assert get(f"?area={quote(json.dumps(triangle))}") == {reports["b_mission"]}
    assert get("?q=market") == set(reports.values()) - {reports["a_restricted"]}


@pytest.mark.parametrize(
    ("query", "field"),
    [("?bbox=1,2,3", "bbox"), ("?start=notatime", "start"), ("?severity_min=9", "severity_min"),
     ("?kind=ufo", "kind"), ("?review_status=maybe", "review_status"), ("?area=%7B%7D", "area"),
     ("?limit=0", "limit"), ("?cursor=zzz", "cursor")],
)
def test_bad_filters_name_the_field(client, mission, reports, query, field) -> None:
    r = client.get(f"/api/v1/reports{query}", headers=mission.headers("analyst"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_cursor_paging_visits_each_once(client, mission, reports) -> None:
    seen: list[str] = []
    url = "/api/v1/reports?limit=2"
    for _ in range(10):
        page = client.get(url, headers=mission.headers("protection")).json()
        assert page["total"] == 6
        seen += [i["id"] for i in page["items"]]
        if not page["more"]:
            break
        url = f"/api/v1/reports?limit=2&cursor={page['next']}"
    assert sorted(seen) == sorted(reports.values())


@pytest.mark.parametrize("sort", ["severity", "-severity", "received_at", "-received_at", "event_time"])
def test_sorting_is_over_every_page(client, mission, reports, sort) -> None:
    everything = client.get(f"/api/v1/reports?limit=50&sort={sort}", headers=mission.headers("protection")).json()
    key = sort.lstrip("-")
    values = [(item[key], item["id"]) for item in everything["items"]]
    assert values == sorted(values, reverse=sort.startswith("-"))
    seen: list[str] = []
    url = f"/api/v1/reports?limit=2&sort={sort}"
    for _ in range(10):
        page = client.get(url, headers=mission.headers("protection")).json()
        seen += [i["id"] for i in page["items"]]
        if not page["more"]:
            break
        url = f"/api/v1/reports?limit=2&sort={sort}&cursor={page['next']}"
    assert seen == [item["id"] for item in everything["items"]]
    # A cursor belongs to its order: used with another one it is refused by name.
    first = client.get(f"/api/v1/reports?limit=2&sort={sort}", headers=mission.headers("protection")).json()
    other = "-event_time" if sort != "-event_time" else "severity"
    r = client.get(f"/api/v1/reports?limit=2&sort={other}&cursor={first['next']}", headers=mission.headers("protection"))
    assert r.status_code == 422 and r.json()["field"] == "cursor"


def test_conflict_keeps_both_heads_and_history(client, mission) -> None:
    body = report_body()
    root = store(mission, "patrol_a", body)
    left = store(mission, "patrol_a", body | {"severity": 5}, parents=[root])
    mission.enrol_device("commander_a")
    right = store(mission, "commander_a", body | {"title": "Corrected title"}, parents=[root])
    r = client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("analyst")).json()
    assert r["in_conflict"] is True
    assert {h["version_id"] for h in r["heads"]} == {left, right}
    history = client.get(f"/api/v1/reports/{body['id']}/versions", headers=mission.headers("analyst")).json()
    assert [v["version_id"] for v in history] == [root, left, right]
    assert history[1]["parents"] == [root] and history[2]["author"] == "commander_a"
    assert history[2]["device_id"] == mission.device_id("commander_a")
    merged = store(mission, "commander_a", body | {"severity": 5, "title": "Corrected title"}, parents=[left, right])
    r = client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("analyst")).json()
    assert r["in_conflict"] is False and r["version_id"] == merged


def test_review_and_comment(client, mission, reports) -> None:
    rid = reports["a_old"]
    r = client.post(f"/api/v1/reports/{rid}/review", json={"status": "verified", "comment": "Two sources."},
                    headers=mission.headers("commander_b"))
    assert r.status_code == 404  # BRAVO cannot even see ALPHA's mission reports
    r = client.post(f"/api/v1/reports/{reports['b_public']}/review", json={"status": "verified"},
                    headers=mission.headers("commander_a"))
    assert r.status_code == 403  # sees BRAVO's public report, may not review it
    r = client.post(f"/api/v1/reports/{rid}/review", json={"status": "verified", "comment": "Two sources."},
                    headers=mission.headers("commander_a"))
    assert r.status_code == 201
    r = client.post(f"/api/v1/reports/{rid}/review", json={"status": "maybe"}, headers=mission.headers("analyst"))
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = client.post(f"/api/v1/reports/{rid}/comments", json={"text": "Which village exactly?"},
                    headers=mission.headers("analyst"))
    assert r.status_code == 201
    detail = client.get(f"/api/v1/reports/{rid}", headers=mission.headers("patrol_a")).json()
    assert detail["review_status"] == "verified"
    assert detail["reviews"][0]["by"] == "commander_a"
    assert detail["comments"][0]["text"] == "Which village exactly?"
    assert _ids(client, mission, "analyst", "?review_status=verified") == {rid}


def test_names_are_redacted_for_non_protection_roles(client, mission) -> None:
    body = report_body(kind="hr_concern", category="arbitrary_detention", confidentiality="mission")
    body["victims"][0]["name"] = "Named Detainee"
    store(mission, "patrol_a", body)
    seen = client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("commander_a"))
    assert seen.status_code == 200 and "Named Detainee" not in seen.text
    assert seen.json()["current"]["victims"][0]["name"] is None
    full = client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("hr"))
    assert "Named Detainee" in full.text


def test_unknown_report_is_404(client, mission) -> None:
    r = client.get("/api/v1/reports/00000000-0000-4000-8000-000000000000", headers=mission.headers("analyst"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
