"""Every query and path parameter of the OpenAPI, and every JSON body, with hostile values: no 5xx.

Walks ``/api/v1/openapi.json`` and, for each parameter, sends the values its declared type
invites abuse with: integers past 64 bits, NUL, unpaired surrogates and invalid UTF-8, dates at
the edges of the calendar with offsets that push them over, a time without zone, JSON nested
thousands deep. Then hypothesis draws random values of the same classes. Every JSON body gets
the same text classes in each of its fields, and a deeply nested document. The caller is a role
the route's policy allows, so the values reach the handlers. Runs on SQLite and PostgreSQL;
every 4xx must be one of the catalogue's codes, and a 422 must name a field.

tests/reliability/test_openapi_fuzz.py (schemathesis, SQLite) checks conformance to the schema;
this file is the database-facing half.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import Mission, report_body, version_entry
from peacewatch.server.access import Permission
from peacewatch.server.problems import Code
from peacewatch.server.route_policy import _flat_routes, declared_permissions, route_table

CODES = {c.value for c in Code}
DEEP = "[" * 5000 + "]" * 5000
DEEP_AREA = '{"type":"Polygon","coordinates":' + DEEP + "}"

INTEGERS = [str(2**63), str(-(2**63) - 1), str(2**64), str(10**40), "-1", "1e400", "0x10", ""]
TEXTS = ["a\x00b", "\x00", "\ud800", "x\udfffy", "\udbff\udbff", "\ufffe", "%FF", DEEP, "x" * 20_000, "../../etc"]
DATES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z",
         "9999-12-31T23:59:59Z", "2026-01-01T00:00:00", "+275760-09-13T00:00:00Z", "2026-13-45T99:99:99",
         "2026-01-01T00:00:00+99:00", "\x00"]
NUMBERS = ["1e400", "-1e400", "nan", "inf", str(2**64), "\x00"]

# A caller the policy lets through, so hostile values reach the handler.
CALLER = {Permission.PUBLIC: None, Permission.ADMIN: "admin"}
DEFAULT_CALLER = "analyst"  # reads, submits, reviews, analyses and exports


def _encode(value: str) -> str:
    # Lone surrogates are sent as the (invalid) UTF-8 a hostile client would write; "%FF" stays raw.
    if value == "%FF":
        return value
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _kind(schema: dict[str, Any]) -> str:
    options = schema.get("anyOf") or [schema]
    for option in options:
        if option.get("type") == "array":
            return _kind(option.get("items", {}))
        if option.get("format") == "date-time":
            return "date"
        if option.get("type") in ("integer", "number", "boolean"):
            return option["type"]
    return "string"


def _values(kind: str, name: str) -> list[str]:
    extra = [DEEP_AREA] if name == "area" else []
    return {"integer": INTEGERS + TEXTS[:3], "number": NUMBERS, "boolean": ["maybe", "\x00"],
            "date": DATES + TEXTS[:3]}.get(kind, TEXTS) + extra


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any], str | None]]:
    policy = {(m, p): perm for m, p, perm in route_table(client.app)}
    out = []
    for path, ops in client.app.openapi()["paths"].items():
        for method, op in ops.items():
            perm = policy.get((method.upper(), path))
            out.append((method.upper(), path, op, CALLER.get(perm, DEFAULT_CALLER)))
    return out


def _url(path: str, op: dict[str, Any], hostile: tuple[str, str] | None) -> str:
    """The path with harmless ids (nothing exists under them) and one parameter, if any, hostile."""
    url = path
    query = []
    for param in op.get("parameters", []):
        name = param["name"]
        if hostile and name == hostile[0]:
            value = _encode(hostile[1])
        elif param["in"] == "path":
            value = "csv" if name in ("fmt", "format") else ("7" if _kind(param["schema"]) == "integer" else "nobody")
        else:
            continue
        if param["in"] == "path":
            url = url.replace("{" + name + "}", value)
        else:
            query.append(f"{quote(name)}={value}")
    return url + ("?" + "&".join(query) if query else "")


def _check(r, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        assert body.get("error") in CODES, (what, body)
        if r.status_code == 422:
            assert body.get("field"), (what, body)


def _call(client: TestClient, mission: Mission, method: str, url: str, user: str | None,
          body: bytes | None = None) -> Any:
    headers = mission.headers(user) if user else {}
    if body is not None or method in ("POST", "PUT", "PATCH"):
        headers = headers | {"Content-Type": "application/json"}
    return client.request(method, url, headers=headers, content=body if body is not None else
                          (b"{}" if method in ("POST", "PUT", "PATCH") else None), follow_redirects=False)


def _body_fields(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None)
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


@pytest.fixture
def lenient(mission: Mission) -> TestClient:
    """The mission's app; a server error comes back as a 500 response rather than raising."""
    return TestClient(mission.client.app, raise_server_exceptions=False)


def test_every_parameter_with_every_hostile_value_of_its_type(lenient: TestClient, mission: Mission) -> None:
    sent = 0
    for method, path, op, user in _operations(lenient):
        for param in op.get("parameters", []):
            for value in _values(_kind(param["schema"]), param["name"]):
                url = _url(path, op, (param["name"], value))
                _check(_call(lenient, mission, method, url, user), f"{method} {path} {param['name']}={value[:40]!r}")
                sent += 1
    assert sent > 500  # the whole API, not an empty schema


def test_every_json_body_with_unstorable_text_and_deep_nesting(lenient: TestClient, mission: Mission) -> None:
    spec = lenient.app.openapi()
    bodies = 0
    for method, path, op, user in _operations(lenient):
        if "requestBody" not in op:
            continue
        url = _url(path, op, None)
        fields = _body_fields(spec, op)
        for text in ("a\x00b", "\ud800", "x\udfffy"):
            # ensure_ascii: NUL and lone surrogates travel as \\u escapes, as JSON allows
            doc = json.dumps({f: text for f in fields} or {"x": text}).encode()
            r = _call(lenient, mission, method, url, user, doc)
            _check(r, f"{method} {path} body {text!r}")
            assert r.status_code != 200 or path.endswith("/missing"), (path, r.text[:200])
        for doc in (DEEP.encode(), ('{"' + (fields or ["x"])[0] + '": ' + DEEP + "}").encode(),
                    json.dumps({f: 2**64 for f in fields}).encode()):
            _check(_call(lenient, mission, method, url, user, doc), f"{method} {path} deep/huge body")
        bodies += 1
    assert bodies > 10


def test_every_report_field_with_hostile_values_through_push(lenient: TestClient, mission: Mission) -> None:
    """The report body is JSON inside JSON: each of its fields gets the same classes, one at a time."""
    base = report_body(kind="hr_concern", category="conflict_related_sexual_violence", confidentiality="restricted")
    values: list[Any] = [2**64, -(2**63) - 1, 1e308, "a\x00b", "\ud800", DATES[0], DATES[1], DATES[4],
                         {"a": [{"b": "\x00"}]}, [[[[["\udfff"]]]]]]
    headers = mission.device_headers("patrol_a") | {"Content-Type": "application/json"}

    def entry_of(body: dict[str, Any]) -> dict[str, Any]:
        try:
            return version_entry(body, mission.device_id("patrol_a"))
        except UnicodeEncodeError:  # a lone surrogate has no canonical form to hash: send it under any id
            return version_entry(base, mission.device_id("patrol_a")) | {"body": body}

    for field in [k for k in base if k != "id"]:
        for value in values:
            entry = entry_of(base | {field: value})
            r = lenient.post("/api/v1/sync/push", content=json.dumps({"versions": [entry]}), headers=headers)
            _check(r, f"push body.{field}={value!r}")
            if r.status_code == 200:
                result = r.json()["results"][0]
                assert result["status"] in ("stored", "rejected"), result
    # Nested: a victim's name and a location coordinate.
    for value in values:
        victims = [dict(base["victims"][0], name=value)]
        for body in (base | {"victims": victims}, base | {"location": dict(base["location"], lat=value)}):
            entry = entry_of(body)
            _check(lenient.post("/api/v1/sync/push", content=json.dumps({"versions": [entry]}), headers=headers),
                   f"push nested {value!r}")


surrogate_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
hostile = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    surrogate_text,
    st.builds(lambda y, o: f"{y:04d}-06-15T12:00:00{o}", st.sampled_from([1, 2, 1970, 9998, 9999]),
              st.sampled_from(["Z", "+14:00", "-14:00", "+23:59", ""])),
    st.sampled_from(TEXTS + DATES + INTEGERS),
)


def test_random_hostile_values_on_random_parameters(lenient: TestClient, mission: Mission) -> None:
    targets = [(method, path, op, user, p["name"]) for method, path, op, user in _operations(lenient)
               for p in op.get("parameters", [])]

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(target=st.sampled_from(targets), value=hostile)
    def check(target: tuple[str, str, dict[str, Any], str | None, str], value: str) -> None:
        method, path, op, user, name = target
        _check(_call(lenient, mission, method, _url(path, op, (name, value)), user), f"{method} {path} {name}={value!r}")

    check()


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def test_dashboard_pages_with_hostile_query_and_path_values(mission: Mission) -> None:
    """The dashboard is not in the OpenAPI: walk its GET pages from the routes themselves."""
    browser = TestClient(mission.client.app, base_url="https://testserver", raise_server_exceptions=False,
                         follow_redirects=False)
    pages = [(path, route) for path, route in _flat_routes(mission.client.app.routes)
             if isinstance(route, APIRoute) and not path.startswith("/api/") and "GET" in (route.methods or ())]
    assert len(pages) > 10
    sent = 0
    for path, route in pages:
        perms = declared_permissions(route.dependant)
        browser.cookies.set("pw_session", mission.tokens["admin" if Permission.ADMIN in perms else "analyst"])
        base = path.replace("{", "").replace("}", "")  # a harmless literal where an id would go
        for value in ("a\x00b", "\ud800", "%FF", str(2**64), DATES[0], DATES[1], DEEP):
            encoded = _encode(value)
            urls = [f"{base}?{quote(name)}={encoded}" for name in _query_names(route.dependant)]
            if "{" in path:
                first = path.split("{", 1)[1].split("}", 1)[0]
                urls.append(path.replace("{" + first + "}", encoded).replace("{", "").replace("}", ""))
            for url in urls:
                r = browser.get(url)
                assert r.status_code < 500, (url[:120], r.status_code, r.text[:300])
                sent += 1
    assert sent > 100
