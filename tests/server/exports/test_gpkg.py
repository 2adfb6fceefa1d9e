"""GeoPackage: read back with pyogrio (GDAL), an independent reader: layer, CRS, geometries, typed fields."""

from __future__ import annotations

import io
from pathlib import Path

import pyogrio
import shapely

from peacewatch.server.exports import gpkg
from peacewatch.server.exports.gpkg import LAYER, write_gpkg
from peacewatch.server.exports.records import COLUMNS


def _read(records: list[dict], tmp_path: Path) -> tuple[dict, list]:
    out = io.BytesIO()
    write_gpkg(records, out, lang="ar")
    path = tmp_path / "export.gpkg"
    path.write_bytes(out.getvalue())
    assert [tuple(x) for x in pyogrio.list_layers(path)] == [(LAYER, "Unknown")]
    meta, _fids, geometry, fields = pyogrio.raw.read(path)
    return meta, [dict(zip(meta["fields"], row, strict=True)) | {"geometry": g}
                  for g, row in zip(geometry, zip(*fields, strict=True), strict=True)]


def test_every_report_with_its_geometry_and_typed_columns(sample: list[dict], bare: dict, tmp_path: Path,
                                                          monkeypatch) -> None:
    monkeypatch.setattr(gpkg, "BATCH", 50)  # several appended batches
    records = [*sample[:120], bare]
    meta, rows = _read(records, tmp_path)
    assert meta["crs"] == "EPSG:4326"
    assert list(meta["fields"]) == [c.key for c in COLUMNS]
    types = dict(zip(meta["fields"], meta["dtypes"], strict=True))
    assert types["killed"] == "int64" and types["event_time"].startswith("datetime64") and types["lat"] == "float64"
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == len(records)
    for record in sample[:120]:
        row = by_id[record["id"]]
        geom = shapely.from_wkb(row["geometry"])
        if record["kind"] == "patrol" and len(record["route"]) >= 2:
            assert geom.geom_type == "LineString" and len(geom.coords) == len(record["route"])
        else:
            assert geom.geom_type == "Point"
            assert (geom.x, geom.y) == (record["location"]["lon"], record["location"]["lat"])
        if record["kind"] != "patrol":
            assert row["killed"] == record["casualties"]["killed"]
    assert by_id[bare["id"]]["geometry"] is None  # a report without a position is kept, not dropped
