"""``peacewatch hotspots``: the same maps as the API, offline, as a named user."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from factories import report_body, store
from peacewatch.server.cli import main


def test_hotspots_cli_matches_api(client, mission, db_url: str, tmp_path: Path, capsys) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(40):
        store(mission, "patrol_a", report_body(lat=1.56 + (i % 5) * 0.0005, lon=30.25, event_time=t0 + timedelta(hours=i)))
    for i in range(10):
        store(mission, "patrol_a", report_body(lat=1.2 + i * 0.03, lon=29.9 + i * 0.03, event_time=t0))
    out = tmp_path / "hot.geojson"
    assert main(["hotspots", "--as", "analyst", "--database-url", db_url, "--out", str(out)]) == 0
    fc = json.loads(out.read_text())
    # The k used (chosen from the data here) is in the file and on the terminal.
    assert fc["metadata"]["k_source"] == "auto"
    assert f"k={fc['metadata']['k']} (auto)" in capsys.readouterr().err
    api = client.get("/api/v1/hotspots", headers=mission.headers("analyst")).json()
    assert {f["properties"]["h3"]: f["properties"]["bin"] for f in fc["features"]} == {
        f["properties"]["h3"]: f["properties"]["bin"] for f in api["features"]}
    assert any(f["properties"]["bin"] == 3 for f in fc["features"])

    gaps = tmp_path / "gaps.csv"
    assert main(["hotspots", "coverage-gaps", "--as", "protection", "--database-url", db_url,
                 "--format", "csv", "--out", str(gaps)]) == 0
    rows = list(csv.DictReader(gaps.open()))
    assert rows and "h3" in rows[0]

    assert main(["hotspots", "--as", "patrol_a", "--database-url", db_url]) == 2
    assert "may not" in capsys.readouterr().err
    assert main(["hotspots", "--as", "analyst", "--database-url", db_url, "--bbox", "1,2"]) == 2
    assert "--bbox" in capsys.readouterr().err
