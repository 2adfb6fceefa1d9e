"""HQ's analysis as reference layers for a tablet's map: hot spots and coverage gaps of its area.

Computed with the hotspot engine (``server/hotspots``) over **the caller's own view**
(``access.visible_clause`` through ``hotspots.service``), never HQ's: a patrol's tablet must not
learn, from a cell's count or its significance, that reports it may not read exist. Only cells
that matter on a patrol's map are sent (significant hot spots, and hot cells no recent patrol
crossed), and only those inside the contingent's area of responsibility, over the last
``WINDOW_DAYS``. Too few visible reports for a statistic is not an error here: the layers are
simply empty, with the reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from .. import clock
from ..access import Principal
from ..hotspots import service as hotspots
from ..problems import Code, Problem
from ..reports.filters import ReportFilters

WINDOW_DAYS = 90
RESOLUTION = 7
GAP_DAYS = 30
GAP_BUFFER_M = 2000.0


def _inside(feature: dict[str, Any], bounds: list[float]) -> bool:
    west, south, east, north = bounds
    ring = feature["geometry"]["coordinates"][0]
    return any(west <= lon <= east and south <= lat <= north for lon, lat in ring)


def _slim(feature: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    props = feature["properties"]
    return {"type": "Feature", "geometry": feature["geometry"], "properties": {k: props.get(k) for k in keys}}


def area_layers(conn: Connection, principal: Principal, *, bounds: list[float],
                cache: hotspots.HotspotCache) -> dict[str, Any]:
    """``{"hotspots": fc, "coverage_gaps": fc, "window_days", "note"}`` for ``bounds``."""
    now = clock.now()
    filters = ReportFilters(start=now - timedelta(days=WINDOW_DAYS), end=now + timedelta(minutes=1))
    params = hotspots.HotspotParams(resolution=RESOLUTION)
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    try:
        hot = hotspots.hotspots(conn, principal=principal, filters=filters, params=params, cache=cache)
        gaps = hotspots.coverage_gaps(conn, principal=principal, filters=filters, params=params, days=GAP_DAYS,
                                      buffer_m=GAP_BUFFER_M, cache=cache)
    except Problem as exc:
        if exc.code is not Code.INVALID_INPUT:
            raise
        return {"hotspots": empty, "coverage_gaps": empty, "window_days": WINDOW_DAYS, "note": exc.message}
    hot_cells = [_slim(f, ("h3", "bin", "count")) for f in hot["features"]
                 if (f["properties"].get("bin") or 0) > 0 and _inside(f, bounds)]
    gap_cells = [_slim(f, ("h3", "bin", "count")) for f in gaps["features"] if _inside(f, bounds)]
    return {"hotspots": {"type": "FeatureCollection", "features": hot_cells},
            "coverage_gaps": {"type": "FeatureCollection", "features": gap_cells},
            "window_days": WINDOW_DAYS, "note": ""}
