"""Routes: ``GET /conflicts`` (reports with several heads, field by field) and ``POST /reports/{id}/resolve``."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ..deps import Analyst, ReadConn, WriteConn
from . import service
from .models import ConflictList, Resolution, ResolveRequest

router = APIRouter(tags=["conflicts"])

@router.get("/conflicts", response_model=ConflictList)
def list_conflicts(conn: ReadConn, me: Analyst, limit: int = Query(100, ge=1, le=500)) -> dict:
    """Reports in conflict you may read, newest change first: every head and the fields that differ."""
    return service.list_conflicts(conn, me, limit=limit)


@router.post("/reports/{report_id}/resolve", status_code=201, response_model=Resolution)
def resolve(report_id: str, resolution: ResolveRequest, conn: WriteConn, me: Analyst) -> dict:
    """End a conflict with a version whose parents are all current heads (a picked head or a merged body)."""
    return service.resolve(conn, me, report_id=report_id, pick=resolution.pick, body=resolution.body,
                           parents=resolution.parents)
