"""Alert rules through the API: defaults, create, replace, delete, bad input, who may manage them."""

from __future__ import annotations


def test_default_rules_exist_for_the_taxonomy(client, mission) -> None:
    items = client.get("/api/v1/alert-rules", headers=mission.headers("analyst")).json()["items"]
    by_name = {r["name"]: r for r in items}
    severe = by_name["Attack on civilians or killing, severity 4 or more"]
    assert severe["conditions"]["min_severity"] == 4
    assert set(severe["conditions"]["categories"]) == {"attack_on_civilians", "killing"}
    restricted = by_name["Restricted case (protection team only)"]
    assert restricted["audience"]["roles"] == ["protection_officer", "hr_officer"]
    assert any(r["conditions"].get("cluster") for r in items)


def test_create_replace_delete(client, mission) -> None:
    rule = {"name": "Looting near the market", "conditions": {"categories": ["looting"], "min_severity": 2,
                                                              "near": {"km": 3}},
            "audience": {"roles": ["hq_analyst", "commander"], "contingents": ["ALPHA"]},
            "escalation": [{"after_minutes": 10, "roles": ["protection_officer"]}], "shareable": True}
    r = client.post("/api/v1/alert-rules", json=rule, headers=mission.headers("admin"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["audience"]["contingents"] == ["ALPHA"]
    r = client.put(f"/api/v1/alert-rules/{rid}", json=rule | {"name": "Looting (changed)"},
                   headers=mission.headers("analyst"))
    assert r.status_code == 200 and r.json()["name"] == "Looting (changed)"
    assert client.delete(f"/api/v1/alert-rules/{rid}", headers=mission.headers("analyst")).status_code == 200
    names = [x["name"] for x in client.get("/api/v1/alert-rules", headers=mission.headers("analyst")).json()["items"]]
    assert "Looting (changed)" not in names
    assert client.delete(f"/api/v1/alert-rules/{rid}", headers=mission.headers("analyst")).status_code == 404


def test_bad_rules_are_refused_naming_the_field(client, mission) -> None:
    h = mission.headers("analyst")
    base = {"name": "x", "conditions": {}, "audience": {"roles": ["hq_analyst"]}}
    cases = [
        (base | {"conditions": {"categories": ["no_such_thing"]}}, "conditions.categories"),
        (base | {"conditions": {"min_severity": 9}}, "conditions.min_severity"),
        (base | {"audience": {"roles": ["admin"]}}, "audience.roles.0"),
        (base | {"audience": {"roles": []}}, "audience.roles"),
        (base | {"escalation": [{"after_minutes": 30, "roles": ["commander"]},
                                {"after_minutes": 10, "roles": ["patrol"]}]}, "escalation"),
        (base | {"conditions": {"cluster": {"count": 1, "hours": 2, "km": 3}}}, "conditions.cluster.count"),
        (base | {"surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/alert-rules", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == "invalid_input" and r.json()["field"].startswith(field), (field, r.json())
    r = client.put("/api/v1/alert-rules/9999", json=base, headers=h)
    assert r.status_code == 404


def test_only_hq_and_admin_manage_rules(client, mission) -> None:
    for user in ("patrol_a", "commander_a"):
        assert client.get("/api/v1/alert-rules", headers=mission.headers(user)).status_code == 403
    for user in ("analyst", "protection", "hr", "admin"):
        assert client.get("/api/v1/alert-rules", headers=mission.headers(user)).status_code == 200
