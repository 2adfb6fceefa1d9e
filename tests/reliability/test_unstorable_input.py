"""Input that once gave a 5xx, by class: each now gets a 4xx whose JSON names the field.

Classes: integers past 64 bits; times out of range once in UTC (and a cursor's time without
zone); GeoJSON nested thousands deep; text no database can hold (NUL, unpaired surrogates,
invalid UTF-8) in path, query, JSON and form bodies, signed in or not; corrupt, truncated or
trailer-less gzip bodies. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import gzip
import json
import typing
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories import PASSWORD, Mission, report_body, version_entry
from peacewatch.server.db.tables import audit_log, versions
from peacewatch.server.input_checks import INT64_MAX
from peacewatch.server.route_policy import _flat_routes

DEEP_AREA = '{"type":"Polygon","coordinates":' + "[" * 5000 + "]" * 5000 + "}"


def _cursor(time_text: str, report_id: Any = "00000000-0000-0000-0000-000000000000") -> str:
    return base64.urlsafe_b64encode(json.dumps([time_text, report_id]).encode()).decode()


def _lenient(mission: Mission) -> TestClient:
    """The same app, but a server error comes back as a response instead of raising in the test."""
    return TestClient(mission.client.app, raise_server_exceptions=False)


def _assert_names(r, field: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    body = r.json()
    assert body["field"] == field, body
    assert body["error"] in ("invalid_input", "invalid_json"), body


# (who, path with query, field named)
QUERY_CASES = [
    ("analyst", f"/api/v1/sync/pull?since={2**63}", "since"),
    ("analyst", f"/api/v1/sync/pull?since={10**30}", "since"),
    ("admin", f"/api/v1/audit?after={2**63}", "after"),
    ("analyst", f"/api/v1/duplicates?offset={2**64}", "offset"),
    ("analyst", f"/api/v1/duplicates/{2**63}", "proposal_id"),
    ("analyst", f"/api/v1/reports?cursor={_cursor('2026-01-01T00:00:00')}", "cursor"),
    ("analyst", f"/api/v1/reports?cursor={_cursor('9999-12-31T23:00:00-05:00')}", "cursor"),
    ("analyst", f"/api/v1/reports?cursor={_cursor('2026-01-01T00:00:00+00:00', 'a' + chr(0) + 'b')}", "cursor"),
    ("analyst", f"/api/v1/reports?area={DEEP_AREA}", "area"),
    ("analyst", "/api/v1/reports?start=0001-01-01T00:00:00%2B05:00", "start"),
    ("analyst", "/api/v1/reports?end=9999-12-31T23:59:59-05:00", "end"),
    ("analyst", "/api/v1/hotspots?start=0001-01-01T00:00:00%2B05:00", "start"),
    ("analyst", "/api/v1/hotspots/emerging?end=9999-12-31T23:59:59-05:00", "end"),
    ("analyst", "/api/v1/exports/csv?end=9999-12-31T23:59:59-05:00", "end"),
    ("admin", "/api/v1/audit?since=9999-12-31T23:59:59-05:00", "since"),
    ("analyst", "/api/v1/reports?q=victim%00name", "q"),
    ("analyst", "/api/v1/reports?category=a%00b", "category"),
    ("analyst", "/api/v1/reports?contingent=ALPHA&contingent=a%00b", "contingent"),
    ("analyst", "/api/v1/reports?q=%ED%A0%80", "q"),  # a surrogate as (invalid) UTF-8
    ("analyst", "/api/v1/reports?q=%FF", "q"),
    ("analyst", "/api/v1/reports/a%00b", "report_id"),
    ("analyst", "/api/v1/reports/a%00b/versions", "report_id"),
    ("analyst", "/api/v1/incidents/a%00b", "incident_id"),
    ("admin", "/api/v1/audit?actor=a%00b", "actor"),
    ("admin", "/api/v1/audit?target=%00", "target"),
    ("analyst", "/api/v1/exports/csv?q=%00", "q"),
]


@pytest.mark.parametrize(("who", "url", "field"), QUERY_CASES, ids=[c[1][:50] for c in QUERY_CASES])
def test_bad_query_and_path_values_are_a_4xx_naming_the_field(mission: Mission, who: str, url: str,
                                                              field: str) -> None:
    r = _lenient(mission).get(url, headers=mission.headers(who))
    _assert_names(r, field)


def test_bad_text_in_a_write_route_path_writes_nothing(mission: Mission) -> None:
    client = _lenient(mission)
    with mission.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    r = client.post("/api/v1/admin/users/a%00b/disable", headers=mission.headers("admin"))
    _assert_names(r, "username")
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == before


@pytest.mark.parametrize("username", ["ana\x00lyst", "ana\ud800lyst", "\udfff"])
def test_unauthenticated_login_with_unstorable_username(mission: Mission, username: str) -> None:
    # ensure_ascii: the lone surrogate travels as a \\ud800 escape, as a hostile client would send it
    r = _lenient(mission).post("/api/v1/auth/login", content=json.dumps({"username": username, "password": "x"}),
                               headers={"Content-Type": "application/json"})
    _assert_names(r, "username")


def test_dashboard_login_form_with_nul_username(mission: Mission) -> None:
    client = TestClient(mission.client.app, raise_server_exceptions=False, follow_redirects=False)
    form = client.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", content=f"username=ana%00lyst&password=x&csrf={csrf}&next=",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    _assert_names(r, "username")


def test_dashboard_page_query_with_nul(mission: Mission) -> None:
    client = TestClient(mission.client.app, raise_server_exceptions=False, follow_redirects=False)
    client.cookies.set("pw_session", mission.tokens["analyst"])
    r = client.get("/reports?q=%00")
    _assert_names(r, "q")


def test_nul_in_a_pushed_version_names_the_entry_and_stores_nothing(mission: Mission) -> None:
    good = version_entry(report_body(), mission.device_id("patrol_a"))
    bad = version_entry(report_body(title="market\x00attack"), mission.device_id("patrol_a"))
    r = _lenient(mission).post("/api/v1/sync/push", content=json.dumps({"versions": [good, bad]}),
                               headers=mission.device_headers("patrol_a") | {"Content-Type": "application/json"})
    # The tablet rejects exactly the named entry and sends the rest again (mobile/core/sync_client.py).
    _assert_names(r, "versions.1.body.title")
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 0


def test_paired_surrogates_and_escaped_backslashes_are_ordinary_text(mission: Mission) -> None:
    # An emoji as a surrogate pair escape, and the six characters "\\u0000" typed on purpose.
    body = report_body(title="smoke \U0001F525 seen", description="the text \\u0000 typed literally")
    entry = version_entry(body, mission.device_id("patrol_a"))
    r = mission.client.post("/api/v1/sync/push", content=json.dumps({"versions": [entry]}),
                            headers=mission.device_headers("patrol_a") | {"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_report_times_past_the_calendar_once_in_utc_are_rejected_per_version(mission: Mission, when: str) -> None:
    entry = version_entry(report_body() | {"event_time": when}, mission.device_id("patrol_a"))
    r = _lenient(mission).post("/api/v1/sync/push", content=json.dumps({"versions": [entry]}),
                               headers=mission.device_headers("patrol_a") | {"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "rejected" and result["field"] == "body.event_time", result
    late = version_entry(report_body(), mission.device_id("patrol_a")) | {"device_time": when}
    r = _lenient(mission).post("/api/v1/sync/push", content=json.dumps({"versions": [late]}),
                               headers=mission.device_headers("patrol_a") | {"Content-Type": "application/json"})
    _assert_names(r, "versions.0.device_time")


def test_integer_past_64_bits_in_a_body(mission: Mission) -> None:
    r = _lenient(mission).post("/api/v1/attachments/" + "0" * 64,
                               json={"chunks": ["0" * 64], "size": 2**64, "media_type": "image/jpeg"},
                               headers=mission.device_headers("patrol_a"))
    _assert_names(r, "size")


def _gzip_variants() -> dict[str, bytes]:
    good = gzip.compress(json.dumps({"username": "analyst", "password": PASSWORD}).encode())
    return {
        "garbage after the header": good[:10] + b"not deflate at all" * 3,
        "no CRC trailer": good[:-8],
        "truncated": good[: len(good) // 2],
        "trailing bytes": good + b"extra",
    }


@pytest.mark.parametrize("variant", list(_gzip_variants()))
def test_corrupt_gzip_bodies_are_refused_never_read_as_empty(mission: Mission, variant: str) -> None:
    r = _lenient(mission).post("/api/v1/auth/login", content=_gzip_variants()[variant],
                               headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_json" and r.json()["field"] == "body"


def test_a_whole_gzip_body_still_works(mission: Mission) -> None:
    good = gzip.compress(json.dumps({"username": "analyst", "password": PASSWORD}).encode())
    r = mission.client.post("/api/v1/auth/login", content=good,
                            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def test_every_integer_the_api_takes_is_bounded_to_64_bits(client) -> None:
    """The class rule, checked on the OpenAPI: a new unbounded integer parameter or field fails here."""
    spec = client.app.openapi()
    unbounded: list[str] = []

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "integer":
                lo, hi = schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum")
                if lo is None or hi is None or hi > INT64_MAX or lo < -INT64_MAX - 1:
                    unbounded.append(where)
            for key, value in schema.items():
                walk(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                walk(value, f"{where}[{i}]")

    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                walk(param["schema"], f"{method.upper()} {path} {param['name']}")
            walk(op.get("requestBody", {}), f"{method.upper()} {path} body")
    # Request bodies reference components; responses are ours, so only components used as input count.
    used = json.dumps([op.get("requestBody", {}) for ops in spec["paths"].values() for op in ops.values()])
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if f'"#/components/schemas/{name}"' in used:  # quoted: SavedFilter is not SavedFilterIn
            walk(schema, f"component {name}")
    assert unbounded == [], unbounded


def _params(dependant: Dependant) -> list:
    found = list(dependant.query_params) + list(dependant.path_params)
    for sub in dependant.dependencies:
        found += _params(sub)
    return found


def test_every_integer_parameter_of_every_route_and_page_is_bounded(client) -> None:
    """Dashboard pages are not in the OpenAPI: the same rule, read from the routes themselves."""
    unbounded = []
    for path, route in _flat_routes(client.app.routes):
        if not isinstance(route, APIRoute):
            continue
        for param in _params(route.dependant):
            annotation = param.field_info.annotation
            if int not in (annotation, *typing.get_args(annotation)):
                continue
            upper = [m.le for m in param.field_info.metadata if getattr(m, "le", None) is not None]
            lower = [m.ge for m in param.field_info.metadata if getattr(m, "ge", None) is not None]
            if not upper or not lower or max(upper) > INT64_MAX or min(lower) < -INT64_MAX - 1:
                unbounded.append(f"{path} {param.alias}")
    assert unbounded == [], unbounded
