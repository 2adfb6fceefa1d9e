"""Coverage gaps: significant hot cells that no recent patrol route came near.

A patrol route (a ``kind == "patrol"`` report's ``route``, ended at ``end_time``) covers every cell
its line, buffered by ``buffer_m`` metres, touches. Distances are metres in an azimuthal
equidistant projection centred on the area being analysed, which keeps buffer distances within a
fraction of a percent over a mission area (hundreds of km) without picking a UTM zone per mission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import h3.api.basic_int as h3i
import numpy as np
import shapely
from pyproj import Transformer

__all__ = ["DEFAULT_BUFFER_M", "DEFAULT_DAYS", "PatrolRoute", "coverage_gaps", "covered_cells"]

DEFAULT_BUFFER_M = 1000.0
DEFAULT_DAYS = 14


@dataclass(frozen=True)
class PatrolRoute:
    """A patrol's route as (lat, lon) points and when the patrol ended (UTC)."""

    points: Sequence[tuple[float, float]]
    end_time: np.datetime64


def _aeqd(lat0: float, lon0: float) -> Transformer:
    crs = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _route_arrays(routes: Sequence[PatrolRoute]) -> list[np.ndarray]:
    out = []
    for n, route in enumerate(routes):
        pts = np.asarray(route.points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
            raise ValueError(f"route: patrol {n} needs a list of at least one (lat, lon) point")
        if not np.all(np.isfinite(pts)) or np.any(np.abs(pts[:, 0]) > 90) or np.any(np.abs(pts[:, 1]) > 180):
            raise ValueError(f"route: patrol {n} has a point outside lat [-90, 90] / lon [-180, 180]")
        out.append(pts)
    return out


def covered_cells(
    cells: np.ndarray, routes: Sequence[PatrolRoute], *, buffer_m: float = DEFAULT_BUFFER_M
) -> np.ndarray:
    """Mask of ``cells`` whose hexagon the buffered routes touch."""
    if not np.isfinite(buffer_m) or buffer_m < 0 or buffer_m > 100_000:
        raise ValueError("buffer_m: must be a distance in metres between 0 and 100000")
    covered = np.zeros(cells.size, dtype=bool)
    tracks = _route_arrays(routes)
    if cells.size == 0 or not tracks:
        return covered
    rings = [np.asarray(h3i.cell_to_boundary(c), dtype=np.float64) for c in cells.tolist()]
    all_lat = np.concatenate([r[:, 0] for r in rings] + [t[:, 0] for t in tracks])
    all_lon = np.concatenate([r[:, 1] for r in rings] + [t[:, 1] for t in tracks])
    # Centre of the bounding box (not the mean) so a few distant points do not skew the projection.
    proj = _aeqd(float((all_lat.min() + all_lat.max()) / 2), float((all_lon.min() + all_lon.max()) / 2))
    hexagons = [shapely.Polygon(np.column_stack(proj.transform(r[:, 1], r[:, 0]))) for r in rings]
    lines = []
    for t in tracks:
        xy = np.column_stack(proj.transform(t[:, 1], t[:, 0]))
        lines.append(shapely.LineString(xy) if len(xy) > 1 else shapely.Point(xy[0]))
    geoms = np.array(lines, dtype=object)
    # A zero buffer of a line is empty, so buffer_m=0 means "the route itself crossed the cell".
    swath = shapely.union_all(shapely.buffer(geoms, buffer_m) if buffer_m > 0 else geoms)
    shapely.prepare(swath)
    return np.asarray(shapely.intersects(swath, np.array(hexagons, dtype=object)), dtype=bool)


def coverage_gaps(
    cells: np.ndarray,
    bins: np.ndarray,
    routes: Sequence[PatrolRoute],
    *,
    now: np.datetime64,
    days: int = DEFAULT_DAYS,
    buffer_m: float = DEFAULT_BUFFER_M,
    min_bin: int = 2,
) -> np.ndarray:
    """Mask of hot cells (``bin >= min_bin``) not covered by a route that ended in the last ``days``."""
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise ValueError("days: must be an integer 1..366")
    if min_bin not in (1, 2, 3):
        raise ValueError("min_bin: must be 1, 2 or 3")
    if bins.shape != cells.shape:
        raise ValueError("bins: one bin per cell expected")
    _route_arrays(routes)  # bad routes are an error even when no hot cell needs them
    now_s = np.datetime64(now, "s")
    since = now_s - np.timedelta64(days, "D")
    recent = [r for r in routes if since <= np.datetime64(r.end_time, "s") <= now_s]
    hot = bins >= min_bin
    gaps = hot.copy()
    if hot.any() and recent:
        gaps[hot] = ~covered_cells(cells[hot], recent, buffer_m=buffer_m)
    return gaps
