"""The H3 hexagon grid of a hotspot analysis: binning points, the study area, the weights matrix.

Cells are H3 v4 cells held as ``uint64`` integers (``h3.api.basic_int``), sorted, so a cell's row
in every array is found with ``np.searchsorted``. The study area is every cell the analysis
covers, zero-count cells included, so the Gi* null is honest: the given mission-area polygon's
cells, or else every cell within ``k`` rings of a report.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np
import scipy.sparse as sp
from pyproj import Geod
from shapely.geometry import shape

__all__ = [
    "DEFAULT_K",
    "DEFAULT_RESOLUTION",
    "cell_index",
    "cells_for_points",
    "cells_to_str",
    "count_per_cell",
    "neighbour_matrix",
    "study_area",
]

DEFAULT_RESOLUTION = 8
DEFAULT_K = 1
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


def _disk_union(cells: np.ndarray, k: int) -> np.ndarray:
    disks = [h3i.grid_disk(c, k) for c in cells.tolist()]
    total = sum(map(len, disks))
    return np.unique(np.fromiter(itertools.chain.from_iterable(disks), dtype=np.uint64, count=total))


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
        try:
            km2 = abs(_GEOD.geometry_area_perimeter(shape(area))[0]) / 1e6
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"area: not a valid polygon ({exc})") from exc
        # Refuse before enumerating: a country-sized polygon at resolution 10 is millions of cells.
        _check_size(int(km2 / h3.average_hexagon_area(res, "km^2")), res)
        try:
            cells = np.array(h3i.geo_to_cells(area, res), dtype=np.uint64)
        except (ValueError, TypeError, h3.H3BaseException) as exc:
            raise ValueError(f"area: not a valid polygon ({exc})") from exc
        return np.unique(cells)
    occupied = np.unique(np.asarray(report_cells, dtype=np.uint64))
    if occupied.size == 0:
        return occupied
    _check_size(occupied.size, res)
    cells = _disk_union(occupied, k)
    _check_size(cells.size, res)
    return cells


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


def count_per_cell(cells: np.ndarray, report_cells: np.ndarray) -> np.ndarray:
    """Reports per study-area cell (reports outside the study area are dropped)."""
    idx, inside = cell_index(cells, report_cells)
    return np.bincount(idx[inside], minlength=cells.size).astype(np.int64)


def neighbour_matrix(cells: np.ndarray, k: int = DEFAULT_K) -> sp.csr_array:
    """Binary weights: w_ij = 1 when cell j is in ``grid_disk(i, k)`` (i itself included).

    Neighbours outside the study area are not in the computation and get no weight.
    """
    k = check_k(k)
    disks = [h3i.grid_disk(c, k) for c in cells.tolist()]
    sizes = np.fromiter(map(len, disks), dtype=np.int64, count=len(disks))
    col_cells = np.fromiter(itertools.chain.from_iterable(disks), dtype=np.uint64, count=int(sizes.sum()))
    row_idx = np.repeat(np.arange(cells.size, dtype=np.int64), sizes)
    idx, inside = cell_index(cells, col_cells)
    n = cells.size
    data = np.ones(int(inside.sum()), dtype=np.float64)
    return sp.csr_array((data, (row_idx[inside], idx[inside])), shape=(n, n))


def cells_to_str(cells: np.ndarray) -> list[str]:
    """H3 string form of integer cells, for output."""
    return [h3.int_to_str(c) for c in cells.tolist()]
