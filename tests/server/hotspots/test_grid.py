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


@pytest.mark.parametrize("k", [1, 2])
def test_study_area_and_weights_equal_the_separate_steps(k: int) -> None:
    # grid_disk is computed once there; the result must not differ from the two-step route.
    rng = np.random.default_rng(k)
    report_cells = grid.cells_for_points(rng.uniform(4.8, 4.9, 300), rng.uniform(31.55, 31.65, 300), 8)
    cells, w, used = grid.study_area_and_weights(report_cells, k=k)
    assert used == k
    assert np.array_equal(cells, grid.study_area(report_cells, k=k))
    assert (w != grid.neighbour_matrix(cells, k)).nnz == 0
    distinct, counts = np.unique(report_cells, return_counts=True)
    cells2, w2, _ = grid.study_area_and_weights(distinct, k=k, counts=counts)
    assert np.array_equal(cells2, cells) and (w2 != w).nnz == 0
    assert np.array_equal(grid.count_per_cell(cells, distinct, counts), grid.count_per_cell(cells, report_cells))


def test_default_k_follows_the_mean_count_of_the_study_area() -> None:
    c = h3i.latlng_to_cell(*CENTRE, 8)
    sparse = np.array([c, h3i.grid_ring(c, 5)[0]], dtype=np.uint64)  # 2 reports, 14 cells
    cells, _, k = grid.study_area_and_weights(sparse, k=None)
    assert k == 2 and np.array_equal(cells, grid.study_area(sparse, k=2))
    dense = np.repeat(sparse, 10)  # 20 reports over the 14 cells of radius 1
    cells, _, k = grid.study_area_and_weights(dense, k=None)
    assert k == 1 and np.array_equal(cells, grid.study_area(dense, k=1))


def test_coarsen_counts_each_report_in_the_ancestor_of_its_stored_cell() -> None:
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(4.5, 5.2, 2000), rng.uniform(31.3, 32.0, 2000)
    stored = grid.cells_for_points(lat, lon, grid.STORED_RESOLUTION)
    fine, counts = np.unique(stored, return_counts=True)
    for res in (8, 6, 4):
        cells, coarse = grid.coarsen(fine, counts, res)
        parents = [h3i.cell_to_parent(c, res) for c in stored.tolist()]
        expected, expected_counts = np.unique(np.array(parents, dtype=np.uint64), return_counts=True)
        assert np.array_equal(cells, expected) and np.array_equal(coarse, expected_counts)
        # H3 children only approximately tile their parent: a few reports near a coarse cell's
        # edge belong to the neighbouring cell when binned directly (documented, ~6-7 %).
        direct = grid.cells_for_points(lat, lon, res)
        assert (grid.to_resolution(stored, res) != direct).mean() < (0.12 if res < 8 else 1e-12)
    assert grid.report_cell(None, 31.0) is None
    assert grid.report_cell(4.85, 31.6) == h3i.latlng_to_cell(4.85, 31.6, grid.STORED_RESOLUTION)
