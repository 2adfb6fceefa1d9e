"""Geometry of the duplicates index: great-circle distance and the H3 resolution that bounds a search.

A point within ``d`` metres of a cell lies in the cell's first ring whenever every hexagon edge is at
least ``d`` long (leaving a cell through a vertex, the next ring starts one edge further out), so the
index picks the finest resolution whose *smallest* edge is still at least the distance limit and
searches ``grid_disk(cell, 1)``: seven cells.
"""

from __future__ import annotations

import math

import h3.api.basic_int as h3  # integer cells: cheaper than strings and they fit numpy int64
import numpy as np

__all__ = ["EARTH_RADIUS_M", "choose_resolution", "haversine_m"]

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), the one H3 uses too

# H3 hexagon edges shrink to about 0.70 of their resolution's average near the twelve pentagons
# (measured over every pentagon's 6-ring neighbourhood and 20,000 random cells at resolutions 5-8);
# 0.6 keeps a margin so the ring guarantee above holds everywhere on the globe.
_MIN_EDGE_FACTOR = 0.6


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres, element-wise (degrees in)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _min_edge_m(resolution: int) -> float:
    return _MIN_EDGE_FACTOR * h3.average_hexagon_edge_length(resolution, "m")


def choose_resolution(max_distance_m: float, resolution: int | None = None) -> tuple[int, int]:
    """(H3 resolution, ring k) such that grid_disk(cell, k) holds every point within the distance.

    Without a given resolution: the finest one whose smallest edge is at least the distance, so k = 1
    (for 2 km: resolution 6, edges ~3.7 km on average, seven cells of ~36 km2 searched).
    """
    if resolution is None:
        resolution = next((r for r in range(15, -1, -1) if _min_edge_m(r) >= max_distance_m), 0)
    return resolution, max(1, math.ceil(max_distance_m / _min_edge_m(resolution)))
