"""Routes: Gi* hotspots, emerging hotspots and coverage gaps as GeoJSON (or CSV), for analysts."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ..deps import Analyst, ReadConn
from ..reports.filters import ReportFilters
from . import service
from .coverage import DEFAULT_BUFFER_M, DEFAULT_DAYS
from .grid import DEFAULT_K, DEFAULT_RESOLUTION, SPARSE_K, SPARSE_MEAN
from .models import GEOJSON_OR_CSV, HexagonCollection

router = APIRouter(prefix="/hotspots", tags=["hotspots"])

Resolution = Annotated[int, Query(ge=0, le=15, description="H3 resolution (8: cells ~0.74 km2)")]
K = Annotated[int, Query(ge=1, le=10, description="Neighbourhood: grid_disk radius, the cell included")]
AutoK = Annotated[
    int | None,
    Query(
        ge=1,
        le=10,
        description=(
            "Neighbourhood: grid_disk radius, the cell included. Default: chosen from the data, "
            f"{DEFAULT_K} or {SPARSE_K} when there are fewer than {SPARSE_MEAN:g} reports per cell "
            "(the k used is in metadata.k)"
        ),
    ),
]
Format = Annotated[Literal["geojson", "csv"], Query(description="geojson (default) or csv")]


def _app_cache(request: Request) -> service.HotspotCache:
    return request.app.state.hotspot_cache


# The app's one hotspot cache (made by create_app), for every route that computes hotspots.
CacheDep = Annotated[service.HotspotCache, Depends(_app_cache)]


def geojson_response(fc: dict) -> Response:
    """A FeatureCollection as compact RFC 7946 JSON (NaN refused: it is not JSON)."""
    return Response(json.dumps(fc, separators=(",", ":"), allow_nan=False), media_type="application/geo+json")


def _respond(fc: dict, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(
            service.to_csv(fc),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return geojson_response(fc)


@router.get("", response_model=HexagonCollection, responses=GEOJSON_OR_CSV)
def hotspots(
    cache: CacheDep,
    conn: ReadConn,
    me: Analyst,
    filters: Annotated[ReportFilters, Query()],
    resolution: Resolution = DEFAULT_RESOLUTION,
    k: AutoK = None,
    format: Format = "geojson",
) -> Response:
    """Getis-Ord Gi* hotspots (BH FDR, bins at 90/95/99 %) of the reports you may see, one hexagon per cell."""
    params = service.HotspotParams(resolution=resolution, k=k)
    fc = service.hotspots(conn, principal=me, filters=filters, params=params, cache=cache)
    return _respond(fc, format, "hotspots")


@router.get("/emerging", response_model=HexagonCollection, responses=GEOJSON_OR_CSV)
def emerging(
    cache: CacheDep,
    conn: ReadConn,
    me: Analyst,
    filters: Annotated[ReportFilters, Query()],
    resolution: Resolution = DEFAULT_RESOLUTION,
    k: K = DEFAULT_K,
    step: Annotated[Literal["day", "week", "month"], Query(description="Time step of the cube")] = "week",
    time_neighbours: Annotated[
        int, Query(ge=0, le=12, description="Previous steps in the neighbourhood")
    ] = 1,
    format: Format = "geojson",
) -> Response:
    """Emerging hotspot category (ArcGIS rules: new, consecutive, intensifying, ...) of every cell."""
    params = service.HotspotParams(resolution=resolution, k=k)
    fc = service.emerging(
        conn,
        principal=me,
        filters=filters,
        params=params,
        step=step,
        neighbourhood_time_step=time_neighbours,
        cache=cache,
    )
    return _respond(fc, format, "emerging-hotspots")


@router.get("/coverage-gaps", response_model=HexagonCollection, responses=GEOJSON_OR_CSV)
def coverage_gaps(
    cache: CacheDep,
    conn: ReadConn,
    me: Analyst,
    filters: Annotated[ReportFilters, Query()],
    resolution: Resolution = DEFAULT_RESOLUTION,
    k: AutoK = None,
    days: Annotated[
        int, Query(ge=1, le=366, description="Patrols that ended in the last N days count")
    ] = DEFAULT_DAYS,
    buffer_m: Annotated[
        float, Query(ge=0, le=100_000, description="Route buffer in metres")
    ] = DEFAULT_BUFFER_M,
    format: Format = "geojson",
) -> Response:
    """Hot cells (95 %) that no patrol route, buffered by ``buffer_m``, crossed in the last ``days`` days."""
    params = service.HotspotParams(resolution=resolution, k=k)
    fc = service.coverage_gaps(
        conn,
        principal=me,
        filters=filters,
        params=params,
        days=days,
        buffer_m=buffer_m,
        cache=cache,
    )
    return _respond(fc, format, "coverage-gaps")
