"""Routes: the caller's saved report-list filters (list, save, delete). Own filters only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from ..deps import ReadConn, Reader, WriteConn
from . import service
from .models import SavedFilter, SavedFilterIn, SavedFilterList

router = APIRouter(tags=["saved filters"])

FilterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the saved filter's id")]


@router.get("/saved-filters", response_model=SavedFilterList)
def list_saved(conn: ReadConn, me: Reader) -> dict:
    """Your saved filters of the reports list, by name."""
    return {"filters": service.list_filters(conn, me)}


@router.post("/saved-filters", response_model=SavedFilter, status_code=201)
def save(body: SavedFilterIn, conn: WriteConn, me: Reader, response: Response) -> dict:
    """Save a query string under a name (201), or replace your filter of that name (200).
    The query is validated as the reports list validates it; a bad filter names the field."""
    out, created = service.save_filter(conn, me, name=body.name, query=body.query)
    response.status_code = 201 if created else 200
    return out


@router.get("/saved-filters/{filter_id}", response_model=SavedFilter)
def get_saved(conn: ReadConn, me: Reader, filter_id: FilterId) -> dict:
    """One of your saved filters (another user's is not found)."""
    return service.get_filter(conn, me, filter_id)


@router.delete("/saved-filters/{filter_id}", response_model=SavedFilter)
def delete_saved(conn: WriteConn, me: Reader, filter_id: FilterId) -> dict:
    """Delete one of your saved filters."""
    return service.delete_filter(conn, me, filter_id)
