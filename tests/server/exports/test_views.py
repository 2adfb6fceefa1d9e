"""The export API against the real app and database: each format streamed, only what the caller may
see (restricted cases never leak, names redacted), every export audited, bad filters named."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pyogrio
import pytest
from lxml import etree
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from factories import Mission, report_body, store
from peacewatch.server.db.tables import audit_log

SECRET_NAME = "Victim Secretname"


@pytest.fixture
def reports(mission: Mission) -> dict[str, dict]:
    """ALPHA: a mission incident, a restricted sexual-violence case, a mission HR concern with a named
    victim; BRAVO: a mission incident and a public patrol."""
    bodies = {
        "alpha_mission": report_body(contingent="ALPHA", author="patrol_a", lat=1.56, lon=30.25),
        "alpha_restricted": report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                        confidentiality="restricted", contingent="ALPHA", author="patrol_a",
                                        lat=1.57, lon=30.26),
        "alpha_hr": report_body(kind="hr_concern", category="arbitrary_detention", contingent="ALPHA",
                                author="patrol_a", lat=1.58, lon=30.27),
        "bravo_mission": report_body(contingent="BRAVO", author="patrol_b", lat=1.60, lon=30.30),
        "bravo_public_patrol": report_body(kind="patrol", contingent="BRAVO", author="patrol_b",
                                           confidentiality="public", lat=1.61, lon=30.31),
    }
    for body in bodies.values():
        store(mission, body["author"], body)
    return bodies


def _get(mission: Mission, user: str, fmt: str, **params: object):
    return mission.client.get(f"/api/v1/exports/{fmt}", params=params, headers=mission.headers(user))


def _csv_ids(data: bytes) -> set[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return {r[0] for r in rows[2:]}


# Who sees what (CONTRIBUTING.md's access table), one mission for every role and format.
EXPECTED = {
    "commander_b": {"alpha_restricted": False, "alpha_mission": False, "bravo_mission": True,
                    "bravo_public_patrol": True},
    "commander_a": {"alpha_restricted": False, "alpha_mission": True, "bravo_mission": False},
    "analyst": {"alpha_restricted": False, "alpha_mission": True, "bravo_mission": True},
    "protection": {"alpha_restricted": True, "alpha_mission": True, "bravo_mission": True},
    "hr": {"alpha_restricted": True},
}


def test_csv_holds_only_what_each_role_may_read(mission: Mission, reports: dict) -> None:
    for user, expected in EXPECTED.items():
        response = _get(mission, user, "csv")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        ids = _csv_ids(response.content)
        for key, visible in expected.items():
            assert (reports[key]["id"] in ids) is visible, (user, key)


def _gpkg(data: bytes) -> tuple[dict, list]:
    with warnings.catch_warnings():  # GDAL notes that an in-memory file has no .gpkg extension
        warnings.simplefilter("ignore", RuntimeWarning)
        meta, _fids, _geometry, fields = pyogrio.raw.read(data)
    return meta, fields


def _ids(fmt: str, data: bytes) -> set[str]:
    if fmt == "geojson":
        return {f["id"] for f in json.loads(data)["features"]}
    if fmt == "kml":
        tree = etree.fromstring(data)
        return {d.findtext("{*}value") for d in tree.iter("{*}Data") if d.get("name") == "id"}
    if fmt == "gpkg":
        meta, fields = _gpkg(data)
        return set(fields[list(meta["fields"]).index("id")])
    book = load_workbook(io.BytesIO(data))
    return {row[0] for ws in book.worksheets[1:] for row in ws.iter_rows(min_row=2, values_only=True)}


def _text(fmt: str, data: bytes) -> str:
    """Every text a reader of the file sees (compressed formats opened by their own readers)."""
    if fmt == "pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    if fmt == "gpkg":
        return "\n".join(str(v) for column in _gpkg(data)[1] for v in column)
    return data.decode("utf-8-sig")


def test_no_format_leaks_the_restricted_case(mission: Mission, reports: dict) -> None:
    secret = reports["alpha_restricted"]["id"]
    for fmt in ("geojson", "kml", "xlsx", "gpkg"):
        for user in ("analyst", "commander_a", "protection"):
            response = _get(mission, user, fmt)
            assert response.status_code == 200, response.text
            assert (secret in _ids(fmt, response.content)) is EXPECTED[user]["alpha_restricted"], (fmt, user)
    for user in ("analyst", "protection"):
        response = _get(mission, user, "pdf")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert ("Conflict-related sexual violence" in text) is EXPECTED[user]["alpha_restricted"], user


@pytest.mark.parametrize("fmt", ["csv", "geojson", "kml", "xlsx", "gpkg", "pdf"])
def test_no_export_names_a_victim_even_for_the_protection_team(mission: Mission, reports: dict, fmt: str) -> None:
    """Identities never leave in exports (PRODUCT.md): people are counted, never named."""
    hr_id = reports["alpha_hr"]["id"]
    for user in ("analyst", "protection"):
        text = _text(fmt, _get(mission, user, fmt).content)
        assert SECRET_NAME not in text, (fmt, user)
        assert hr_id in text or fmt == "pdf", (fmt, user)  # the report itself is there
    protection = json.loads(_get(mission, "protection", "geojson").content)
    feature = next(f for f in protection["features"] if f["id"] == hr_id)
    assert feature["properties"]["victims_count"] == 1


def test_filters_apply_and_each_export_is_audited(mission: Mission, reports: dict) -> None:
    response = _get(mission, "analyst", "csv", contingent="BRAVO", kind="patrol", lang="fr", bom="true")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert _csv_ids(response.content) == {reports["bravo_public_patrol"]["id"]}
    with mission.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == "export")).mappings().all()
    assert len(rows) == 1
    assert rows[0]["actor"] == "analyst" and rows[0]["target"] == "csv"
    assert rows[0]["detail"]["filters"] == {"kind": "patrol", "contingent": "BRAVO"}
    assert rows[0]["detail"]["lang"] == "fr"


def test_roles_without_export_are_refused_and_bad_input_is_named(mission: Mission) -> None:
    for user in ("patrol_a", "admin"):
        response = _get(mission, user, "csv")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    response = _get(mission, "analyst", "csv", bbox="31,4,30")
    assert response.status_code == 422
    assert "bbox" in json.dumps(response.json())
    response = _get(mission, "analyst", "docx")
    assert response.status_code == 422
    assert "fmt" in json.dumps(response.json())


@pytest.mark.parametrize("fmt", ["csv", "geojson", "kml", "xlsx", "gpkg"])
def test_exports_name_no_username_but_a_stable_pseudonymous_reporter(mission: Mission, reports: dict, fmt: str) -> None:
    first = _get(mission, "analyst", fmt)
    assert first.status_code == 200
    data = first.content
    text = _text(fmt, data)
    assert "patrol_a" not in text and "patrol_b" not in text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))[1:]  # row 2 holds the HXL hashtags
        by_contingent = {r["Contingent"]: r["Reporter (pseudonym)"] for r in rows}
        assert by_contingent["ALPHA"].startswith("R-") and by_contingent["ALPHA"] != by_contingent["BRAVO"]
        again = list(csv.DictReader(io.StringIO(_get(mission, "commander_a", fmt).content.decode("utf-8-sig"))))[1:]
        assert {r["Reporter (pseudonym)"] for r in again if r["Contingent"] == "ALPHA"} == {by_contingent["ALPHA"]}


def test_pdf_names_its_map_after_what_the_role_may_read(mission: Mission, reports: dict) -> None:
    """Hot spots are an analysis tool: a commander's PDF maps their reports and does not claim hot
    spots; both carry the period's casualty totals over the reports they may read."""
    more = [report_body(contingent="ALPHA", author="patrol_a", lat=1.56 + i * 0.001, lon=30.25) for i in range(30)]
    for body in more:
        store(mission, "patrol_a", body)
    texts = {}
    for user in ("commander_a", "analyst"):
        response = _get(mission, user, "pdf")
        assert response.status_code == 200
        texts[user] = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    assert "Map of reports" in texts["commander_a"] and "hotspots" not in texts["commander_a"].lower()
    seen = [reports["alpha_mission"], reports["alpha_hr"], reports["bravo_public_patrol"], *more]
    killed = sum((b.get("casualties") or {}).get("killed", 0) for b in seen)
    injured = sum((b.get("casualties") or {}).get("injured", 0) for b in seen)
    assert f"Casualties in the period: Killed {killed} · Injured {injured}" in texts["commander_a"]
    assert "Casualties in the period: Killed" in texts["analyst"]
