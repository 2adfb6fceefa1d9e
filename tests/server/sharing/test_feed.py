"""A partner's feed against its agreement, field by field, on generated data (both databases).

Nothing outside the agreement appears: only its kinds, categories, levels and verified reports,
only its columns; locations on the agreement's grid; times on day or week boundaries; no username
or person name anywhere; attachments without EXIF, read back with Pillow.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from PIL import Image

from factories import USERS
from peacewatch.server.exports.records import Labels
from peacewatch.server.sharing.coarsening import is_cell_centre
from peacewatch.server.sharing.policy import ALWAYS

from .conftest import NAMES, create_agreement, issue_key

POLICY = {"kinds": ["incident", "patrol"], "categories": ["looting", "armed_clash", "patrol_routine"],
          "confidentiality": ["public", "mission"], "fields": ["severity", "killed", "reporter", "title"],
          "location_grid_km": 25, "time_precision": "week", "attachments": True, "verified_only": True}


def _pull_all(mission, partner: str, headers: dict[str, str], fmt: str, limit: int = 3) -> list[Any]:
    cursor, pages = "", []
    for _ in range(100):  # bounded
        r = mission.client.get(f"/api/v1/share/{partner}/feed", params={"format": fmt, "cursor": cursor,
                                                                         "limit": limit}, headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r)
        cursor = r.headers["X-Next-Cursor"]
        if r.headers["X-More"] == "false":
            return pages
    raise AssertionError("feed did not end")


def _expected(generated: list[dict[str, Any]], policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for i, b in enumerate(generated)
            if b["kind"] in policy["kinds"] and b["category"] in policy["categories"]
            and b["confidentiality"] in policy["confidentiality"] and i % 2 == 0}  # even ones were verified


def _no_identity(text: str) -> None:
    # Every username long enough not to be a substring of ordinary words ("hr" is in "three").
    for secret in (*NAMES, *(u for u in USERS if len(u) > 5), "Victim Secretname"):
        assert secret not in text, f"{secret!r} left in a partner's feed"


def test_geojson_feed_matches_the_agreement(mission, generated) -> None:
    agreement = create_agreement(mission, **POLICY)
    headers = issue_key(mission, agreement["id"])
    pages = _pull_all(mission, "ohchr", headers, "geojson")
    expected = _expected(generated, POLICY)
    features = [f for p in pages for f in p.json()["features"]]
    assert {f["id"] for f in features} == set(expected) and len(features) == len(expected) > 0
    allowed = set(ALWAYS) | set(POLICY["fields"]) | {"attachment_urls"}
    photos, labels = 0, Labels("en")
    for p in pages:
        _no_identity(p.text)
        assert p.headers["X-Agreement-Version"] == "1"
    for f in features:
        props, body = f["properties"], expected[f["id"]]
        assert set(props) <= allowed, set(props) - allowed
        assert props["kind"] == labels.fixed("kind", body["kind"]) and props["category_code"] == body["category"]
        assert props["category"] == labels.category(body["category"])
        assert props["severity"] == body["severity"] and props["killed"] == body["casualties"]["killed"]
        assert props["title"] == body["title"] and props["reporter"].startswith("R-")
        lon, lat = f["geometry"]["coordinates"]
        assert (lat, lon) == (props["lat"], props["lon"]) and is_cell_centre(lat, lon, 25)
        assert abs(lat - body["location"]["lat"]) <= 25 / 111.32 / 2 + 1e-6
        moment = datetime.fromisoformat(props["event_time"].replace("Z", "+00:00"))
        assert (moment.weekday(), moment.hour, moment.minute, moment.second) == (0, 0, 0, 0)
        assert props["precision_m"] == 25000
        for url in props.get("attachment_urls", []):
            r = mission.client.get(url, headers=headers)
            assert r.status_code == 200, r.text
            with Image.open(io.BytesIO(r.content)) as image:
                exif = image.getexif()
                assert len(exif) == 0 and not exif.get_ifd(0x8825) and "exif" not in image.info
            photos += 1
    assert photos > 0, "the generated data should put photos in the feed"


def test_csv_feed_has_only_the_agreed_columns_and_hxl(mission, generated) -> None:
    policy = POLICY | {"fields": ["description"], "time_precision": "day", "location_grid_km": 5}
    agreement = create_agreement(mission, **policy)
    headers = issue_key(mission, agreement["id"])
    rows: list[dict[str, str]] = []
    for p in _pull_all(mission, "ohchr", headers, "csv"):
        _no_identity(p.text)
        lines = list(csv.reader(io.StringIO(p.text)))
        tags = lines[1]
        assert tags == ["#event+id", "#event+kind", "#event+type", "#event+type+code", "#date+occurred",
                        "#geo+lat", "#geo+lon", "#geo+precision", "#description+details"]
        rows += [dict(zip(tags, line, strict=True)) for line in lines[2:]]
    expected = _expected(generated, policy)
    assert {r["#event+id"] for r in rows} == set(expected)
    for r in rows:
        assert r["#description+details"] == expected[r["#event+id"]]["description"]
        assert r["#date+occurred"].endswith("T00:00:00Z")
        assert is_cell_centre(float(r["#geo+lat"]), float(r["#geo+lon"]), 5)


def test_a_review_after_delivery_brings_the_report_again(mission, generated) -> None:
    agreement = create_agreement(mission, **POLICY)
    headers = issue_key(mission, agreement["id"])
    last = _pull_all(mission, "ohchr", headers, "geojson", limit=100)[-1]
    cursor = last.headers["X-Next-Cursor"]
    late = next(b for i, b in enumerate(generated) if i % 2 == 1 and b["category"] == "armed_clash"
                and b["confidentiality"] != "restricted")
    r = mission.client.post(f"/api/v1/reports/{late['id']}/review", json={"status": "verified", "comment": ""},
                            headers=mission.headers("analyst"))
    assert r.status_code == 201, r.text
    r = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "geojson", "cursor": cursor},
                           headers=headers)
    assert [f["id"] for f in r.json()["features"]] == [late["id"]]


def test_every_delivery_is_audited_with_the_version(mission, generated) -> None:
    agreement = create_agreement(mission, **POLICY)
    headers = issue_key(mission, agreement["id"])
    r = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                           json={"policy": POLICY | {"fields": ["severity"]}})
    assert r.status_code == 200 and r.json()["version"] == 2
    page = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "geojson"}, headers=headers)
    assert page.headers["X-Agreement-Version"] == "2"
    assert all(set(f["properties"]) <= set(ALWAYS) | {"severity", "attachment_urls"}
               for f in page.json()["features"])
    audit = mission.client.get("/api/v1/audit?action=share_delivery", headers=mission.headers("admin")).json()
    entry = audit["entries"][0]
    assert entry["actor"] == "partner:ohchr" and entry["target"] == "ohchr"
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert detail["version"] == 2 and sorted(detail["reports"]) == sorted(f["id"] for f in page.json()["features"])


def test_preview_is_what_the_partner_receives_next(mission, generated) -> None:
    agreement = create_agreement(mission, **POLICY)
    headers = issue_key(mission, agreement["id"])
    preview = mission.client.get(f"/api/v1/sharing/agreements/{agreement['id']}/preview",
                                 params={"format": "csv", "limit": 5}, headers=mission.headers("admin"))
    assert preview.status_code == 200, preview.text
    delivered = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "csv", "limit": 5}, headers=headers)
    assert preview.text == delivered.text


def test_summary_suppresses_small_counts(mission, generated) -> None:
    policy = POLICY | {"location_grid_km": 200, "min_count": 2, "time_precision": "week"}
    agreement = create_agreement(mission, **policy)
    headers = issue_key(mission, agreement["id"])
    r = mission.client.get("/api/v1/share/ohchr/summary", headers=headers)
    assert r.status_code == 200, r.text
    groups = r.json()["groups"]
    assert all(g["count"] >= 2 for g in groups)
    assert sum(g["count"] for g in groups) < len(_expected(generated, policy))  # some singletons held back
