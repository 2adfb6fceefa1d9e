"""Attachments through HTTP: missing -> upload -> resume -> commit -> hash checks -> download by role."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from factories import Mission, report_body, version_entry
from peacewatch.server.attachments import service
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import audit_log, chunks

CHUNK = 256 * 1024
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split(data: bytes) -> list[bytes]:
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


def put(mission: Mission, user: str, data: bytes, name: str | None = None) -> Any:
    return mission.client.put(f"/api/v1/chunks/{name or sha(data)}", content=data,
                              headers=mission.device_headers(user) | {"Content-Type": "application/octet-stream"})


def missing(mission: Mission, user: str, hashes: list[str]) -> list[str]:
    r = mission.client.post("/api/v1/attachments/missing", json={"chunks": hashes}, headers=mission.device_headers(user))
    assert r.status_code == 200, r.text
    return r.json()["missing"]


def commit(mission: Mission, user: str, file_sha: str, hashes: list[str], size: int,
           media_type: str = "image/jpeg") -> Any:
    return mission.client.post(f"/api/v1/attachments/{file_sha}", headers=mission.device_headers(user),
                               json={"chunks": hashes, "size": size, "media_type": media_type})


def upload(mission: Mission, user: str, data: bytes, media_type: str = "image/jpeg") -> str:
    parts = split(data)
    for p in parts:
        assert put(mission, user, p).status_code in (200, 201)
    r = commit(mission, user, sha(data), [sha(p) for p in parts], len(data), media_type)
    assert r.status_code == 201, r.text
    return sha(data)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_resume_commit_and_hash_checks(mission: Mission, settings: Settings) -> None:
    data = os.urandom(CHUNK * 2 + 1000)
    parts = split(data)
    hashes = [sha(p) for p in parts]
    assert missing(mission, "patrol_a", hashes + [hashes[0]]) == hashes  # no repeats
    r = put(mission, "patrol_a", parts[0])
    assert r.status_code == 201 and r.json() == {"sha256": hashes[0], "size": CHUNK, "status": "stored"}
    assert put(mission, "patrol_a", parts[0]).json()["status"] == "duplicate"
    assert put(mission, "patrol_a", parts[0]).status_code == 200
    # The link dropped: resuming asks again and sends only what is missing.
    assert missing(mission, "patrol_a", hashes) == hashes[1:]
    r = put(mission, "patrol_a", parts[1], name=hashes[2])
    assert r.status_code == 422 and r.json()["error"] == "hash_mismatch" and r.json()["field"] == "sha256"
    # Committing before every chunk is here names the absent ones.
    r = commit(mission, "patrol_a", sha(data), hashes, len(data))
    assert r.status_code == 422 and r.json()["field"] == "chunks" and r.json()["missing"] == hashes[1:]
    for p in parts[1:]:
        assert put(mission, "patrol_a", p).status_code == 201
    assert missing(mission, "patrol_a", hashes) == []
    r = commit(mission, "patrol_a", sha(data), hashes, len(data) + 1)
    assert r.status_code == 422 and (r.json()["error"], r.json()["field"]) == ("hash_mismatch", "size")
    r = commit(mission, "patrol_a", sha(data), list(reversed(hashes)), len(data))
    assert r.status_code == 422 and (r.json()["error"], r.json()["field"]) == ("hash_mismatch", "sha256")
    r = commit(mission, "patrol_a", sha(data), hashes, len(data))
    assert r.status_code == 201 and r.json()["status"] == "stored"
    assert commit(mission, "patrol_a", sha(data), hashes, len(data)).status_code == 200
    # Chunks live in a fan-out directory, named by their hash; nothing is left in tmp/.
    root = settings.attachments_dir
    assert sorted(p.name for p in files_under(root / "chunks")) == sorted(hashes)
    assert all(p.parent.name == p.name[:2] for p in files_under(root / "chunks"))
    assert files_under(root / "tmp") == []
    # Holding a file grants no download: that goes through a report that references it.
    r = mission.client.get(f"/api/v1/attachments/{sha(data)}", headers=mission.device_headers("patrol_a"))
    assert r.status_code == 404
    ref = {"sha256": sha(data), "size": len(data), "media_type": "image/jpeg", "name": "x.jpg"}
    entry = version_entry(report_body(attachments=[ref]), mission.device_id("patrol_a"))
    r = mission.client.post("/api/v1/sync/push", headers=mission.device_headers("patrol_a"),
                            json={"versions": [entry]})
    assert r.json()["results"][0]["status"] == "stored"
    r = mission.client.get(f"/api/v1/attachments/{sha(data)}", headers=mission.device_headers("patrol_a"))
    assert r.status_code == 200 and r.content == data
    # Random bytes are no image, whatever type was declared: a download, never sniffed.
    assert r.headers["content-type"] == "application/octet-stream" and r.headers["content-length"] == str(len(data))
    assert r.headers["x-content-type-options"] == "nosniff"


def test_download_follows_the_reports_that_reference_the_file(mission: Mission) -> None:
    photo = upload(mission, "patrol_a", JPEG + b"photo of the market" * 100)
    secret = upload(mission, "patrol_a", JPEG + b"photo of the survivor" * 100)
    url = f"/api/v1/attachments/{photo}"
    # Before any report references it, nobody may read it, its uploader included.
    assert mission.client.get(url, headers=mission.headers("commander_a")).status_code == 404
    assert mission.client.get(url, headers=mission.headers("patrol_a")).status_code == 404
    ref = {"sha256": photo, "size": 1900, "media_type": "image/jpeg", "name": "market.jpg"}
    mission_body = report_body(attachments=[ref])
    ref2 = {"sha256": secret, "size": 2100, "media_type": "image/jpeg", "name": "s.jpg"}
    restricted_body = report_body(confidentiality="restricted", attachments=[ref2])
    device = mission.device_id("patrol_a")
    r = mission.client.post("/api/v1/sync/push", headers=mission.device_headers("patrol_a"), json={
        "versions": [version_entry(mission_body, device), version_entry(restricted_body, device)]})
    assert [x["status"] for x in r.json()["results"]] == ["stored", "stored"], r.text
    allowed = {"commander_a": 200, "analyst": 200, "protection": 200, "patrol_b": 404, "commander_b": 404,
               "admin": 403}
    for user, status in allowed.items():
        assert mission.client.get(url, headers=mission.headers(user)).status_code == status, user
    secret_url = f"/api/v1/attachments/{secret}"
    for user, status in (allowed | {"commander_a": 404, "analyst": 404, "hr": 200}).items():
        assert mission.client.get(secret_url, headers=mission.headers(user)).status_code == status, user
    assert mission.client.get(secret_url).status_code == 401
    with mission.engine.connect() as conn:
        reads = conn.execute(select(audit_log.c.actor).where(audit_log.c.action == "restricted_attachment_read")
                             ).scalars().all()
    assert sorted(reads) == ["hr", "protection"]
    # An unknown file is not found, for everyone.
    assert mission.client.get(f"/api/v1/attachments/{'0' * 64}", headers=mission.headers("hr")).status_code == 404
    # Uploaded bytes of a type a browser would run are served as a sandboxed download.
    page = upload(mission, "patrol_a", b"<script>alert(1)</script>", media_type="text/html")
    ref3 = {"sha256": page, "size": 25, "media_type": "text/html", "name": "p.html"}
    r = mission.client.post("/api/v1/sync/push", headers=mission.device_headers("patrol_a"), json={
        "versions": [version_entry(report_body(attachments=[ref3]), device)]})
    assert r.json()["results"][0]["status"] == "stored"
    # The photo is a JPEG by its bytes: shown inline, as image/jpeg.
    r = mission.client.get(url, headers=mission.headers("patrol_a"))
    assert r.headers["content-type"] == "image/jpeg" and r.headers["content-disposition"] == "inline"
    r = mission.client.get(f"/api/v1/attachments/{page}", headers=mission.headers("patrol_a"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in r.headers["content-security-policy"]


def test_bad_names_sizes_and_types_are_refused(mission: Mission, settings: Settings) -> None:
    h = mission.device_headers("patrol_a")
    for bad in ("ABC", "a" * 63, "A" * 64, "..%2F..%2Fetc%2Fpasswd", "." * 64, "g" * 64):
        for method, url in (("PUT", f"/api/v1/chunks/{bad}"), ("GET", f"/api/v1/attachments/{bad}"),
                            ("POST", f"/api/v1/attachments/{bad}")):
            r = mission.client.request(method, url, headers=h, content=b"x" if method == "PUT" else None,
                                       json={"chunks": [], "size": 1, "media_type": "a/b"} if method == "POST" else None)
            assert r.status_code in (404, 422), (method, url, r.status_code)
            if r.status_code == 422:
                assert r.json()["field"] == "sha256", r.text
    r = mission.client.post("/api/v1/attachments/missing", json={"chunks": ["../../x"]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "chunks.0"
    assert not settings.attachments_dir.exists() or files_under(settings.attachments_dir) == []
    big = b"x" * (settings.max_chunk_bytes + 1)
    r = put(mission, "patrol_a", big)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    r = mission.client.put(f"/api/v1/chunks/{sha(b'hi')}", content=b"hi",
                           headers=mission.device_headers("patrol_a") | {"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    r = mission.client.post("/api/v1/attachments/missing", json={"chunks": [sha(b"")] * 10_001},
                            headers=mission.device_headers("patrol_a"))
    assert r.status_code == 422 and r.json()["field"] == "chunks"
    # Uploads need the submit permission.
    r = mission.client.put(f"/api/v1/chunks/{sha(b'hi')}", content=b"hi", headers=mission.headers("admin"))
    assert r.status_code == 403


def test_disk_full_is_507_and_leaves_no_partial_file_and_lost_chunks_are_missing(mission: Mission, settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(CHUNK)
    real_write = service._write_all

    def half_then_full(fd: int, payload: bytes) -> None:
        real_write(fd, payload[: len(payload) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(service, "_write_all", half_then_full)
    r = put(mission, "patrol_a", data)
    assert r.status_code == 507 and r.json()["error"] == "storage_full"
    assert files_under(settings.attachments_dir) == []
    with mission.engine.connect() as conn:
        assert conn.execute(select(chunks)).first() is None
    assert missing(mission, "patrol_a", [sha(data)]) == [sha(data)]
    monkeypatch.setattr(service, "_write_all", real_write)
    assert put(mission, "patrol_a", data).status_code == 201
    path = settings.attachments_dir / "chunks" / sha(data)[:2] / sha(data)
    assert path.read_bytes() == data
    # A chunk whose file vanished (a restored backup, an operator's mistake) counts as missing again.
    path.unlink()
    assert missing(mission, "patrol_a", [sha(data)]) == [sha(data)]
    assert put(mission, "patrol_a", data).status_code == 201
    assert missing(mission, "patrol_a", [sha(data)]) == []
