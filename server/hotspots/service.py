"""Hotspot service: the reports a caller may see -> hotspot, emerging and coverage-gap GeoJSON.

Reads only through ``access.visible_clause`` and the shared ``ReportFilters``, so a hotspot map
never counts a report its caller could not open. Results are cached per (what the caller may see,
filters, parameters, change-feed sequence): the map recomputes only when a change arrives.

Counting happens in the database: each report row stores its resolution-8 H3 cell
(``reports.h3_res8``), and a map at that resolution or coarser is one ``GROUP BY h3_res8`` over a
covering index; only finer maps, exact polygon filters and emerging hotspots (which need each
report's time) read rows.

What is counted: incidents and human-rights concerns (patrol logs are coverage, not events),
unless the caller names ``kind`` explicitly. Coverage routes are the visible ``patrol`` reports'
``route`` and ``end_time`` (falling back to ``event_time``), whatever the other filters say.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import shapely
from sqlalchemy import Connection, Select, func, select

from ..access import Principal, visible_clause
from ..clock import now as clock_now
from ..db.tables import reference_items, reports
from ..feed import last_seq
from ..problems import invalid
from ..reports.filters import ReportFilters
from . import grid
from .analysis import HotspotMap, counts_map, emerging_cells_map, gaps_map
from .coverage import PatrolRoute
from .coverage import coverage_gaps as coverage_gap_mask
from .emerging import Step
from .output import write_csv

__all__ = ["HotspotCache", "HotspotParams", "coverage_gaps", "emerging", "hot_and_gap_cells", "hotspots", "to_csv"]

EVENT_KINDS = ("incident", "hr_concern")
T = TypeVar("T")


@dataclass(frozen=True)
class HotspotParams:
    """Grid parameters of a request (validated again by the engine, errors name the field).

    ``k=None`` (the default) lets the hotspot map choose the radius from the data
    (``grid.choose_k``); emerging hotspots then use ``grid.DEFAULT_K``.
    """

    resolution: int = grid.DEFAULT_RESOLUTION
    k: int | None = None


class HotspotCache:
    """A small thread-safe LRU of computed results; keys carry the change-feed sequence."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        value = compute()  # outside the lock: two racing misses compute the same value twice
        with self._lock:
            self.misses += 1
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _visibility_key(p: Principal) -> tuple[Any, ...]:
    # Everything visible_clause depends on: role, contingent, and the user (own restricted reports).
    return (p.role.value, p.contingent_id, p.user_id)


def _filters_key(filters: ReportFilters) -> str:
    return filters.model_dump_json()


def _engine_errors(fn: Callable[[], T]) -> T:
    """Turn the engine's ``ValueError("field: message")`` into a 4xx problem naming the field."""
    try:
        return fn()
    except ValueError as exc:
        text = str(exc)
        field, _, message = text.partition(": ")
        raise invalid(field if message else "query", message or text) from None


def _events(principal: Principal, filters: ReportFilters, *columns: Any) -> Select[Any]:
    """A select of ``columns`` over the visible, located events matching the filters."""
    stmt = select(*columns).where(
        visible_clause(principal, reports), reports.c.lat.is_not(None), reports.c.lon.is_not(None)
    )
    if not filters.kind:
        stmt = stmt.where(reports.c.kind.in_(EVENT_KINDS))
    return filters.apply(stmt)


def _cells_of_rows(stored: list[Any], lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """Each row's cell at ``resolution``: from the stored cell when it is at least as fine, else
    (or when a row has none) binned from its position."""
    if resolution > grid.STORED_RESOLUTION:
        return grid.cells_for_points(lat, lon, resolution)
    missing = np.fromiter((c is None for c in stored), dtype=bool, count=len(stored))
    cells = np.fromiter((c or 0 for c in stored), dtype=np.uint64, count=len(stored))
    if missing.any():
        cells[missing] = grid.cells_for_points(lat[missing], lon[missing], grid.STORED_RESOLUTION)
    return grid.to_resolution(cells, resolution)


def _event_rows(
    conn: Connection, principal: Principal, filters: ReportFilters, resolution: int
) -> tuple[np.ndarray, np.ndarray]:
    """(cell at ``resolution``, event_time) of each visible, located event matching the filters."""
    r = reports.c
    rows_ = conn.execute(_events(principal, filters, r.h3_res8, r.lat, r.lon, r.event_time)).all()
    lat = np.fromiter((row[1] for row in rows_), dtype=np.float64, count=len(rows_))
    lon = np.fromiter((row[2] for row in rows_), dtype=np.float64, count=len(rows_))
    times = np.array([_utc64(row[3]) for row in rows_], dtype="datetime64[s]")
    stored = [row[0] for row in rows_]
    if filters.needs_exact_area() and lat.size:
        # A point intersects a polygon when it lies inside or on its boundary: ``covers``, as the filters test it.
        keep = shapely.intersects_xy(filters.geometry(), lon, lat)
        lat, lon, times = lat[keep], lon[keep], times[keep]
        stored = [c for c, kept in zip(stored, keep.tolist(), strict=True) if kept]
    return _cells_of_rows(stored, lat, lon, resolution), times


def _cell_counts(
    conn: Connection, principal: Principal, filters: ReportFilters, resolution: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct cells at ``resolution`` of the visible, located events, and their counts.

    At the stored resolution or coarser the database counts per stored cell (``GROUP BY
    h3_res8``) and coarser cells are the parents of those few distinct cells; a finer resolution
    or an exact polygon test needs every row's position.
    """
    if resolution > grid.STORED_RESOLUTION or filters.needs_exact_area():
        cells, _ = _event_rows(conn, principal, filters, resolution)
        return np.unique(cells, return_counts=True)
    stmt = _events(principal, filters, reports.c.h3_res8, func.count()).group_by(reports.c.h3_res8)
    rows_ = conn.execute(stmt).all()
    cells = np.fromiter((c for c, _ in rows_ if c is not None), dtype=np.uint64)
    counts = np.fromiter((n for c, n in rows_ if c is not None), dtype=np.int64)
    if any(c is None for c, _ in rows_):
        # Rows stored without a cell (none once migration 0002 has run) are binned from lat/lon.
        r = reports.c
        points = conn.execute(_events(principal, filters, r.lat, r.lon).where(r.h3_res8.is_(None))).all()
        lat = np.array([p[0] for p in points], dtype=np.float64)
        lon = np.array([p[1] for p in points], dtype=np.float64)
        cells = np.concatenate([cells, grid.cells_for_points(lat, lon, grid.STORED_RESOLUTION)])
        counts = np.concatenate([counts, np.ones(lat.size, dtype=np.int64)])
    return grid.coarsen(cells, counts, resolution)


def _utc64(t: datetime) -> np.datetime64:
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(t, "s")


def _area(filters: ReportFilters) -> dict[str, Any] | None:
    # The area polygon (or bbox), when given, is the study area: zero-count cells in it included.
    geom = filters.geometry()
    return shapely.geometry.mapping(geom) if geom is not None else None


def _mission_area(conn: Connection) -> dict[str, Any] | None:
    """The mission's area of operations from reference data (several items: their union)."""
    shapes = [shapely.geometry.shape(g) for g in conn.execute(
        select(reference_items.c.geometry).where(reference_items.c.kind == "mission_area")
        .order_by(reference_items.c.id)).scalars()]
    if not shapes:
        return None
    return dict(shapely.geometry.mapping(shapely.union_all(shapes)))


def _study_area(conn: Connection, filters: ReportFilters, resolution: int) -> tuple[dict[str, Any] | None, str]:
    """The Gi* study area and where it comes from: the filter's area, else the mission's area from
    reference data, else (none defined, or too many cells at this resolution) the cells around
    the reports. Around the reports the outer ring is empty by construction, which lowers the
    global mean; a defined mission area gives the honest null (docs/hotspots.md)."""
    area = _area(filters)
    if area is not None:
        return area, "filter"
    mission = _mission_area(conn)
    if mission is not None and grid.estimated_cells(mission, resolution) <= grid.MAX_CELLS:
        return mission, "mission_area"
    return None, "around_reports"


def _hotspot_map(
    conn: Connection, principal: Principal, filters: ReportFilters, params: HotspotParams, cache: HotspotCache
) -> HotspotMap:
    key = ("map", _visibility_key(principal), _filters_key(filters), params, last_seq(conn))

    def compute() -> HotspotMap:
        cells, counts = _engine_errors(lambda: _cell_counts(conn, principal, filters, params.resolution))
        if cells.size == 0 and filters.geometry() is None:
            raise invalid("filters", "no located reports match these filters")
        area, source = _study_area(conn, filters, params.resolution)
        hm = _engine_errors(lambda: counts_map(cells, counts, resolution=params.resolution, k=params.k, area=area))
        return dataclasses.replace(hm, study_area=source)

    return cache.get_or_compute(key, compute)


def hotspots(
    conn: Connection,
    *,
    principal: Principal,
    filters: ReportFilters,
    params: HotspotParams,
    cache: HotspotCache,
) -> dict[str, Any]:
    """Gi* hotspot GeoJSON of the reports the caller may see."""
    hm = _hotspot_map(conn, principal, filters, params, cache)
    return hm.geojson(metadata=hm.metadata())


def emerging(
    conn: Connection,
    *,
    principal: Principal,
    filters: ReportFilters,
    params: HotspotParams,
    step: Step,
    neighbourhood_time_step: int,
    cache: HotspotCache,
) -> dict[str, Any]:
    """Emerging-hotspot GeoJSON (one category per cell) of the reports the caller may see."""
    key = (
        "emerging",
        _visibility_key(principal),
        _filters_key(filters),
        params,
        step,
        neighbourhood_time_step,
        last_seq(conn),
    )

    def compute() -> dict[str, Any]:
        report_cells, times = _engine_errors(lambda: _event_rows(conn, principal, filters, params.resolution))
        if report_cells.size == 0:
            raise invalid("filters", "no located reports match these filters")
        start = _utc64(filters.start) if filters.start else None
        # ``end`` is exclusive in the filters; the cube's last step is the one holding end - 1 s.
        end = _utc64(filters.end) - np.timedelta64(1, "s") if filters.end else None
        _, fc = _engine_errors(
            lambda: emerging_cells_map(
                report_cells,
                times,
                resolution=params.resolution,
                k=grid.DEFAULT_K if params.k is None else params.k,
                area=_area(filters),
                step=step,
                start=start,
                end=end,
                neighbourhood_time_step=neighbourhood_time_step,
            )
        )
        return fc

    return cache.get_or_compute(key, compute)


def patrol_routes(conn: Connection, principal: Principal) -> list[PatrolRoute]:
    stmt = select(reports.c.body, reports.c.event_time).where(
        visible_clause(principal, reports), reports.c.kind == "patrol"
    )
    routes: list[PatrolRoute] = []
    for body, event_time in conn.execute(stmt):
        points = [(p["lat"], p["lon"]) for p in body.get("route") or [] if "lat" in p and "lon" in p]
        if not points:
            continue
        end = body.get("end_time")
        end_time = _utc64(datetime.fromisoformat(end.replace("Z", "+00:00"))) if end else _utc64(event_time)
        routes.append(PatrolRoute(points=points, end_time=end_time))
    return routes


def coverage_gaps(
    conn: Connection,
    *,
    principal: Principal,
    filters: ReportFilters,
    params: HotspotParams,
    days: int,
    buffer_m: float,
    cache: HotspotCache,
) -> dict[str, Any]:
    """GeoJSON of hot cells (95 %) that no visible patrol route (buffered) crossed in the last ``days``."""
    hm = _hotspot_map(conn, principal, filters, params, cache)
    routes = patrol_routes(conn, principal)
    now = _utc64(clock_now())
    return _engine_errors(lambda: gaps_map(hm, routes, now=now, days=days, buffer_m=buffer_m))


def hot_and_gap_cells(
    conn: Connection,
    *,
    principal: Principal,
    filters: ReportFilters,
    params: HotspotParams,
    days: int,
    buffer_m: float,
    cache: HotspotCache,
) -> tuple[frozenset[int], frozenset[int]]:
    """The map's hot cells (Gi* bin >= 1, hot at 90 % or more, as the map draws them) and its
    coverage gaps (as :func:`coverage_gaps`), as sets of H3 cells: no GeoJSON is built."""
    hm = _hotspot_map(conn, principal, filters, params, cache)
    routes = patrol_routes(conn, principal)
    gaps = _engine_errors(lambda: coverage_gap_mask(hm.cells, hm.gi.bin, routes, now=_utc64(clock_now()),
                                                    days=days, buffer_m=buffer_m))
    cells = hm.cells.tolist()
    return (frozenset(c for c, b in zip(cells, hm.gi.bin.tolist(), strict=True) if b > 0),
            frozenset(c for c, g in zip(cells, gaps.tolist(), strict=True) if g))


def to_csv(fc: dict[str, Any]) -> str:
    """The FeatureCollection's properties as CSV, one line per cell, plus the ``k`` used.

    CSV has no top-level member, so the neighbourhood radius (chosen from the data unless the
    caller set it) is repeated on every line.
    """
    props = [f["properties"] for f in fc["features"]]
    fieldnames = list(props[0].keys()) if props else ["h3", "count", "z", "p", "q", "bin"]
    k = (fc.get("metadata") or {}).get("k")
    if k is not None:
        props = [p | {"k": k} for p in props]
        fieldnames.append("k")
    return write_csv(props, fieldnames)
