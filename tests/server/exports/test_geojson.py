"""GeoJSON: parsed with json, every geometry checked with shapely, RFC 7946 shape and lon/lat order."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from shapely.geometry import shape

from peacewatch.server.exports.geojson import CHUNK_FEATURES, iter_geojson, write_geojson


def _load(records: list[dict]) -> dict:
    out = io.BytesIO()
    write_geojson(records, out)
    return json.loads(out.getvalue().decode("utf-8"))


def test_feature_collection_with_valid_geometries(sample: list[dict]) -> None:
    doc = _load(sample)
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == len(sample)
    for feature, record in zip(doc["features"], sample, strict=True):
        assert feature["type"] == "Feature" and feature["id"] == record["id"]
        geom = shape(feature["geometry"])
        assert geom.is_valid and not geom.is_empty
        if record["kind"] == "patrol":
            assert feature["geometry"]["type"] == "LineString"
            assert feature["geometry"]["coordinates"] == [[p["lon"], p["lat"]] for p in record["route"]]
            assert feature["properties"]["route_count"] == len(record["route"])  # the route is the geometry
        else:
            assert feature["geometry"]["type"] == "Point"
            # RFC 7946 §3.1.1: longitude first
            assert feature["geometry"]["coordinates"] == [record["location"]["lon"], record["location"]["lat"]]
        assert feature["properties"]["category"] == record["category"]
        assert feature["properties"]["category_label"]
        assert not [v for v in feature["properties"].values() if isinstance(v, dict | list)]  # flat
        for key, value in (record.get("casualties") or {}).items():
            assert feature["properties"][f"casualties_{key}"] == value


def test_people_are_counted_never_named_and_text_stays_readable(sample: list[dict]) -> None:
    concerns = [r for r in sample if r["kind"] == "hr_concern"]
    doc = _load(concerns)
    for f, record in zip(doc["features"], concerns, strict=True):
        assert f["properties"]["victims_count"] == len(record["victims"]) and "victims" not in f["properties"]
    raw = io.BytesIO()
    write_geojson(sample[:5], raw)
    assert "سطر عربي".encode() in raw.getvalue()  # not \\u escapes


def test_report_without_position_keeps_a_null_geometry(bare: dict) -> None:
    doc = _load([bare])
    assert doc["features"][0]["geometry"] is None  # RFC 7946 §3.2 allows it; the report is not lost


def test_empty_export_is_a_valid_empty_collection() -> None:
    assert _load([]) == {"type": "FeatureCollection", "features": []}


def test_streams_lazily(sample: list[dict]) -> None:
    consumed = 0

    def source() -> Iterator[dict]:
        nonlocal consumed
        for r in sample * 5:
            consumed += 1
            yield r

    chunks = iter_geojson(source())
    assert next(chunks).startswith('{"type":"FeatureCollection"')
    assert consumed == 0
    next(chunks)
    assert consumed == CHUNK_FEATURES
    text = next(chunks) + "".join(chunks)
    assert consumed == len(sample) * 5 and text.endswith("]}\n")
