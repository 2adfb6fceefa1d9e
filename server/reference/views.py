"""Routes: read reference data (any signed-in user) and upsert or delete it (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from ..deps import Admin, Authenticated, ReadConn, WriteConn
from . import service
from .models import ItemIn, ItemList, ItemWritten, Kind

router = APIRouter(tags=["reference"])

ItemId = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", description="Stable id chosen by the administrator")


@router.get("/reference", response_model=ItemList)
def list_reference(conn: ReadConn, _: Authenticated, kind: Kind | None = None) -> dict:
    """Current reference items, optionally of one kind (devices normally pull them through /sync/pull)."""
    return service.list_items(conn, kind=kind)


@router.put("/admin/reference/{item_id}", response_model=ItemWritten)
def put_reference(item: ItemIn, conn: WriteConn, admin: Admin, response: Response,
                  item_id: str = ItemId) -> dict:
    """Create (201) or replace (200) a place, sensitive site, mission area or admin boundary."""
    out = service.upsert(conn, admin, item_id=item_id, kind=item.kind,
                         names=item.names.model_dump(exclude_none=True),
                         geometry=item.geometry.model_dump(), properties=item.properties)
    response.status_code = 201 if out["created"] else 200
    return out


@router.delete("/admin/reference/{item_id}", response_model=ItemWritten)
def delete_reference(conn: WriteConn, admin: Admin, item_id: str = ItemId) -> dict:
    """Delete an item; devices pull the deletion."""
    return service.remove(conn, admin, item_id=item_id)
