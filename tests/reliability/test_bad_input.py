"""Bad input on the sync and attachment paths: only clear 4xx answers, nothing half-written.

Hypothesis throws random JSON at ``POST /sync/push`` and random bytes and names at
``PUT /chunks/{sha256}``; the report-body parser itself is fuzzed in tests/common. Then the
hand-picked attacks not covered in tests/server/meta: deep JSON and wrong content types on the
sync path, and path traversal through attachment names and hashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import Mission, report_body, version_entry
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import chunks, versions
from peacewatch.server.problems import Code

CODES = {c.value for c in Code}
FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
sha_like = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _entry_mutations(mission: Mission) -> st.SearchStrategy[dict]:
    """A real push entry with one field replaced by random JSON, or one extra field."""
    base = version_entry(report_body(), mission.device_id("patrol_a"))
    keys = st.sampled_from([*base.keys(), "extra"])
    return st.builds(lambda k, v: base | {k: v}, keys, json_values)


def _assert_clear_refusal_or_answer(r) -> None:
    assert r.status_code < 500, r.text
    body = r.json()
    if r.status_code >= 400:
        assert body["error"] in CODES and body["message"], body
    else:
        for result in body["results"]:
            assert result["status"] in ("stored", "duplicate", "rejected")
            if result["status"] == "rejected":
                assert result["code"] and result["reason"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_push_of_random_json_is_a_clear_answer_and_stores_only_valid_versions(mission: Mission) -> None:
    headers = mission.device_headers("patrol_a") | {"Content-Type": "application/json"}
    stored_ok: set[str] = set()

    @FUZZ
    @given(payload=st.one_of(json_values, st.builds(lambda e: {"versions": e}, st.lists(_entry_mutations(mission),
                                                                                        max_size=3))))
    def check(payload: object) -> None:
        r = mission.client.post("/api/v1/sync/push", content=json.dumps(payload), headers=headers)
        _assert_clear_refusal_or_answer(r)
        if r.status_code == 200:
            stored_ok.update(x["version_id"] for x in r.json()["results"] if x["status"] == "stored")

    check()
    with mission.engine.connect() as conn:
        # A refused batch writes nothing: the database holds exactly the versions answered "stored".
        assert set(conn.execute(select(versions.c.version_id)).scalars()) == stored_ok


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_chunk_upload_of_random_bytes_and_names_is_a_clear_answer(mission: Mission, settings: Settings) -> None:
    headers = mission.device_headers("patrol_a")

    @FUZZ
    @given(data=st.binary(max_size=2048), name=st.one_of(sha_like, st.text(max_size=70)), honest=st.booleans(),
           content_type=st.sampled_from(["application/octet-stream", "text/plain", "application/json", ""]))
    def check(data: bytes, name: str, honest: bool, content_type: str) -> None:
        sha = hashlib.sha256(data).hexdigest() if honest else quote(name, safe="")
        r = mission.client.put(f"/api/v1/chunks/{sha}", content=data,
                               headers=headers | ({"Content-Type": content_type} if content_type else {}))
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert r.json()["error"] in CODES
        else:
            assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()

    check()
    root = settings.attachments_dir
    with mission.engine.connect() as conn:
        rows = set(conn.execute(select(chunks.c.sha256)).scalars())
    files = {p.name for p in (root / "chunks").rglob("*") if p.is_file()} if (root / "chunks").exists() else set()
    # Every file on disk is a whole chunk named by its own hash, and the database names exactly them.
    assert files == rows
    for name in files:
        assert hashlib.sha256((root / "chunks" / name[:2] / name).read_bytes()).hexdigest() == name
    assert not (root / "tmp").exists() or list((root / "tmp").iterdir()) == []


def test_deep_json_and_wrong_content_types_on_the_sync_path(mission: Mission) -> None:
    headers = mission.device_headers("patrol_a")
    deep = b'{"versions": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    r = mission.client.post("/api/v1/sync/push", content=deep, headers=headers | {"Content-Type": "application/json"})
    assert r.status_code in (400, 422) and r.json()["error"] in ("invalid_json", "invalid_input")
    entry = version_entry(report_body(), mission.device_id("patrol_a"))
    body = json.dumps({"versions": [entry]})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = mission.client.post("/api/v1/sync/push", content=body, headers=headers | {"Content-Type": content_type})
        assert 400 <= r.status_code < 500, (content_type, r.status_code, r.text)
        assert r.json()["error"] in CODES
    # A body deeply nested inside a report stays a per-version answer or a clear refusal, never a 500.
    r = mission.client.post("/api/v1/sync/push", content=_dump_deep(report_body(), mission),
                            headers=headers | {"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500 or r.json()["results"][0]["status"] == "rejected", r.text
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 0


def _dump_deep(body: dict, mission: Mission) -> bytes:
    """json.dumps recurses; build the deep description by hand so the client side does not overflow."""
    depth = 3000
    desc = '{"a":' * depth + '"x"' + "}" * depth
    flat = dict(body, description="@@DEEP@@")
    entry = version_entry(flat, mission.device_id("patrol_a"))
    return json.dumps({"versions": [entry]}).replace('"@@DEEP@@"', desc).encode()


@pytest.mark.parametrize("name", ["../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/secret",
                                  "a" * 63 + "/", "A" * 64, "0" * 63 + "g", "0" * 64 + "/../x"])
def test_path_traversal_in_chunk_and_attachment_names_is_refused(mission: Mission, settings: Settings,
                                                                 name: str, tmp_path: Path) -> None:
    headers = mission.device_headers("patrol_a")
    r = mission.client.put(f"/api/v1/chunks/{name}", content=b"x",
                           headers=headers | {"Content-Type": "application/octet-stream"})
    assert r.status_code in (404, 405, 422), r.text
    r = mission.client.get(f"/api/v1/attachments/{name}", headers=headers)
    assert r.status_code in (404, 405, 422), r.text
    assert b"root:" not in r.content
    r = mission.client.post(f"/api/v1/attachments/{name}", json={"chunks": [], "size": 0, "media_type": "image/jpeg"},
                            headers=headers)
    assert r.status_code in (404, 405, 422), r.text
    r = mission.client.post("/api/v1/attachments/missing", json={"chunks": [name]}, headers=headers)
    assert r.status_code == 422 and r.json()["field"].startswith("chunks")
    written = [p for p in settings.data_dir.rglob("*") if p.is_file()] if settings.data_dir.exists() else []
    assert all(settings.data_dir in p.parents for p in written)
    assert not any(p.name in ("passwd", "secret", "x") for p in written)


def test_attachment_display_names_with_paths_never_become_file_names(mission: Mission, settings: Settings) -> None:
    data = b"evidence photo bytes"
    sha = hashlib.sha256(data).hexdigest()
    headers = mission.device_headers("patrol_a")
    r = mission.client.put(f"/api/v1/chunks/{sha}", content=data,
                           headers=headers | {"Content-Type": "application/octet-stream"})
    assert r.status_code == 201
    r = mission.client.post(f"/api/v1/attachments/{sha}", json={"chunks": [sha], "size": len(data),
                                                                "media_type": "text/html"}, headers=headers)
    assert r.status_code == 201, r.text
    def push_named(name: str) -> dict:
        body = report_body(attachments=[{"sha256": sha, "size": len(data), "media_type": "text/html", "name": name}])
        r = mission.client.post("/api/v1/sync/push", headers=headers,
                                json={"versions": [version_entry(body, mission.device_id("patrol_a"))]})
        if r.status_code == 422:
            # Text no database can hold (NUL) is refused before any version is read, naming the entry's
            # field; the tablet rejects exactly that version (mobile/core/sync_client.py).
            field = r.json()["field"].split(".", 2)
            return {"status": "rejected", "field": field[2]} if field[:2] == ["versions", "0"] else r.json()
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    for name in ("../../../../tmp/owned.html", "..\\..\\boot.ini", "a/b.jpg", "evil\x00.jpg"):
        result = push_named(name)
        assert result["status"] == "rejected" and result["field"] == "body.attachments.0.name", result
    assert push_named("owned.html")["status"] == "stored"
    r = mission.client.get(f"/api/v1/attachments/{sha}", headers=mission.headers("commander_a"))
    assert r.status_code == 200 and r.content == data
    # The download is named by its hash only, served as a sandboxed download, never as a page.
    assert r.headers["content-disposition"] == f'attachment; filename="{sha}"'
    assert "sandbox" in r.headers["content-security-policy"]
    assert {p.name for p in settings.attachments_dir.rglob("*") if p.is_file()} == {sha}
    with mission.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 1
