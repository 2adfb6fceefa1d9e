"""End-to-end hotspot analyses over report points: points -> H3 cells -> Gi* -> per-cell results.

The pure entry points the service (and the benchmark) call; they take arrays of coordinates and
times, never the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import grid
from .coverage import DEFAULT_BUFFER_M, DEFAULT_DAYS, PatrolRoute, coverage_gaps
from .emerging import EmergingResult, Step, emerging_hotspots
from .gistar import GiStarResult, gi_star_test
from .output import feature_collection

__all__ = ["HotspotMap", "emerging_map", "gaps_map", "hotspot_map"]


@dataclass(frozen=True)
class HotspotMap:
    """Gi* results for every study-area cell (sorted uint64 cells)."""

    cells: np.ndarray
    counts: np.ndarray
    gi: GiStarResult
    resolution: int
    k: int

    def columns(self) -> dict[str, np.ndarray]:
        return {"count": self.counts, "z": self.gi.z, "p": self.gi.p, "q": self.gi.q, "bin": self.gi.bin}

    def geojson(self, *, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return feature_collection(self.cells, self.columns(), metadata=metadata)


def _cells_and_weights(
    lat: np.ndarray, lon: np.ndarray, resolution: int, k: int, area: Mapping[str, Any] | None
) -> tuple[np.ndarray, np.ndarray, Any]:
    report_cells = grid.cells_for_points(lat, lon, resolution)
    cells = grid.study_area(report_cells, k=k, resolution=resolution, area=area)
    return report_cells, cells, grid.neighbour_matrix(cells, k)


def hotspot_map(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    *,
    resolution: int = grid.DEFAULT_RESOLUTION,
    k: int = grid.DEFAULT_K,
    area: Mapping[str, Any] | None = None,
) -> HotspotMap:
    """Gi* hotspot map of report points (counts per cell, every study-area cell included)."""
    report_cells, cells, w = _cells_and_weights(np.asarray(lat), np.asarray(lon), resolution, k, area)
    counts = grid.count_per_cell(cells, report_cells)
    if cells.size < 2:
        raise ValueError("area: the study area has fewer than 2 cells; use a finer resolution")
    return HotspotMap(cells=cells, counts=counts, gi=gi_star_test(counts, w), resolution=resolution, k=k)


def emerging_map(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    times: Sequence[np.datetime64] | np.ndarray,
    *,
    resolution: int = grid.DEFAULT_RESOLUTION,
    k: int = grid.DEFAULT_K,
    area: Mapping[str, Any] | None = None,
    step: Step = "week",
    start: np.datetime64 | None = None,
    end: np.datetime64 | None = None,
    neighbourhood_time_step: int = 1,
) -> tuple[EmergingResult, dict[str, Any]]:
    """Emerging hotspot categories of report points, and their GeoJSON."""
    report_cells, cells, w = _cells_and_weights(np.asarray(lat), np.asarray(lon), resolution, k, area)
    if cells.size < 2:
        raise ValueError("area: the study area has fewer than 2 cells; use a finer resolution")
    result = emerging_hotspots(
        cells,
        w,
        report_cells,
        np.asarray(times),
        step=step,
        start=start,
        end=end,
        neighbourhood_time_step=neighbourhood_time_step,
    )
    columns = {
        "count": result.counts.sum(axis=0),
        "z": result.gi.z[-1],
        "p": result.gi.p[-1],
        "bin": result.gi.bin[-1],
        "trend_z": result.trend.z,
        "trend_p": result.trend.p,
        "category": result.category,
    }
    meta = {"steps": result.steps, "step": step, "resolution": resolution, "k": k}
    return result, feature_collection(cells, columns, metadata=meta)


def gaps_map(
    hotspots: HotspotMap,
    routes: Sequence[PatrolRoute],
    *,
    now: np.datetime64,
    days: int = DEFAULT_DAYS,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> dict[str, Any]:
    """GeoJSON of the significant (95 %) hot cells that no patrol covered in the last ``days``."""
    gaps = coverage_gaps(hotspots.cells, hotspots.gi.bin, routes, now=now, days=days, buffer_m=buffer_m)
    cols = {name: values[gaps] for name, values in hotspots.columns().items()}
    meta = {"days": days, "buffer_m": buffer_m, "resolution": hotspots.resolution, "k": hotspots.k}
    return feature_collection(hotspots.cells[gaps], cols, metadata=meta)
