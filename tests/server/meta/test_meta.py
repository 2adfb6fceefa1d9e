"""Health, the report JSON Schemas, the taxonomy, errors and request limits."""

from __future__ import annotations

import gzip
import json

from peacewatch.server.db.migrate import head_revision


def test_health(client) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["schema_version"] == head_revision()
    assert body["database"] in ("sqlite", "postgresql")


def test_schema_drives_forms(client) -> None:
    kinds = client.get("/api/v1/schema").json()["kinds"]
    assert set(kinds) == {"incident", "patrol", "hr_concern"}
    assert "conflict_related_sexual_violence" in kinds["hr_concern"]["properties"]["category"]["enum"]
    assert "route" in kinds["patrol"]["properties"]


def test_taxonomy_has_three_languages(client) -> None:
    cats = client.get("/api/v1/taxonomy").json()["categories"]
    crsv = next(c for c in cats if c["code"] == "conflict_related_sexual_violence")
    assert set(crsv["labels"]) == {"en", "fr", "ar"}
    assert crsv["default_confidentiality"] == "restricted"
    # Lists the taxonomy holds as sets are answered sorted: one order on every server start.
    assert all(c["related"] == sorted(c["related"]) and c["kinds"] == sorted(c["kinds"]) for c in cats)
    assert crsv["related"] == ["abduction", "attack_on_civilians", "torture_ill_treatment"]


def test_security_headers(client) -> None:
    r = client.get("/api/v1/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_oversized_and_bad_bodies(client, mission) -> None:
    headers = mission.headers("admin") | {"Content-Type": "application/json"}
    limit = client.app.state.settings.max_body_bytes
    r = client.post("/api/v1/admin/contingents", content=b"x" * (limit + 1), headers=headers)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    bomb = gzip.compress(b"{" + b" " * (limit + 10) + b"}")
    r = client.post("/api/v1/admin/contingents", content=bomb, headers=headers | {"Content-Encoding": "gzip"})
    assert r.status_code == 413
    r = client.post("/api/v1/admin/contingents", content=b"{not json", headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
    r = client.post("/api/v1/admin/contingents", content=b"{}", headers=headers | {"Content-Encoding": "br"})
    assert r.status_code == 415
    deep = b"[" * 5000 + b"]" * 5000
    r = client.post("/api/v1/admin/contingents", content=deep, headers=headers)
    assert r.status_code in (400, 422)


def test_gzip_body_accepted(client, mission) -> None:
    body = gzip.compress(json.dumps({"code": "CHARLIE", "name": "Charlie Company"}).encode())
    r = client.post("/api/v1/admin/contingents", content=body,
                    headers=mission.headers("admin") | {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 201, r.text
    assert r.json()["code"] == "CHARLIE"


def test_unknown_path_is_json_404(client) -> None:
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
