"""GeoJSON and CSV builders: one closed lon/lat hexagon per study-area cell, same properties in CSV."""

from __future__ import annotations

import csv
import io
import json

import h3
import h3.api.basic_int as h3i
import numpy as np
import pytest
import shapely.geometry

from peacewatch.server.hotspots.output import _rings, feature_collection, hexagon, rows, write_csv

CELLS = np.unique(np.array(h3i.grid_disk(h3i.latlng_to_cell(4.85, 31.6, 8), 1), dtype=np.uint64))


def test_hexagon_is_closed_lon_lat_ring_containing_the_centre() -> None:
    cell = int(CELLS[0])
    geom = hexagon(cell)
    ring = geom["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]
    lat, lng = h3i.cell_to_latlng(cell)
    assert 31 < ring[0][0] < 32 and 4 < ring[0][1] < 5  # lon first
    assert shapely.geometry.shape(geom).contains(shapely.geometry.Point(lng, lat))


def test_feature_collection_has_one_feature_per_cell_and_is_json() -> None:
    cols = {
        "count": np.arange(7),
        "z": np.linspace(-1, 1, 7),
        "p": np.full(7, 0.5),
        "bin": np.zeros(7, np.int8),
    }
    fc = feature_collection(CELLS, cols, metadata={"resolution": 8})
    text = json.dumps(fc, allow_nan=False)
    back = json.loads(text)
    assert back["type"] == "FeatureCollection" and back["metadata"] == {"resolution": 8}
    assert [f["properties"]["h3"] for f in back["features"]] == [h3.int_to_str(c) for c in CELLS.tolist()]
    assert back["features"][3]["properties"] == {
        "h3": h3.int_to_str(int(CELLS[3])),
        "count": 3,
        "z": 0.0,
        "p": 0.5,
        "bin": 0,
    }


def test_csv_holds_the_same_properties() -> None:
    cols = {"count": [1] * 7, "z": [2.5] * 7, "category": ["new_hot"] * 7}
    text = write_csv(rows(CELLS, cols), ["h3", "count", "z", "category"])
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 7 and parsed[0] == {
        "h3": h3.int_to_str(int(CELLS[0])),
        "count": "1",
        "z": "2.5",
        "category": "new_hot",
    }


def test_length_mismatch_names_the_column() -> None:
    with pytest.raises(ValueError, match="^z:"):
        rows(CELLS, {"z": [1.0]})


def test_rings_of_mixed_vertex_counts_keep_cell_order() -> None:
    # A pentagon (5 vertices) among hexagons: the irregular ring stays in its place.
    pentagon = h3i.get_pentagons(2)[0]
    cells = np.array(sorted([pentagon, *h3i.grid_ring(pentagon, 1), *h3i.grid_ring(pentagon, 3)]), dtype=np.uint64)
    rings = _rings(cells)
    for cell, ring in zip(cells.tolist(), rings, strict=True):
        expected = np.round(np.array(h3i.cell_to_boundary(cell))[:, ::-1], 7).tolist()
        assert ring == [*expected, expected[0]]
    assert {len(r) - 1 for r in rings} > {6}  # hexagons and others, in one call
