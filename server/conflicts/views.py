"""Routes: ``GET /conflicts`` (reports with several heads, field by field) and ``POST /reports/{id}/resolve``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ..deps import Analyst, ReadConn, WriteConn
from . import service

router = APIRouter(tags=["conflicts"])

Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ResolveRequest(BaseModel):
    """Exactly one of ``pick`` or ``body``; ``parents`` (optional) are the heads you saw."""

    model_config = ConfigDict(extra="forbid")

    pick: Sha | None = Field(default=None, description="Keep this head's body")
    body: dict[str, Any] | None = Field(default=None, description="A merged report body")
    parents: list[Sha] | None = Field(default=None, max_length=64,
                                      description="The heads you resolved; 409 with the current heads if they moved")


@router.get("/conflicts")
def list_conflicts(conn: ReadConn, me: Analyst, limit: int = Query(100, ge=1, le=500)) -> dict:
    """Reports in conflict you may read, newest change first: every head and the fields that differ."""
    return service.list_conflicts(conn, me, limit=limit)


@router.post("/reports/{report_id}/resolve", status_code=201)
def resolve(report_id: str, resolution: ResolveRequest, conn: WriteConn, me: Analyst) -> dict:
    """End a conflict with a version whose parents are all current heads (a picked head or a merged body)."""
    return service.resolve(conn, me, report_id=report_id, pick=resolution.pick, body=resolution.body,
                           parents=resolution.parents)
