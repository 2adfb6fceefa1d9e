"""Routes: list base maps, serve tiles and package chunks (signed-in users), set areas (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from ..config import Settings
from ..deps import Admin, Authenticated, ReadConn, Reader, SettingsDep, WriteConn
from ..hotspots.views import CacheDep
from . import layers, service
from .models import Area, AreaIn, AreaLayers, AreaList, BaseMapList, Package

# Tile coordinates: zooms 0-30 and x/y within 2**30 (a larger number is a 422 naming it).
TileZ = Annotated[int, Path(ge=0, le=30)]
TileXY = Annotated[int, Path(ge=0, le=2**30)]

router = APIRouter(tags=["basemaps"])

NamePath = Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="base map name")
CodePath = Path(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="contingent code")
LONG_CACHE = "private, max-age=31536000, immutable"


def tile_response(conn: ReadConn, settings: Settings, *, name: str, z: int, x: int, y: int, v: str | None,
                  if_none_match: str | None) -> Response:
    """A tile with its ETag; cached for a year when the URL names the current version (``?v=``)."""
    data, media_type, etag = service.tile(conn, settings, name=name, z=z, x=x, y=y)
    current = etag.strip('"').split("-", 1)[0]
    headers = {"ETag": etag, "Cache-Control": LONG_CACHE if v == current else "private, no-cache"}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=media_type, headers=headers)


@router.get("/basemaps", response_model=BaseMapList)
def list_basemaps(conn: ReadConn, _: Authenticated) -> dict:
    """The base maps imported by an administrator, each with its tile URL template."""
    return {"basemaps": service.list_basemaps(conn)}


@router.get("/basemaps/layers", response_model=AreaLayers)
def area_layers(conn: ReadConn, cache: CacheDep, me: Reader,
                contingent: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    """Hot spots and coverage gaps in your contingent's area, computed over only what you may read."""
    area = service.area_for(conn, me, contingent)
    return {"contingent": area["contingent"], "area": area["bounds"],
            **layers.area_layers(conn, me, bounds=area["bounds"], cache=cache)}


@router.get("/basemaps/{name}/{z}/{x}/{y}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
                       304: {"description": "not modified"}})
def get_tile(conn: ReadConn, settings: SettingsDep, _: Authenticated, z: TileZ, x: TileXY, y: TileXY,
             name: str = NamePath, v: Annotated[str | None, Query(max_length=64)] = None,
             if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None) -> Response:
    """One XYZ tile; 404 for a tile outside the set or an unknown base map."""
    return tile_response(conn, settings, name=name, z=z, x=x, y=y, v=v, if_none_match=if_none_match)


@router.get("/basemaps/{name}/package", response_model=Package)
def get_package(conn: ReadConn, settings: SettingsDep, me: Authenticated, name: str = NamePath,
                contingent: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    """The chunks of your contingent's area (HQ and administrators may name a contingent)."""
    return service.package(conn, settings, me, name=name, contingent=contingent)


@router.get("/basemaps/{name}/chunks/{sha256}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_chunk(conn: ReadConn, settings: SettingsDep, _: Authenticated, name: str = NamePath,
              sha256: str = Path(max_length=64)) -> Response:
    """A package chunk by its SHA-256 (content-addressed, so cached forever)."""
    data = service.chunk(conn, settings, name=name, sha256=sha256)
    return Response(content=data, media_type="application/octet-stream",
                    headers={"ETag": f'"{sha256}"', "Cache-Control": LONG_CACHE})


@router.get("/admin/areas", response_model=AreaList)
def list_areas(conn: ReadConn, _: Admin) -> dict:
    """Every contingent's area of responsibility."""
    return {"areas": service.list_areas(conn)}


@router.put("/admin/areas/{code}", response_model=Area)
def put_area(body: AreaIn, conn: WriteConn, admin: Admin, code: str = CodePath) -> dict:
    """Set a contingent's area of responsibility and its tablets' package budget."""
    return service.set_area(conn, contingent=code, bounds=body.bounds, minzoom=body.minzoom, maxzoom=body.maxzoom,
                            max_bytes=int(body.max_mb * 1024 * 1024), actor=admin.username,
                            actor_user_id=admin.user_id)


@router.delete("/admin/areas/{code}", status_code=204, response_class=Response)
def delete_area(conn: WriteConn, admin: Admin, code: str = CodePath) -> Response:
    """Remove a contingent's area (its tablets keep what they hold)."""
    service.clear_area(conn, contingent=code, actor=admin.username, actor_user_id=admin.user_id)
    return Response(status_code=204)
