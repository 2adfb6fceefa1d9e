"""The H3 hexagon grid of a hotspot analysis: binning points, the study area, the weights matrix.

Cells are H3 v4 cells held as ``uint64`` integers (``h3.api.basic_int``), sorted, so a cell's row
in every array is found with ``np.searchsorted``. The study area is every cell the analysis
covers, zero-count cells included, so the Gi* null is honest: the given mission-area polygon's
cells, or else every cell within ``k`` rings of a report. ``grid_disk`` is computed once per cell
for both the study area and the weights (:func:`study_area_and_weights`), and without an explicit
``k`` the radius is chosen from the grand total and the study-area size (:func:`choose_k`).
Reports store their cell at ``STORED_RESOLUTION`` (:func:`report_cell`), so coarser maps only
need the parents of the distinct stored cells (:func:`coarsen`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np
import orjson
import scipy.sparse as sp
from pyproj import Geod
from shapely.geometry import shape

# The stored cell's rule is shared with the reports projection (server/geo.py); re-exported here.
from ..geo import STORED_RESOLUTION, report_cell

__all__ = [
    "DEFAULT_K",
    "DEFAULT_RESOLUTION",
    "SPARSE_K",
    "SPARSE_MEAN",
    "STORED_RESOLUTION",
    "cell_index",
    "cells_for_points",
    "cells_to_str",
    "choose_k",
    "coarsen",
    "count_per_cell",
    "neighbour_matrix",
    "report_cell",
    "study_area",
    "study_area_and_weights",
    "to_resolution",
]

DEFAULT_RESOLUTION = 8
DEFAULT_K = 1
# Sparse maps (fewer reports than cells) use a wider neighbourhood when the caller sets no k:
# a 7-cell neighbourhood expecting < 7 reports cannot tell a 3x cluster from noise (see
# docs/hotspots.md, "Choosing k").
SPARSE_K = 2
SPARSE_MEAN = 1.0
# A study area beyond this many cells is refused: its GeoJSON alone would be hundreds of MB.
MAX_CELLS = 250_000
_GEOD = Geod(ellps="WGS84")


def check_resolution(resolution: int) -> int:
    if not isinstance(resolution, int | np.integer) or not 0 <= int(resolution) <= 15:
        raise ValueError(f"resolution: must be an integer 0..15, got {resolution!r}")
    return int(resolution)


def check_k(k: int) -> int:
    if not isinstance(k, int | np.integer) or not 1 <= int(k) <= 10:
        raise ValueError(f"k: must be an integer 1..10, got {k!r}")
    return int(k)


def choose_k(total: int, n_cells: int) -> int:
    """The neighbourhood radius used when the caller sets none: ``SPARSE_K`` below a mean of
    ``SPARSE_MEAN`` reports per study-area cell, else ``DEFAULT_K``.

    It depends only on the grand total and the study-area size, so the exact tail (conditional on
    the total) stays exact: given N, k is fixed.
    """
    if n_cells <= 0:
        return DEFAULT_K
    return SPARSE_K if total / n_cells < SPARSE_MEAN else DEFAULT_K


def to_resolution(cells: np.ndarray, resolution: int) -> np.ndarray:
    """Each cell's parent at the coarser (or same) ``resolution``; h3 is called once per distinct cell."""
    res = check_resolution(resolution)
    cells = np.asarray(cells, dtype=np.uint64)
    if cells.size == 0:
        return cells
    if h3i.get_resolution(int(cells[0])) == res:
        return cells
    distinct, inverse = np.unique(cells, return_inverse=True)
    parents = np.fromiter(
        map(h3i.cell_to_parent, distinct.tolist(), itertools.repeat(res)), dtype=np.uint64, count=distinct.size
    )
    return parents[inverse]


def coarsen(cells: np.ndarray, counts: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts per distinct cell re-aggregated at a coarser (or the same) ``resolution``: sorted
    unique cells and their counts."""
    parents = to_resolution(cells, resolution)
    out, inverse = np.unique(parents, return_inverse=True)
    return out, np.bincount(inverse, weights=counts, minlength=out.size).astype(np.int64)


def cells_for_points(
    lat: Sequence[float] | np.ndarray, lon: Sequence[float] | np.ndarray, resolution: int
) -> np.ndarray:
    """The H3 cell (uint64) of each point.

    h3-py v4 has no array entry point, so this maps the integer API over plain Python floats,
    which is the fastest public route (~0.8 s per million points, against ~1.3 s for the string
    API with zip).
    """
    res = check_resolution(resolution)
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    if lat_a.shape != lon_a.shape or lat_a.ndim != 1:
        raise ValueError("lat: lat and lon must be 1-D arrays of the same length")
    if not np.all(np.isfinite(lat_a)) or np.any(np.abs(lat_a) > 90):
        raise ValueError("lat: every latitude must be a finite number in [-90, 90]")
    if not np.all(np.isfinite(lon_a)) or np.any(np.abs(lon_a) > 180):
        raise ValueError("lon: every longitude must be a finite number in [-180, 180]")
    return np.fromiter(
        map(h3i.latlng_to_cell, lat_a.tolist(), lon_a.tolist(), itertools.repeat(res)),
        dtype=np.uint64,
        count=lat_a.size,
    )


def _disks(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``grid_disk(c, k)`` of every cell, flattened: (disk size per cell, the disk cells)."""
    disks = [h3i.grid_disk(c, k) for c in cells.tolist()]
    sizes = np.fromiter(map(len, disks), dtype=np.int64, count=len(disks))
    flat = np.fromiter(itertools.chain.from_iterable(disks), dtype=np.uint64, count=int(sizes.sum()))
    return sizes, flat


def estimated_cells(area: Mapping[str, Any], resolution: int) -> int:
    """About how many cells of ``resolution`` cover the GeoJSON polygon ``area`` (from its geodesic area)."""
    try:
        km2 = abs(_GEOD.geometry_area_perimeter(shape(area))[0]) / 1e6
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"area: not a valid polygon ({exc})") from exc
    return int(km2 / h3.average_hexagon_area(check_resolution(resolution), "km^2"))


def study_area(
    report_cells: np.ndarray,
    *,
    k: int = DEFAULT_K,
    resolution: int = DEFAULT_RESOLUTION,
    area: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Sorted unique cells of the study area.

    ``area`` is a GeoJSON Polygon/MultiPolygon geometry (lon/lat) of the mission area; its cells
    (centres inside it) form the study area. Without it, the study area is every cell within
    ``k`` rings of a report cell, so the neighbourhood of every report is complete.
    """
    k = check_k(k)
    res = check_resolution(resolution)
    if area is not None:
        if not isinstance(area, Mapping) or area.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError("area: expected a GeoJSON Polygon or MultiPolygon geometry")
        # Refuse before enumerating: a country-sized polygon at resolution 10 is millions of cells.
        _check_size(estimated_cells(area, res), res)
        try:
            cells = np.array(h3i.geo_to_cells(area, res), dtype=np.uint64)
        except (ValueError, TypeError, h3.H3BaseException) as exc:
            raise ValueError(f"area: not a valid polygon ({exc})") from exc
        return np.unique(cells)
    return _around_reports(report_cells, k, res)[0]


def _around_reports(
    report_cells: np.ndarray, k: int, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells within ``k`` rings of a report: (study area, occupied cells, their disks)."""
    occupied = np.unique(np.asarray(report_cells, dtype=np.uint64))
    _check_size(occupied.size, resolution)
    sizes, flat = _disks(occupied, k)
    cells = np.unique(flat)
    _check_size(cells.size, resolution)
    return cells, occupied, sizes, flat


def study_area_and_weights(
    report_cells: np.ndarray,
    *,
    k: int | None = DEFAULT_K,
    resolution: int = DEFAULT_RESOLUTION,
    area: Mapping[str, Any] | None = None,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, sp.csr_array, int]:
    """Study area, weights and the k used, computing each cell's ``grid_disk`` once.

    ``report_cells`` are the reports' cells (or distinct cells with their ``counts``). With
    ``k=None`` the radius is :func:`choose_k` of the reports counted in the study area and its
    size (for a study area drawn around the reports, the one of radius ``DEFAULT_K``).
    """
    res = check_resolution(resolution)
    report_cells = np.asarray(report_cells, dtype=np.uint64)
    if area is not None:
        key = orjson.dumps(area, option=orjson.OPT_SORT_KEYS)
        cells = _area_cells(key, res)
        if k is None:
            k = choose_k(int(count_per_cell(cells, report_cells, counts).sum()), cells.size)
        return cells, _area_weights(key, res, check_k(k)), k
    if k is None:
        cells, occupied, sizes, flat = _around_reports(report_cells, DEFAULT_K, res)
        total = int(report_cells.size if counts is None else np.sum(counts))
        k = choose_k(total, cells.size)
        if k != DEFAULT_K:
            cells, occupied, sizes, flat = _around_reports(report_cells, k, res)
    else:
        cells, occupied, sizes, flat = _around_reports(report_cells, check_k(k), res)
    # The occupied cells' disks are already known; only the ring cells around them are new.
    rest = np.setdiff1d(cells, occupied, assume_unique=True)
    rest_sizes, rest_flat = _disks(rest, k)
    rows = np.concatenate([
        np.repeat(cell_index(cells, occupied)[0], sizes),
        np.repeat(cell_index(cells, rest)[0], rest_sizes),
    ])
    return cells, _matrix(cells, rows, np.concatenate([flat, rest_flat])), k


# A fixed study area's cells and weights do not depend on the reports, so a map recomputed because
# a report arrived reuses them (a mission area is ~80k cells at resolution 8). Callers only read them.
@lru_cache(maxsize=16)
def _area_cells(area_json: bytes, resolution: int) -> np.ndarray:
    cells = study_area(np.empty(0, dtype=np.uint64), resolution=resolution, area=orjson.loads(area_json))
    cells.flags.writeable = False
    return cells


@lru_cache(maxsize=16)
def _area_weights(area_json: bytes, resolution: int, k: int) -> sp.csr_array:
    return neighbour_matrix(_area_cells(area_json, resolution), k)


def _check_size(n_cells: int, resolution: int) -> None:
    if n_cells > MAX_CELLS:
        raise ValueError(
            f"resolution: the study area would have ~{n_cells} cells at resolution {resolution} "
            f"(at most {MAX_CELLS}); use a coarser resolution or a smaller area"
        )


def cell_index(cells: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each ``query`` cell in sorted ``cells``, and a mask of those that are present."""
    query = np.asarray(query, dtype=np.uint64)
    if cells.size == 0:
        return np.zeros(query.shape, dtype=np.int64), np.zeros(query.shape, dtype=bool)
    idx = np.searchsorted(cells, query)
    idx_c = np.minimum(idx, cells.size - 1)
    return idx_c, cells[idx_c] == query


def count_per_cell(cells: np.ndarray, report_cells: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Reports per study-area cell (reports outside the study area are dropped).

    ``report_cells`` holds one cell per report, or distinct cells with their ``counts``.
    """
    idx, inside = cell_index(cells, report_cells)
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)[inside]
    return np.bincount(idx[inside], weights=weights, minlength=cells.size).astype(np.int64)


def neighbour_matrix(cells: np.ndarray, k: int = DEFAULT_K) -> sp.csr_array:
    """Binary weights: w_ij = 1 when cell j is in ``grid_disk(i, k)`` (i itself included).

    Neighbours outside the study area are not in the computation and get no weight.
    """
    k = check_k(k)
    sizes, flat = _disks(cells, k)
    return _matrix(cells, np.repeat(np.arange(cells.size, dtype=np.int64), sizes), flat)


def _matrix(cells: np.ndarray, rows: np.ndarray, neighbours: np.ndarray) -> sp.csr_array:
    """Binary CSR weights from (row, neighbour cell) pairs; neighbours outside ``cells`` dropped."""
    idx, inside = cell_index(cells, neighbours)
    n = cells.size
    data = np.ones(int(inside.sum()), dtype=np.float64)
    return sp.csr_array((data, (rows[inside], idx[inside])), shape=(n, n))


def cells_to_str(cells: np.ndarray) -> list[str]:
    """H3 string form of integer cells, for output."""
    return [h3.int_to_str(c) for c in cells.tolist()]
