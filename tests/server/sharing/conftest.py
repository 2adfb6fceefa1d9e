"""Sharing test helpers: agreements through the admin API, generated reports, photos with EXIF."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from factories import Mission, report_body, store
from peacewatch.common.taxonomy import load_taxonomy

NAMES = ("Amina Testvictim", "Jean Testwitness")


def photo_with_exif(seed: int) -> bytes:
    """A small JPEG carrying GPS, camera make/model and time taken."""
    image = Image.new("RGB", (32, 24), (seed % 255, 80, 160))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # make
    exif[0x0110] = "Model 7"  # model
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 14:30:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (1.0, 34.0, 0.12), "E", (30.0, 15.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(mission: Mission, user: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    headers = mission.device_headers(user)
    r = mission.client.put(f"/api/v1/chunks/{digest}", content=data,
                           headers=headers | {"Content-Type": "application/octet-stream"})
    assert r.status_code in (200, 201), r.text
    r = mission.client.post(f"/api/v1/attachments/{digest}", headers=headers,
                            json={"chunks": [digest], "size": len(data), "media_type": "image/jpeg"})
    assert r.status_code == 201, r.text
    return digest


def create_agreement(mission: Mission, partner: str = "ohchr", **policy: Any) -> dict[str, Any]:
    body = {"partner": partner, "name": partner.upper(), "policy": {"kinds": ["incident"], **policy}}
    r = mission.client.post("/api/v1/sharing/agreements", json=body, headers=mission.headers("admin"))
    assert r.status_code == 201, r.text
    return r.json()


def issue_key(mission: Mission, agreement_id: int) -> dict[str, str]:
    r = mission.client.post(f"/api/v1/sharing/agreements/{agreement_id}/key", headers=mission.headers("admin"))
    assert r.status_code == 200, r.text
    return {"X-Partner-Key": r.json()["key"]}


def verify(mission: Mission, report_id: str) -> None:
    r = mission.client.post(f"/api/v1/reports/{report_id}/review", json={"status": "verified", "comment": "ok"},
                            headers=mission.headers("protection"))
    assert r.status_code == 201, r.text


def generate(mission: Mission, n: int = 24, seed: int = 7) -> list[dict[str, Any]]:
    """`n` reports of every kind, level and several categories, half verified, some with named
    victims and witnesses and a photo with EXIF; returns their bodies."""
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    bodies = []
    images = [photo_with_exif(i) for i in range(2)]
    photos = [upload(mission, "patrol_a", data) for data in images]
    choices = [("incident", "looting"), ("incident", "armed_clash"), ("incident", "attack_on_civilians"),
               ("incident", "conflict_related_sexual_violence"), ("patrol", "patrol_routine"),
               ("hr_concern", "arbitrary_detention")]
    for i in range(n):
        kind, category = choices[i % len(choices)]
        levels = ("public", "mission", "restricted")
        floor = levels.index(taxonomy.get(category).default_confidentiality)
        level = levels[max(floor, rng.randrange(3))]  # never below the category's default
        author = ("patrol_a", "patrol_b")[i % 2]
        body = report_body(kind=kind, category=category, confidentiality=level, author=author,
                           contingent="ALPHA" if author == "patrol_a" else "BRAVO",
                           lat=rng.uniform(-4, 4), lon=rng.uniform(28, 32),
                           event_time=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(600)),
                           description=f"report number {i}")
        if kind == "hr_concern":
            body["witnesses"] = [{"sex": "male", "age_group": "adult", "count": 1, "consent_to_share": False,
                                  "name": NAMES[1]}]
            body["victims"][0]["name"] = NAMES[0]
        if author == "patrol_a" and i % 3 == 0:
            body["attachments"] = [{"sha256": photos[i % 2], "size": len(images[i % 2]), "media_type": "image/jpeg",
                                    "name": "photo.jpg"}]
        store(mission, author, body)
        if i % 2 == 0:
            verify(mission, body["id"])
        bodies.append(body)
    return bodies


@pytest.fixture
def generated(mission: Mission) -> list[dict[str, Any]]:
    return generate(mission)
