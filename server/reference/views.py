"""Routes: read reference data (any signed-in user) and upsert or delete it (administrators)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Admin, Authenticated, ReadConn, WriteConn
from . import service

router = APIRouter(tags=["reference"])

Kind = Literal["place", "sensitive_site", "mission_area", "admin_boundary"]
ItemId = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", description="Stable id chosen by the administrator")


class Names(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str | None = Field(default=None, max_length=200)
    fr: str | None = Field(default=None, max_length=200)
    ar: str | None = Field(default=None, max_length=200)


class Geometry(BaseModel):
    """GeoJSON geometry in WGS84 (longitude, latitude)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    names: Names
    geometry: Geometry
    properties: dict[str, Any] = Field(default_factory=dict)


@router.get("/reference")
def list_reference(conn: ReadConn, _: Authenticated, kind: Kind | None = None) -> dict:
    """Current reference items, optionally of one kind (devices normally pull them through /sync/pull)."""
    return service.list_items(conn, kind=kind)


@router.put("/admin/reference/{item_id}")
def put_reference(item: ItemIn, conn: WriteConn, admin: Admin, response: Response,
                  item_id: str = ItemId) -> dict:
    """Create (201) or replace (200) a place, sensitive site, mission area or admin boundary."""
    out = service.upsert(conn, admin, item_id=item_id, kind=item.kind,
                         names=item.names.model_dump(exclude_none=True),
                         geometry=item.geometry.model_dump(), properties=item.properties)
    response.status_code = 201 if out["created"] else 200
    return out


@router.delete("/admin/reference/{item_id}")
def delete_reference(conn: WriteConn, admin: Admin, item_id: str = ItemId) -> dict:
    """Delete an item; devices pull the deletion."""
    return service.remove(conn, admin, item_id=item_id)
