"""Conflicts through HTTP: two tablets edit one report offline, HQ sees the diff, resolves, devices pull it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from factories import Mission, report_body, version_entry
from peacewatch.server.db.tables import audit_log

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
CONFLICTS = "/api/v1/conflicts"


def push(mission: Mission, user: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = mission.client.post(PUSH, json={"versions": entries}, headers=mission.device_headers(user))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def pull_versions(mission: Mission, user: str, since: int = 0) -> list[dict[str, Any]]:
    r = mission.client.get(PULL, params={"since": since, "limit": 1000}, headers=mission.device_headers(user))
    assert r.status_code == 200 and not r.json()["more"]
    return [c for c in r.json()["changes"] if c["kind"] == "version"]


def make_conflict(mission: Mission, **body: Any) -> tuple[dict[str, Any], str, str, str]:
    """patrol_a files a report; commander_a's tablet pulls it; both edit it offline and push."""
    base = report_body(**body)
    v1 = version_entry(base, mission.device_id("patrol_a"))
    assert push(mission, "patrol_a", [v1])[0]["status"] == "stored"
    pulled = pull_versions(mission, "commander_a")
    assert v1["version_id"] in [c["version_id"] for c in pulled]
    left = base | {"casualties": base["casualties"] | {"killed": 3}, "title": "three killed"}
    right = base | {"casualties": base["casualties"] | {"killed": 5}}
    v_left = version_entry(left, mission.device_id("patrol_a"), [v1["version_id"]])
    v_right = version_entry(right, mission.device_id("commander_a"), [v1["version_id"]])
    assert push(mission, "patrol_a", [v_left])[0]["in_conflict"] is False
    (answer,) = push(mission, "commander_a", [v_right])
    assert answer["status"] == "stored" and answer["in_conflict"] is True
    return base, v1["version_id"], v_left["version_id"], v_right["version_id"]


def test_conflict_is_listed_field_by_field_and_resolved_by_pick(mission: Mission) -> None:
    mission.enrol_device("commander_a")
    base, _, left, right = make_conflict(mission)
    r = mission.client.get(CONFLICTS, headers=mission.headers("analyst"))
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["report_id"] == base["id"]
    assert [h["version_id"] for h in item["heads"]] == [right, left]  # newest received first
    assert {h["author"] for h in item["heads"]} == {"patrol_a", "commander_a"}
    assert item["fields"] == [
        {"field": "casualties.killed", "values": {left: 3, right: 5}},
        {"field": "title", "values": {left: "three killed", right: base["title"]}},
    ]
    # Commanders may not see or resolve conflicts (no ANALYSE permission).
    assert mission.client.get(CONFLICTS, headers=mission.headers("commander_a")).status_code == 403
    resolve = f"/api/v1/reports/{base['id']}/resolve"
    assert mission.client.post(resolve, json={"pick": left}, headers=mission.headers("commander_a")).status_code == 403
    # Naming heads that are not the current ones: 409 with the real heads.
    r = mission.client.post(resolve, json={"pick": left, "parents": [left]}, headers=mission.headers("analyst"))
    assert r.status_code == 409 and r.json()["error"] == "conflict" and sorted(r.json()["heads"]) == sorted([left, right])
    r = mission.client.post(resolve, json={"pick": "f" * 64}, headers=mission.headers("analyst"))
    assert r.status_code == 422 and r.json()["field"] == "pick"
    r = mission.client.post(resolve, json={"pick": left, "parents": [right, left]}, headers=mission.headers("analyst"))
    assert r.status_code == 201, r.text
    resolution = r.json()
    assert resolution["parents"] == sorted([left, right]) and resolution["in_conflict"] is False
    assert mission.client.get(CONFLICTS, headers=mission.headers("analyst")).json()["items"] == []
    report = mission.client.get(f"/api/v1/reports/{base['id']}", headers=mission.headers("analyst")).json()
    assert report["in_conflict"] is False and report["current"]["casualties"]["killed"] == 3
    # Both tablets pull the resolution as an ordinary version whose parents are both heads.
    for user in ("patrol_a", "commander_a"):
        got = [c for c in pull_versions(mission, user) if c["version_id"] == resolution["version_id"]]
        assert len(got) == 1 and sorted(got[0]["parents"]) == sorted([left, right]), user
        assert got[0]["author"] == "analyst" and got[0]["body"]["casualties"]["killed"] == 3
    # Resolving again: not in conflict any more.
    r = mission.client.post(resolve, json={"pick": left}, headers=mission.headers("analyst"))
    assert r.status_code == 409
    with mission.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == "conflict_resolved")).mappings().all()
    assert len(rows) == 1 and rows[0]["target"] == base["id"] and rows[0]["actor"] == "analyst"
    assert rows[0]["detail"]["method"] == "pick" and rows[0]["detail"]["version_id"] == resolution["version_id"]


def test_conflict_resolved_by_merged_body(mission: Mission) -> None:
    mission.enrol_device("commander_a")
    base, _, left, right = make_conflict(mission)
    merged = base | {"casualties": base["casualties"] | {"killed": 4}, "title": "four killed (merged)"}
    resolve = f"/api/v1/reports/{base['id']}/resolve"
    r = mission.client.post(resolve, json={"pick": left, "body": merged}, headers=mission.headers("analyst"))
    assert r.status_code == 422 and r.json()["field"] == "pick"
    bad = merged | {"severity": 9}
    r = mission.client.post(resolve, json={"body": bad}, headers=mission.headers("analyst"))
    assert r.status_code == 422 and r.json()["field"] == "body.severity", r.text
    r = mission.client.post(resolve, json={"body": merged}, headers=mission.headers("analyst"))
    assert r.status_code == 201, r.text
    vid = r.json()["version_id"]
    report = mission.client.get(f"/api/v1/reports/{base['id']}", headers=mission.headers("commander_a")).json()
    assert report["in_conflict"] is False and report["current"]["title"] == "four killed (merged)"
    pulled = {c["version_id"]: c for c in pull_versions(mission, "patrol_a")}
    assert pulled[vid]["body"]["casualties"]["killed"] == 4 and sorted(pulled[vid]["parents"]) == sorted([left, right])
    with mission.engine.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "conflict_resolved")).scalar_one()
    assert detail["method"] == "merge" and detail["picked"] is None


def test_names_hidden_from_the_resolver_cannot_be_lost_by_a_merge(mission: Mission) -> None:
    mission.enrol_device("commander_a")
    base, _, left, _ = make_conflict(mission, kind="hr_concern", category="arbitrary_detention")
    (item,) = mission.client.get(CONFLICTS, headers=mission.headers("analyst")).json()["items"]
    assert all(h["body"]["victims"][0]["name"] is None for h in item["heads"])
    assert "Victim Secretname" not in mission.client.get(CONFLICTS, headers=mission.headers("analyst")).text
    merged = item["heads"][0]["body"] | {"title": "merged by analyst"}
    resolve = f"/api/v1/reports/{base['id']}/resolve"
    # The redacted merge is stored with the heads' hidden names carried over (the write policy).
    r = mission.client.post(resolve, json={"body": merged}, headers=mission.headers("analyst"))
    assert r.status_code == 201, r.text
    history = mission.client.get(f"/api/v1/reports/{base['id']}/versions", headers=mission.headers("hr")).json()
    assert history[-1]["body"]["title"] == "merged by analyst"
    assert history[-1]["body"]["victims"][0]["name"] == "Victim Secretname"
    assert left in history[-1]["parents"]


def test_restricted_conflicts_are_shown_only_to_the_protection_team(mission: Mission) -> None:
    mission.enrol_device("commander_a")
    # commander_a cannot read a restricted report it did not write, so make the conflict on one tablet.
    base = report_body(confidentiality="restricted", description="restricted detail")
    device = mission.device_id("patrol_a")
    v1 = version_entry(base, device)
    a = version_entry(base | {"title": "a"}, device, [v1["version_id"]])
    b = version_entry(base | {"title": "b"}, device, [v1["version_id"]])
    assert [x["status"] for x in push(mission, "patrol_a", [v1, a, b])] == ["stored"] * 3
    assert mission.client.get(CONFLICTS, headers=mission.headers("analyst")).json()["items"] == []
    r = mission.client.post(f"/api/v1/reports/{base['id']}/resolve", json={"pick": a["version_id"]},
                            headers=mission.headers("analyst"))
    assert r.status_code == 404
    (item,) = mission.client.get(CONFLICTS, headers=mission.headers("protection")).json()["items"]
    assert item["report_id"] == base["id"] and item["fields"][0]["field"] == "title"
