"""The map page and the GeoJSON layers its script loads (same session cookie, same filters, same policy).

Layers: report points (clustered in the browser), Gi* hotspot hexagons coloured by confidence bin,
emerging-hotspot categories, coverage gaps, patrol routes, and reference data (place names,
sensitive sites, the mission area), over the mission's own base maps (``server/basemaps``, served
here under the session cookie; nothing is fetched from outside). Every layer is the caller's own
view: reports through ``reports.service.iter_records`` and hotspots through ``hotspots.service``,
both filtered by ``access.visible_clause``.

The page is open to every role that reviews reports: HQ analysts and the protection team, and
contingent commanders, whose hot spots and coverage gaps are computed over only what they may
read (their contingent's reports and the mission's public ones), so no count includes a report
they could not open.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from ....common.colours import map_colours
from ...basemaps import service as basemaps
from ...basemaps.views import NamePath, TileXY, TileZ, tile_response
from ...deps import ReadConn, SettingsDep
from ...hotspots import service as hotspots
from ...hotspots.views import CacheDep, geojson_response
from ...reports.filters import ReportFilters
from ...reports.service import iter_records
from ..i18n import request_language
from ..reference_data import reference_features
from ..render import page
from ..session import ReviewerPage, SignedIn

router = APIRouter(include_in_schema=False)

MAX_POINTS = 50_000  # beyond this the browser would struggle; the page says the layer is capped


@router.get("/map")
def map_page(request: Request, conn: ReadConn, me: ReviewerPage) -> Response:
    layers = [{"name": b["name"], "title": b["title"], "minzoom": b["minzoom"], "maxzoom": b["maxzoom"],
               "bounds": b["bounds"], "attribution": b["attribution"],
               "url": f"/map/basemaps/{b['name']}/{{z}}/{{x}}/{{y}}?v={b['version']}"}
              for b in basemaps.list_basemaps(conn)]
    return page(request, "map.html", me, basemaps=layers, colours=map_colours())


@router.get("/map/basemaps/{name}/{z}/{x}/{y}")
def basemap_tile(conn: ReadConn, settings: SettingsDep, _: SignedIn, z: TileZ, x: TileXY, y: TileXY,
                 name: str = NamePath, v: Annotated[str | None, Query(max_length=64)] = None,
                 if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """A base map tile for the dashboard (the session cookie's twin of ``/api/v1/basemaps/...``)."""
    return tile_response(conn, settings, name=name, z=z, x=x, y=y, v=v, if_none_match=if_none_match)


@router.get("/map/data/reports.geojson")
def report_points(conn: ReadConn, me: ReviewerPage, filters: Annotated[ReportFilters, Query()]) -> Response:
    """Located reports as points with what a popup shows."""
    features: list[dict[str, Any]] = []
    capped = False
    for rec in iter_records(conn, me, filters):
        loc = rec.get("location") or {}
        if loc.get("lat") is None:
            continue
        if len(features) >= MAX_POINTS:
            capped = True
            break
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]},
                         "properties": {"id": rec["id"], "title": rec.get("title", ""), "kind": rec["kind"],
                                        "category": rec["category"], "event_time": rec["event_time"],
                                        "review_status": rec["review_status"], "contingent": rec["contingent"],
                                        "severity": rec.get("severity")}})
    return geojson_response({"type": "FeatureCollection", "features": features, "capped": capped})


@router.get("/map/data/patrols.geojson")
def patrol_routes(conn: ReadConn, me: ReviewerPage, filters: Annotated[ReportFilters, Query()]) -> Response:
    """Patrol routes (kind=patrol) as lines."""
    only_patrols = filters.model_copy(update={"kind": ["patrol"]})
    features = [
        {"type": "Feature",
         "geometry": {"type": "LineString", "coordinates": [[p["lon"], p["lat"]] for p in rec["route"]]},
         "properties": {"id": rec["id"], "title": rec.get("title", ""), "contingent": rec["contingent"],
                        "patrol_type": rec.get("patrol_type"), "start_time": rec.get("start_time"),
                        "end_time": rec.get("end_time")}}
        for rec in iter_records(conn, me, only_patrols) if len(rec.get("route") or []) >= 2
    ]
    return geojson_response({"type": "FeatureCollection", "features": features})


@router.get("/map/data/hotspots.geojson")
def hotspot_layer(cache: CacheDep, conn: ReadConn, me: ReviewerPage,
                  filters: Annotated[ReportFilters, Query()],
                  layer: Literal["hotspots", "emerging", "coverage-gaps"] = "hotspots",
                  resolution: Annotated[int, Query(ge=0, le=15)] = 7) -> Response:
    """Gi* hexagons, emerging categories or coverage gaps; a problem (e.g. no reports) answers as JSON 422."""
    params = hotspots.HotspotParams(resolution=resolution)  # k chosen from the data, as the API does
    if layer == "emerging":
        fc = hotspots.emerging(conn, principal=me, filters=filters, params=params, step="week",
                               neighbourhood_time_step=1, cache=cache)
    elif layer == "coverage-gaps":
        fc = hotspots.coverage_gaps(conn, principal=me, filters=filters, params=params, days=30, buffer_m=2000.0,
                                    cache=cache)
    else:
        fc = hotspots.hotspots(conn, principal=me, filters=filters, params=params, cache=cache)
    # The map draws only significant cells and patterns; sending the rest would multiply the payload.
    keep = [f for f in fc["features"] if f["properties"].get("bin") or
            f["properties"].get("category", "no_pattern") != "no_pattern" or layer == "coverage-gaps"]
    return geojson_response(fc | {"features": keep})


@router.get("/map/data/reference.geojson")
def reference_layer(request: Request, conn: ReadConn, me: ReviewerPage) -> Response:
    """Place names, sensitive sites and the mission area, named in the visitor's language."""
    return geojson_response(reference_features(conn, request_language(request)))
