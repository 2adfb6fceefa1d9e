"""Agreements through the API as admin, protection officer and partner (both databases):
versions, approval of human-rights sharing, keys, revocation, and the refusals."""

from __future__ import annotations

from factories import report_body, store

from .conftest import create_agreement, issue_key, verify

HR_POLICY = {"kinds": ["hr_concern"], "confidentiality": ["mission", "restricted"], "verified_only": False}


def _feed(mission, headers, partner: str = "unhcr"):
    return mission.client.get(f"/api/v1/share/{partner}/feed", params={"format": "geojson"}, headers=headers)


def test_human_rights_sharing_waits_for_a_protection_officer(mission) -> None:
    secret = report_body(kind="hr_concern", category="torture_ill_treatment", confidentiality="restricted")
    store(mission, "patrol_a", secret)
    agreement = create_agreement(mission, "unhcr", **HR_POLICY)
    assert agreement["state"] == "awaiting_approval" and agreement["needs_approval"]
    headers = issue_key(mission, agreement["id"])
    refused = _feed(mission, headers)
    assert refused.status_code == 403 and "approval" in refused.json()["message"]
    preview = mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}/preview",
                                 headers=mission.headers("admin"))
    assert preview.status_code == 403
    url = f"/api/v1/sharing/agreements/{agreement['id']}/approve"
    for who in ("admin", "analyst", "hr", "commander_a"):  # only a protection officer approves
        assert mission.client.post(url, json={"version": 1}, headers=mission.headers(who)).status_code == 403
    stale = mission.client.post(url, json={"version": 2}, headers=mission.headers("protection"))
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    ok = mission.client.post(url, json={"version": 1}, headers=mission.headers("protection"))
    assert ok.status_code == 200 and ok.json()["state"] == "active" and ok.json()["approved_by"] == "protection"
    delivered = _feed(mission, headers)
    assert delivered.status_code == 200 and [f["id"] for f in delivered.json()["features"]] == [secret["id"]]
    assert "Victim Secretname" not in delivered.text
    # A change is a new version, and the approval does not carry over to it.
    changed = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                                 json={"policy": HR_POLICY | {"fields": ["description"]}})
    assert changed.json()["version"] == 2 and changed.json()["state"] == "awaiting_approval"
    assert _feed(mission, headers).status_code == 403
    history = mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}",
                                 headers=mission.headers("admin")).json()["versions"]
    assert [(v["version"], v["approved_by"]) for v in history] == [(1, "protection"), (2, None)]


def test_every_category_of_incidents_includes_restricted_ones_so_needs_approval(mission) -> None:
    assert create_agreement(mission, "a1", confidentiality=["public"])["needs_approval"]
    assert not create_agreement(mission, "a2", categories=["looting"])["needs_approval"]
    assert create_agreement(mission, "a3", categories=["child_recruitment"])["needs_approval"]


def test_keys_and_revocation(mission) -> None:
    body = report_body(category="looting", confidentiality="public")
    store(mission, "patrol_a", body)
    verify(mission, body["id"])
    agreement = create_agreement(mission, "unhcr", categories=["looting"])
    other = create_agreement(mission, "cluster", categories=["looting"])
    headers = issue_key(mission, agreement["id"])
    assert _feed(mission, headers).status_code == 200
    assert _feed(mission, {}).status_code == 401
    assert _feed(mission, {"X-Partner-Key": "pwp_not-a-key"}).status_code == 401
    assert _feed(mission, mission.headers("protection")).status_code == 401  # a user is no partner
    assert _feed(mission, headers, partner="cluster").status_code == 403  # another partner's feed
    assert _feed(mission, issue_key(mission, other["id"]), partner="cluster").status_code == 200
    # A new key replaces the old one.
    new_headers = issue_key(mission, agreement["id"])
    assert _feed(mission, headers).status_code == 401 and _feed(mission, new_headers).status_code == 200
    revoked = mission.client.post(f"/api/v1/sharing/agreements/{agreement['id']}/revoke",
                                  headers=mission.headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    r = _feed(mission, new_headers)
    assert r.status_code == 403 and "revoked" in r.json()["message"]
    attachment = mission.client.get(f"/api/v1/share/unhcr/attachments/{'a' * 64}", headers=new_headers)
    assert attachment.status_code == 403


def test_bad_input_names_the_field_and_writes_nothing(mission) -> None:
    admin = mission.headers("admin")
    cases = [
        ({"partner": "OHCHR!", "name": "x", "policy": {"kinds": ["incident"]}}, "partner"),
        ({"partner": "ohchr", "name": "x", "policy": {"kinds": []}}, "policy.kinds"),
        ({"partner": "ohchr", "name": "x", "policy": {"kinds": ["incident"], "fields": ["author"]}}, "policy.fields"),
        ({"partner": "ohchr", "name": "x", "policy": {"kinds": ["incident"], "location_grid_km": 0}},
         "policy.location_grid_km"),
        ({"partner": "ohchr", "name": "x", "policy": {"kinds": ["incident"], "categories": ["nope"]}},
         "policy.categories"),
        ({"partner": "ohchr", "name": "x", "policy": {"kinds": ["incident"], "time_precision": "hour"}},
         "policy.time_precision"),
    ]
    for body, field in cases:
        r = mission.client.post("/api/v1/sharing/agreements", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["field"] == field, (field, r.text)
    assert mission.client.get("/api/v1/sharing/agreements", headers=admin).json() == {"agreements": []}
    create_agreement(mission, "ohchr", categories=["looting"])
    dup = mission.client.post("/api/v1/sharing/agreements", headers=admin,
                              json={"partner": "ohchr", "name": "again", "policy": {"kinds": ["incident"]}})
    assert dup.status_code == 409 and dup.json()["field"] == "partner"
    agreement = mission.client.get("/api/v1/sharing/agreements", headers=admin).json()["agreements"][0]
    headers = issue_key(mission, agreement["id"])
    r = mission.client.get("/api/v1/share/ohchr/feed", params={"cursor": "abc"}, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    r = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "xml"}, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "format"
    assert mission.client.get("/api/v1/sharing/agreements/999", headers=admin).status_code == 404


def test_review_delay_holds_reports_back_until_they_are_old_enough(mission) -> None:
    from datetime import timedelta

    from peacewatch.server import clock

    body = report_body(category="looting", confidentiality="public")
    store(mission, "patrol_a", body)
    agreement = create_agreement(mission, "unhcr", categories=["looting"], verified_only=False, delay_hours=6)
    headers = issue_key(mission, agreement["id"])
    held = _feed(mission, headers)
    assert held.status_code == 200 and held.json()["features"] == [] and held.headers["X-Next-Cursor"] == "0"
    clock.advance(timedelta(hours=7))
    released = _feed(mission, headers)
    assert [f["id"] for f in released.json()["features"]] == [body["id"]]


def test_without_attachments_in_the_agreement_no_photo_goes(mission) -> None:
    from .conftest import photo_with_exif, upload

    data = photo_with_exif(3)
    digest = upload(mission, "patrol_a", data)
    body = report_body(category="looting", confidentiality="public",
                       attachments=[{"sha256": digest, "size": len(data), "media_type": "image/jpeg",
                                     "name": "p.jpg"}])
    store(mission, "patrol_a", body)
    agreement = create_agreement(mission, "unhcr", categories=["looting"], verified_only=False)
    headers = issue_key(mission, agreement["id"])
    feature = _feed(mission, headers).json()["features"][0]
    assert "attachment_urls" not in feature["properties"]
    assert mission.client.get(f"/api/v1/share/unhcr/attachments/{digest}", headers=headers).status_code == 404
