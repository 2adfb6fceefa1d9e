"""``peacewatch export``: a complete file as a named user, filters from options, errors named."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from factories import Mission, report_body, store
from peacewatch.server.cli import main
from peacewatch.server.db.tables import audit_log


@pytest.fixture
def stored(mission: Mission) -> dict[str, dict]:
    bodies = {
        "alpha": report_body(contingent="ALPHA", author="patrol_a"),
        "alpha_restricted": report_body(kind="hr_concern", category="conflict_related_sexual_violence",
                                        confidentiality="restricted", contingent="ALPHA", author="patrol_a"),
        "bravo": report_body(contingent="BRAVO", author="patrol_b", lat=1.7, lon=30.4),
    }
    for body in bodies.values():
        store(mission, body["author"], body)
    return bodies


def test_csv_as_a_commander_with_filters(mission: Mission, stored: dict, db_url: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "alpha.csv"
    code = main(["export", "--format", "csv", "--out", str(out), "--as", "commander_a", "--database-url", db_url,
                 "--data-dir", str(tmp_path), "--kind", "incident,hr_concern", "--bom", "--no-progress"])
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1][0] == "#event+id"
    assert {r[0] for r in rows[2:]} == {stored["alpha"]["id"]}  # not BRAVO's, not the restricted case
    assert not list(out.parent.glob(".*.part"))  # no partial file left beside it
    assert "csv export of 1 reports as commander_a" in capsys.readouterr().out
    with mission.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "export")).mappings().one()
    assert entry["actor"] == "commander_a" and entry["detail"]["filters"] == {"kind": "incident, hr_concern"}


def test_xlsx_with_a_bbox_and_progress(mission: Mission, stored: dict, db_url: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bravo.xlsx"
    assert main(["export", "--format", "xlsx", "--out", str(out), "--as", "protection", "--database-url", db_url,
                 "--data-dir", str(tmp_path), "--bbox", "30.3,1.6,30.5,1.8"]) == 0
    ids = {row[0] for ws in load_workbook(out).worksheets[1:] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert ids == {stored["bravo"]["id"]}
    assert "1/1 reports" in capsys.readouterr().err


def test_bad_options_name_the_field_and_leave_no_file(mission: Mission, db_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    base = ["export", "--format", "csv", "--out", str(out), "--database-url", db_url, "--data-dir", str(tmp_path)]
    assert main([*base, "--as", "analyst", "--bbox", "1,2,3"]) == 2
    assert "--bbox" in capsys.readouterr().err
    area = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]})
    assert main([*base, "--as", "analyst", "--area", area]) == 2
    assert "--area" in capsys.readouterr().err
    assert main([*base, "--as", "patrol_a"]) == 2  # patrols may not export
    assert "may not export" in capsys.readouterr().err
    assert not out.exists()
    with mission.engine.connect() as conn:  # a refused export is not recorded as an export
        assert not conn.execute(select(audit_log).where(audit_log.c.action == "export")).first()
