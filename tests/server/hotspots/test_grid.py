"""The H3 grid: point binning, the study area (zero-count cells included) and the weights matrix."""

from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numpy as np
import pytest

from peacewatch.server.hotspots import grid

CENTRE = (4.85, 31.6)


def test_cells_for_points_match_h3() -> None:
    rng = np.random.default_rng(0)
    lat = rng.uniform(4, 5, 500)
    lon = rng.uniform(31, 32, 500)
    cells = grid.cells_for_points(lat, lon, 9)
    assert grid.cells_to_str(cells) == [h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon, strict=True)]


def test_study_area_from_reports_is_every_cell_within_k_rings() -> None:
    c = h3i.latlng_to_cell(*CENTRE, 8)
    far = h3i.grid_ring(c, 10)[0]
    cells = grid.study_area(np.array([c, c, far], dtype=np.uint64), k=2)
    expected = set(h3i.grid_disk(c, 2)) | set(h3i.grid_disk(far, 2))
    assert set(cells.tolist()) == expected and np.all(np.diff(cells.astype(np.float64)) > 0)
    counts = grid.count_per_cell(cells, np.array([c, c, far], dtype=np.uint64))
    assert counts.sum() == 3 and (counts == 0).sum() == cells.size - 2


def test_study_area_from_polygon_keeps_zero_count_cells() -> None:
    lat, lon = CENTRE
    area = {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + 0.05, lat], [lon + 0.05, lat + 0.05], [lon, lat + 0.05], [lon, lat]]
        ],
    }
    cells = grid.study_area(np.zeros(0, dtype=np.uint64), area=area)
    # ~30 km2 of res-8 cells (0.737 km2 each)
    assert 30 < cells.size < 60
    with pytest.raises(ValueError, match="^area:"):
        grid.study_area(np.zeros(0, dtype=np.uint64), area={"type": "Point", "coordinates": [lon, lat]})
    huge = {"type": "Polygon", "coordinates": [[[20, 0], [40, 0], [40, 10], [20, 10], [20, 0]]]}
    with pytest.raises(ValueError, match="^resolution:"):
        grid.study_area(np.zeros(0, dtype=np.uint64), area=huge, resolution=8)


def test_neighbour_matrix_is_binary_symmetric_with_unit_diagonal() -> None:
    cells = np.unique(np.array(h3i.grid_disk(h3i.latlng_to_cell(*CENTRE, 8), 4), dtype=np.uint64))
    for k, full in ((1, 7), (2, 19)):
        w = grid.neighbour_matrix(cells, k)
        dense = w.toarray()
        assert set(np.unique(dense)) == {0.0, 1.0}
        assert np.all(np.diag(dense) == 1) and np.array_equal(dense, dense.T)
        centre_row = int(np.searchsorted(cells, np.uint64(h3i.latlng_to_cell(*CENTRE, 8))))
        assert dense[centre_row].sum() == full
        # edge cells lose the neighbours outside the study area
        assert dense.sum(axis=1).min() < full


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match="^resolution:"):
        grid.cells_for_points([1.0], [2.0], 16)
    with pytest.raises(ValueError, match="^lat:"):
        grid.cells_for_points([91.0], [2.0], 8)
    with pytest.raises(ValueError, match="^lon:"):
        grid.cells_for_points([1.0], [np.nan], 8)
    with pytest.raises(ValueError, match="^k:"):
        grid.neighbour_matrix(np.zeros(1, dtype=np.uint64), 0)
