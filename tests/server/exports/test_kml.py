"""KML: parsed with fastkml (and lxml for the raw tree): placemarks, lines, shared styles, escaping."""

from __future__ import annotations

import io

from fastkml import kml as fastkml
from fastkml.geometry import LineString, Point
from lxml import etree

from peacewatch.server.exports.kml import write_kml

NS = {"k": "http://www.opengis.net/kml/2.2"}


def _bytes(records: list[dict], **options: object) -> bytes:
    out = io.BytesIO()
    write_kml(records, out, **options)
    return out.getvalue()


def _placemarks(data: bytes) -> list:
    # KML.parse validates against the KML 2.2 schema by default: a partner's GIS tool gets a valid file.
    document = fastkml.KML.parse(io.BytesIO(data)).features[0]
    return [mark for folder in document.features for mark in folder.features]


def test_points_and_lines_with_shared_styles(sample: list[dict]) -> None:
    data = _bytes(sample)
    marks = _placemarks(data)
    assert len(marks) == len(sample)
    by_id = {r["id"]: r for r in sample}
    for mark in marks:
        ident = next(d.value for d in mark.extended_data.elements if d.name == "id")
        record = by_id[ident]
        if record["kind"] == "patrol":
            assert isinstance(mark.kml_geometry, LineString)
            assert len(mark.kml_geometry.geometry.coords) == len(record["route"])
        else:
            assert isinstance(mark.kml_geometry, Point)
            lon, lat = mark.kml_geometry.geometry.coords[0][:2]
            assert (lat, lon) == (record["location"]["lat"], record["location"]["lon"])
        assert mark.description and "<table>" in mark.description
    tree = etree.fromstring(data)
    # one Style per category, all children of the Document, every placemark pointing at one
    styles = tree.findall("k:Document/k:Style", NS)
    assert len(styles) == len({r["category"] for r in sample})
    style_ids = {"#" + s.get("id") for s in styles}
    assert {u.text for u in tree.iterfind(".//k:Placemark/k:styleUrl", NS)} <= style_ids
    assert not tree.findall("k:Document/k:Folder/k:Style", NS)


def test_markup_in_report_text_is_escaped_not_injected() -> None:
    record = {"id": "r1", "kind": "incident", "category": "looting", "location": {"lat": 4.8, "lon": 31.6},
              "title": "<![CDATA[</name><evil/>]]> & co", "description": "<script>alert(1)</script>"}
    data = _bytes([record])
    tree = etree.fromstring(data)  # well-formed despite the hostile title
    assert not tree.findall(".//evil")
    mark = _placemarks(data)[0]
    assert mark.name == "<![CDATA[</name><evil/>]]> & co"
    assert "<script>" not in mark.description and "&lt;script&gt;" in mark.description


def test_report_without_position_is_skipped_not_fatal(bare: dict, sample: list[dict]) -> None:
    marks = _placemarks(_bytes([bare, *sample[:3]]))
    assert len(marks) == 3


def test_french_names(sample: list[dict]) -> None:
    tree = etree.fromstring(_bytes(sample[:10], lang="fr"))
    assert [f.findtext("k:name", namespaces=NS) for f in tree.findall("k:Document/k:Folder", NS)] == [
        "Incident", "Patrouille", "Préoccupation droits de l'homme"]


def test_valid_kml_without_external_references(sample: list[dict], bare: dict) -> None:
    data = _bytes([*sample, bare], lang="ar")
    fastkml.KML.parse(io.BytesIO(data), validate=True)  # raises on any schema violation
    tree = etree.fromstring(data)
    assert not [e for e in tree.iter() if (e.text or "").strip().startswith(("http:", "https:", "//"))]
    assert all(not e.get("id", "x")[:1].isdigit() for e in tree.iter())
    styles = {e.get("id") for e in tree.iterfind(".//k:Style", NS)}
    assert {e.text[1:] for e in tree.iterfind(".//k:styleUrl", NS)} <= styles
