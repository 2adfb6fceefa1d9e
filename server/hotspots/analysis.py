"""End-to-end hotspot analyses: report points or per-cell counts -> study area -> Gi* -> results.

The pure entry points the service (and the benchmark) call; they take arrays of coordinates,
cells, counts and times, never the database. With no ``k`` given, the neighbourhood radius is
chosen from the data (``grid.choose_k``) and the map records it.
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

__all__ = ["HotspotMap", "counts_map", "emerging_cells_map", "emerging_map", "gaps_map", "hotspot_map"]


@dataclass(frozen=True)
class HotspotMap:
    """Gi* results for every study-area cell (sorted uint64 cells)."""

    cells: np.ndarray
    counts: np.ndarray
    gi: GiStarResult
    resolution: int
    k: int
    k_chosen: bool = False  # True when k came from grid.choose_k (the caller set none)
    study_area: str = "around_reports"  # or "filter" / "mission_area": where the cells came from

    def columns(self) -> dict[str, np.ndarray]:
        return {"count": self.counts, "z": self.gi.z, "p": self.gi.p, "q": self.gi.q, "bin": self.gi.bin}

    def metadata(self) -> dict[str, Any]:
        """Grid and neighbourhood actually used: ``k`` and whether it was chosen from the data."""
        n = int(self.cells.size)
        total = int(self.counts.sum())
        return {
            "resolution": self.resolution,
            "k": self.k,
            "k_source": "auto" if self.k_chosen else "request",
            "study_area": self.study_area,
            "cells": n,
            "reports": total,
            "mean_count": round(total / n, 4) if n else 0.0,
        }

    def geojson(self, *, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return feature_collection(self.cells, self.columns(), metadata=metadata)


def hotspot_map(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    *,
    resolution: int = grid.DEFAULT_RESOLUTION,
    k: int | None = None,
    area: Mapping[str, Any] | None = None,
) -> HotspotMap:
    """Gi* hotspot map of report points (counts per cell, every study-area cell included).

    ``k=None`` chooses the neighbourhood radius from the data (:func:`grid.choose_k`).
    """
    report_cells = grid.cells_for_points(np.asarray(lat), np.asarray(lon), resolution)
    cells, counts = np.unique(report_cells, return_counts=True)
    return counts_map(cells, counts, resolution=resolution, k=k, area=area)


def counts_map(
    report_cells: np.ndarray,
    report_counts: np.ndarray,
    *,
    resolution: int = grid.DEFAULT_RESOLUTION,
    k: int | None = None,
    area: Mapping[str, Any] | None = None,
) -> HotspotMap:
    """Gi* hotspot map from reports already counted per cell (distinct cells at ``resolution``).

    The service counts in SQL and calls this; :func:`hotspot_map` bins points and calls it too,
    so both choose k (when ``k`` is None) the same way.
    """
    cells, w, k_used = grid.study_area_and_weights(
        report_cells, k=k, resolution=resolution, area=area, counts=report_counts
    )
    if cells.size < 2:
        raise ValueError("area: the study area has fewer than 2 cells; use a finer resolution")
    counts = grid.count_per_cell(cells, report_cells, report_counts)
    return HotspotMap(
        cells=cells,
        counts=counts,
        gi=gi_star_test(counts, w),
        resolution=resolution,
        k=k_used,
        k_chosen=k is None,
    )


def emerging_map(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    times: Sequence[np.datetime64] | np.ndarray,
    *,
    resolution: int = grid.DEFAULT_RESOLUTION,
    **options: Any,
) -> tuple[EmergingResult, dict[str, Any]]:
    """Emerging hotspot categories of report points, and their GeoJSON (options: ``emerging_cells_map``)."""
    cells = grid.cells_for_points(np.asarray(lat), np.asarray(lon), resolution)
    return emerging_cells_map(cells, times, resolution=resolution, **options)


def emerging_cells_map(
    report_cells: np.ndarray,
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
    """Emerging hotspot categories of reports given by their cell (one per report) and time."""
    report_cells = np.asarray(report_cells, dtype=np.uint64)
    cells, w, k = grid.study_area_and_weights(report_cells, k=k, resolution=resolution, area=area)
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
    used = hotspots.metadata()
    meta = {"days": days, "buffer_m": buffer_m, **{key: used[key] for key in ("resolution", "k", "k_source")}}
    return feature_collection(hotspots.cells[gaps], cols, metadata=meta)
