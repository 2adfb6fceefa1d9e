"""Regression tests for the attacks of issue 16 (items 1, 2, 3, 4, 7) and their variants, as classes.

Each test is an attack a holder of a legitimate low-privilege account tried, or a variant of it
(the reference made through an edit, a conflict resolution, a merged body; the old version read
through history, feed, conflicts, the dashboard, comments). Every test also checks the
legitimate path still works, so it can fail both ways.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select

from factories import Mission, report_body, version_entry
from peacewatch.common.schema import parse_report
from peacewatch.server.db.tables import audit_log, versions
from tests.web.helpers import csrf_of

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
SECRET = "SECRET-SURVIVOR-4471"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def sign_in(client: Any, username: str, password: str) -> None:
    """Sign the test client in to the dashboard through its form (cookie session)."""
    form = client.get("/login")
    r = client.post("/login", data={"username": username, "password": password, "csrf": csrf_of(form.text),
                                    "next": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def device(mission: Mission, user: str) -> str:
    if user not in mission.devices:
        mission.enrol_device(user)
    return mission.device_id(user)


def push(mission: Mission, user: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    device(mission, user)
    r = mission.client.post(PUSH, json={"versions": entries}, headers=mission.device_headers(user))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def file_report(mission: Mission, user: str, body: dict[str, Any], parents: list[str] | None = None) -> str:
    entry = version_entry(body, device(mission, user), parents)
    (result,) = push(mission, user, [entry])
    assert result["status"] == "stored", result
    return entry["version_id"]


def upload(mission: Mission, user: str, data: bytes, media_type: str = "image/jpeg") -> dict[str, Any]:
    """Send ``data`` as one chunk and commit it; the reference to put in a report body."""
    headers = mission.headers(user)
    r = mission.client.put(f"/api/v1/chunks/{sha(data)}", content=data,
                           headers=headers | {"Content-Type": "application/octet-stream"})
    assert r.status_code in (200, 201), r.text
    r = mission.client.post(f"/api/v1/attachments/{sha(data)}", headers=headers,
                            json={"chunks": [sha(data)], "size": len(data), "media_type": media_type})
    assert r.status_code in (200, 201), r.text
    return {"sha256": sha(data), "size": len(data), "media_type": media_type.lower(), "name": "photo.jpg"}


def get_file(mission: Mission, user: str, digest: str) -> int:
    return mission.client.get(f"/api/v1/attachments/{digest}", headers=mission.headers(user)).status_code


def audit_actions(mission: Mission, action: str) -> list[str]:
    with mission.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.actor).where(audit_log.c.action == action)).scalars())


def version_count(mission: Mission) -> int:
    with mission.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())


# ---------------------------------------------------------------------------------------------- 1


def _survivor_photo(mission: Mission) -> dict[str, Any]:
    photo = JPEG + f"survivor photo {SECRET}".encode()
    ref = upload(mission, "patrol_a", photo)
    file_report(mission, "patrol_a", report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                                 confidentiality="restricted", attachments=[ref]))
    return ref


def test_a_reference_grants_nothing_through_a_push_an_edit_or_a_resolution(mission: Mission) -> None:
    ref = _survivor_photo(mission)
    assert get_file(mission, "patrol_b", ref["sha256"]) == 404
    assert get_file(mission, "protection", ref["sha256"]) == 200
    # The attack: an ordinary report of patrol_b's own naming the photo.
    own = report_body(contingent="BRAVO", attachments=[ref])
    v1 = file_report(mission, "patrol_b", own)
    assert get_file(mission, "patrol_b", ref["sha256"]) == 404
    assert get_file(mission, "commander_b", ref["sha256"]) == 404  # nor anyone reading that report
    # Variant: an edit of the attacker's report, and a resolution by push of a conflict on it.
    left = file_report(mission, "patrol_b", own | {"title": "left"}, [v1])
    right = file_report(mission, "patrol_b", own | {"title": "right"}, [v1])
    file_report(mission, "patrol_b", own | {"title": "resolved"}, [left, right])
    assert get_file(mission, "patrol_b", ref["sha256"]) == 404
    # Variant: HQ's /resolve with a merged body naming the file.
    base = report_body(contingent="BRAVO")
    b1 = file_report(mission, "patrol_b", base)
    file_report(mission, "patrol_b", base | {"title": "x"}, [b1])
    file_report(mission, "patrol_b", base | {"title": "y"}, [b1])
    r = mission.client.post(f"/api/v1/reports/{base['id']}/resolve", headers=mission.headers("analyst"),
                            json={"body": base | {"attachments": [ref]}})
    assert r.status_code == 201, r.text
    assert get_file(mission, "analyst", ref["sha256"]) == 404
    # Variant: the dashboard's attachment route follows the same rule.
    sign_in(mission.client, "patrol_b", "correct horse battery")
    assert mission.client.get(f"/attachments/{ref['sha256']}", follow_redirects=False).status_code == 404
    assert sorted(audit_actions(mission, "restricted_attachment_read")) == ["protection"]


def test_knowing_a_chunk_hash_is_not_having_the_bytes(mission: Mission) -> None:
    ref = _survivor_photo(mission)
    digest = ref["sha256"]
    h = mission.headers("patrol_b")
    # missing: the chunk is on the server, but patrol_b never sent it.
    r = mission.client.post("/api/v1/attachments/missing", json={"chunks": [digest]}, headers=h)
    assert r.json() == {"missing": [digest]}
    # commit with it as a one-chunk file: the same answer as for a chunk nobody has, no size.
    unknown = sha(b"nobody has this")
    answers = []
    for name in (digest, unknown):
        r = mission.client.post(f"/api/v1/attachments/{name}", headers=h,
                                json={"chunks": [name], "size": 1, "media_type": "image/jpeg"})
        answers.append((r.status_code, r.json()["error"], r.json()["field"], r.json()["missing"]))
        assert str(ref["size"]) not in r.text and "image/jpeg" not in r.json()["message"]
    assert answers == [(422, "invalid_input", "chunks", [digest]), (422, "invalid_input", "chunks", [unknown])]
    assert get_file(mission, "patrol_b", digest) == 404
    # Whoever really has the bytes may send them: the answers are those of a first upload.
    data = JPEG + f"survivor photo {SECRET}".encode()
    r = mission.client.put(f"/api/v1/chunks/{digest}", content=data,
                           headers=h | {"Content-Type": "application/octet-stream"})
    assert (r.status_code, r.json()["status"]) == (201, "stored")
    r = mission.client.post(f"/api/v1/attachments/{digest}", headers=h,
                            json={"chunks": [digest], "size": len(data), "media_type": "text/plain"})
    assert (r.status_code, r.json()["status"], r.json()["media_type"]) == (201, "stored", "text/plain")
    # ... and a report of theirs then serves their own bytes (they hold the file).
    file_report(mission, "patrol_b", report_body(contingent="BRAVO", attachments=[ref]))
    assert get_file(mission, "patrol_b", digest) == 200
    # The file is held by a restricted report too: that read is audited as restricted.
    assert "patrol_b" in audit_actions(mission, "restricted_attachment_read")


def test_old_versions_do_not_lend_their_files_and_reads_are_audited_at_the_strictest_holder(
        mission: Mission) -> None:
    photo = upload(mission, "patrol_a", JPEG + b"first account photo")
    body = report_body(confidentiality="restricted", attachments=[photo])
    v1 = file_report(mission, "patrol_a", body)
    # Downgraded without the photo: the contingent reads the report, not the restricted version's file.
    file_report(mission, "patrol_a", body | {"confidentiality": "mission", "attachments": []}, [v1])
    assert get_file(mission, "commander_a", photo["sha256"]) == 404
    assert get_file(mission, "hr", photo["sha256"]) == 200
    # A shared photo also held by a restricted case: reading it through the mission report is audited.
    shared = upload(mission, "patrol_a", JPEG + b"market photo")
    file_report(mission, "patrol_a", report_body(attachments=[shared]))
    file_report(mission, "patrol_a", report_body(confidentiality="restricted", attachments=[shared]))
    assert get_file(mission, "commander_a", shared["sha256"]) == 200
    assert "commander_a" in audit_actions(mission, "restricted_attachment_read")


def test_only_jpeg_png_webp_by_their_bytes_are_inline_everything_is_nosniff(mission: Mission) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    cases = {
        "svg": (svg, "image/SVG+xml", "attachment", "application/octet-stream"),
        "html-as-png": (b"<html><script>alert(1)</script>", "image/png", "attachment", "application/octet-stream"),
        "png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png", "inline", "image/png"),
        "webp": (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "application/octet-stream", "inline", "image/webp"),
        "jpeg": (JPEG + b"x", "image/jpeg", "inline", "image/jpeg"),
    }
    refs = {k: upload(mission, "patrol_a", data, media_type) for k, (data, media_type, _, _) in cases.items()}
    file_report(mission, "patrol_a", report_body(attachments=list(refs.values())))
    sign_in(mission.client, "commander_a", "correct horse battery")
    for name, (_, _, disposition, content_type) in cases.items():
        for url, headers in ((f"/api/v1/attachments/{refs[name]['sha256']}", mission.headers("commander_a")),
                             (f"/attachments/{refs[name]['sha256']}", {})):
            r = mission.client.get(url, headers=headers)
            assert r.status_code == 200, (name, url)
            assert r.headers["content-disposition"].startswith(disposition), (name, url)
            assert r.headers["content-type"] == content_type, (name, url)
            assert r.headers["x-content-type-options"] == "nosniff", (name, url)


# ---------------------------------------------------------------------------------------------- 2


def test_a_downgraded_reports_restricted_versions_stay_restricted_on_every_path(mission: Mission) -> None:
    body = report_body(confidentiality="restricted", title=f"restricted title {SECRET}",
                       description=f"first account {SECRET}")
    v1 = file_report(mission, "patrol_a", body)
    r = mission.client.post(f"/api/v1/reports/{body['id']}/comments", json={"text": f"note {SECRET}"},
                            headers=mission.headers("protection"))
    assert r.status_code == 201
    clean = body | {"confidentiality": "mission", "title": "cleaned title", "description": "shareable"}
    v2 = file_report(mission, "patrol_a", clean, [v1])
    rid = body["id"]
    for user in ("commander_a", "analyst"):
        h = mission.headers(user)
        history = mission.client.get(f"/api/v1/reports/{rid}/versions", headers=h)
        assert [v["version_id"] for v in history.json()] == [v2], user
        detail = mission.client.get(f"/api/v1/reports/{rid}", headers=h)
        assert detail.json()["current"]["title"] == "cleaned title" and detail.json()["comments"] == []
        pulled = mission.client.get(PULL, params={"limit": 1000}, headers=h)
        export = mission.client.get("/api/v1/exports/csv", headers=h)
        for resp in (history, detail, pulled, export):
            assert resp.status_code == 200 and SECRET not in resp.text, (user, resp.url)
    sign_in(mission.client, "commander_a", "correct horse battery")
    page = mission.client.get(f"/reports/{rid}")
    assert page.status_code == 200 and "cleaned title" in page.text and SECRET not in page.text
    # The author and the protection team still read the first account: the test can fail.
    for user in ("patrol_a", "protection"):
        history = mission.client.get(f"/api/v1/reports/{rid}/versions", headers=mission.headers(user)).json()
        assert [v["version_id"] for v in history] == [v1, v2]


def test_a_report_made_public_does_not_publish_its_mission_versions(mission: Mission) -> None:
    body = report_body(category="looting", title=f"mission title {SECRET}")
    v1 = file_report(mission, "patrol_a", body)
    v2 = file_report(mission, "commander_a", body | {"confidentiality": "public", "title": "public title"}, [v1])
    h = mission.headers("patrol_b")
    history = mission.client.get(f"/api/v1/reports/{body['id']}/versions", headers=h)
    assert [v["version_id"] for v in history.json()] == [v2]
    pulled = mission.client.get(PULL, params={"limit": 1000}, headers=h)
    assert SECRET not in pulled.text and "public title" in pulled.text


def test_a_restricted_head_is_hidden_but_its_report_stays_with_the_contingent(mission: Mission) -> None:
    body = report_body(title="mission title")
    v1 = file_report(mission, "patrol_a", body)
    file_report(mission, "patrol_a", body | {"title": "mission edit"}, [v1])
    file_report(mission, "protection", body | {"confidentiality": "restricted", "description": SECRET}, [v1])
    h = mission.headers("commander_a")
    listed = mission.client.get("/api/v1/reports", headers=h).json()["items"]
    assert [(x["id"], x["title"], x["in_conflict"]) for x in listed] == [(body["id"], "mission edit", True)]
    detail = mission.client.get(f"/api/v1/reports/{body['id']}", headers=h)
    assert len(detail.json()["heads"]) == 1 and SECRET not in detail.text
    conflicts = mission.client.get("/api/v1/conflicts", headers=mission.headers("analyst"))
    assert SECRET not in conflicts.text
    (item,) = mission.client.get("/api/v1/conflicts", headers=mission.headers("protection")).json()["items"]
    assert len(item["heads"]) == 2


# ---------------------------------------------------------------------------------------------- 3


def test_a_patrol_cannot_widen_a_colleagues_report_nor_choose_its_author(mission: Mission) -> None:
    body = report_body(author="commander_a", title="commander's report")
    v1 = file_report(mission, "commander_a", body)
    before = version_count(mission)
    entry = version_entry(body | {"confidentiality": "public"}, device(mission, "patrol_a"), [v1])
    (result,) = push(mission, "patrol_a", [entry])
    assert (result["status"], result["code"], result["field"]) == ("rejected", "confidentiality_widened",
                                                                   "body.confidentiality")
    assert version_count(mission) == before
    # Narrowing is anyone's; the author it names is the server's, whatever the body says.
    v2 = file_report(mission, "patrol_a", body | {"author": "protection", "title": "edited"}, [v1])
    detail = mission.client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("commander_a")).json()
    assert detail["current"]["author"] == "commander_a"
    history = mission.client.get(f"/api/v1/reports/{body['id']}/versions", headers=mission.headers("hr")).json()
    assert [(v["version_id"], v["author"], v["body"]["author"]) for v in history][-1] == (v2, "patrol_a",
                                                                                          "commander_a")
    # A new report is its writer's, whoever the body names.
    spoof = report_body(author="protection")
    file_report(mission, "patrol_a", spoof)
    got = mission.client.get(f"/api/v1/reports/{spoof['id']}", headers=mission.headers("commander_a")).json()
    assert got["current"]["author"] == "patrol_a"
    # Its author (a patrol downgrading its own restricted case) and its reviewers may widen.
    own = report_body(confidentiality="restricted")
    o1 = file_report(mission, "patrol_a", own)
    file_report(mission, "patrol_a", own | {"confidentiality": "mission"}, [o1])
    file_report(mission, "commander_a", body | {"confidentiality": "public"}, [v2])


def test_nobody_edits_from_a_version_they_may_not_read(mission: Mission) -> None:
    body = report_body()
    v1 = file_report(mission, "patrol_a", body)
    v2 = file_report(mission, "protection", body | {"confidentiality": "restricted", "description": SECRET}, [v1])
    before = version_count(mission)
    (result,) = push(mission, "commander_a", [version_entry(body | {"title": "x"}, device(mission, "commander_a"),
                                                            [v2])])
    assert (result["status"], result["code"]) == ("rejected", "forbidden")
    # Nor may another contingent write to this one's report, even one it may read.
    pub = report_body(category="looting", confidentiality="public")
    p1 = file_report(mission, "patrol_a", pub)
    (result,) = push(mission, "patrol_b", [version_entry(pub | {"title": "x"}, device(mission, "patrol_b"), [p1])])
    assert (result["status"], result["code"]) == ("rejected", "contingent_changed") or result["code"] == "forbidden"
    assert version_count(mission) == before + 1


def _named_conflict(mission: Mission, *, same_names: bool) -> tuple[dict[str, Any], list[str]]:
    body = report_body(kind="hr_concern", category="arbitrary_detention")
    body["victims"][0]["name"] = SECRET
    body["witnesses"] = [{"sex": "male", "age_group": "adult", "count": 1, "name": "Witness Hiddenname"}]
    v1 = file_report(mission, "patrol_a", body)
    left = body | {"title": "left"}
    right = body | {"title": "right"}
    if not same_names:
        right = right | {"victims": [body["victims"][0] | {"name": "Another Hiddenname"}]}
    return body, [file_report(mission, "protection", left, [v1]), file_report(mission, "hr", right, [v1])]


def test_a_redacted_resolution_by_push_cannot_erase_names(mission: Mission) -> None:
    body, heads = _named_conflict(mission, same_names=True)
    seen = mission.client.get(f"/api/v1/reports/{body['id']}", headers=mission.headers("commander_a")).json()
    redacted = seen["heads"][0]["body"]
    assert redacted["victims"][0]["name"] is None
    # The attack: the redacted body with all heads as parents. The names are carried over.
    vid = file_report(mission, "commander_a", redacted | {"title": "resolved"}, heads)
    history = mission.client.get(f"/api/v1/reports/{body['id']}/versions", headers=mission.headers("hr")).json()
    stored = next(v for v in history if v["version_id"] == vid)["body"]
    assert stored["victims"][0]["name"] == SECRET and stored["witnesses"][0]["name"] == "Witness Hiddenname"
    assert stored["title"] == "resolved"


def test_ambiguous_or_erasing_redacted_writes_are_refused_by_push_and_resolve(mission: Mission) -> None:
    body, heads = _named_conflict(mission, same_names=False)
    redacted = mission.client.get(f"/api/v1/reports/{body['id']}",
                                  headers=mission.headers("analyst")).json()["heads"][0]["body"]
    before = version_count(mission)
    (result,) = push(mission, "commander_a", [version_entry(redacted, device(mission, "commander_a"), heads)])
    assert (result["status"], result["code"]) == ("rejected", "hidden_fields")
    r = mission.client.post(f"/api/v1/reports/{body['id']}/resolve", json={"body": redacted},
                            headers=mission.headers("analyst"))
    assert r.status_code == 403
    # Dropping a hidden person, or writing over a hidden name, in a plain edit is refused too.
    one = mission.client.get(f"/api/v1/reports/{body['id']}/versions", headers=mission.headers("hr")).json()[0]
    for edit in (redacted | {"witnesses": []},
                 redacted | {"victims": [redacted["victims"][0] | {"name": "Overwritten"}]}):
        (result,) = push(mission, "commander_a", [version_entry(edit, device(mission, "commander_a"),
                                                                [one["version_id"]])])
        assert (result["status"], result["code"]) == ("rejected", "hidden_fields")
    assert version_count(mission) == before
    # The protection team resolves it with the names it chooses.
    r = mission.client.post(f"/api/v1/reports/{body['id']}/resolve", json={"pick": heads[0]},
                            headers=mission.headers("protection"))
    assert r.status_code == 201


# ---------------------------------------------------------------------------------------------- 4


def test_one_default_confidentiality_rule_in_schema_server_and_tablet(mission: Mission) -> None:
    from peacewatch.mobile.core.form_model import FormModel as FormState

    schema = mission.client.get("/api/v1/schema").json()["kinds"]["incident"]["properties"]["confidentiality"]
    assert schema["default"] == "mission"
    assert schema["x-default-by-category"]["looting"] == "mission"
    assert schema["x-default-by-category"]["conflict_related_sexual_violence"] == "restricted"
    for category, expected in schema["x-default-by-category"].items():
        body = report_body(category=category)
        del body["confidentiality"]
        assert parse_report(body).confidentiality == expected, category
    body = report_body(category="looting")
    del body["confidentiality"]
    file_report(mission, "patrol_a", body)
    assert mission.client.get(f"/api/v1/reports/{body['id']}",
                              headers=mission.headers("patrol_b")).status_code == 404  # not public
    fields = FormState.defaults("incident", lang="en", author="patrol_a", contingent="ALPHA")
    assert fields["confidentiality"] == schema["default"]
    form = FormState(report_id="r", kind="incident", lang="en", fields=dict(fields))
    form.set_value("category", "conflict_related_sexual_violence")
    assert form.fields["confidentiality"] == "restricted"
    fresh = FormState.defaults("incident", lang="en", author="patrol_a", contingent="ALPHA")
    form = FormState(report_id="r", kind="incident", lang="en", fields=fresh)
    form.set_value("category", "looting")
    assert form.fields["confidentiality"] == "mission"


# ---------------------------------------------------------------------------------------------- 7


def test_the_audit_log_says_a_search_happened_not_what_was_searched(mission: Mission) -> None:
    r = mission.client.get("/api/v1/exports/csv", params={"q": SECRET}, headers=mission.headers("protection"))
    assert r.status_code == 200
    audit = mission.client.get("/api/v1/audit", params={"action": "export"}, headers=mission.headers("admin"))
    assert audit.status_code == 200 and SECRET not in audit.text
    (entry,) = audit.json()["entries"]
    assert entry["actor"] == "protection" and entry["detail"]["text_search"] is True
