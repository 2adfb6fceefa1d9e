"""Admin routes: read and verify the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ..deps import Admin, ReadConn
from ..input_checks import INT64_MAX, UtcDateTime
from . import service
from .models import EntryPage, Verification

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=EntryPage)
def list_entries(conn: ReadConn, _: Admin, action: str | None = None, actor: str | None = None,
                 target: str | None = None, since: UtcDateTime | None = None, until: UtcDateTime | None = None,
                 after: int = Query(0, ge=0, le=INT64_MAX), limit: int = Query(100, ge=1, le=1000)) -> dict:
    """Audit entries, oldest first, filterable; page with ``after`` = the last id seen."""
    entries = service.query(conn, action=action, actor=actor, target=target, since=since, until=until,
                            after_id=after, limit=limit)
    return {"entries": entries, "next": entries[-1]["id"] if entries else after, "more": len(entries) == limit}


@router.get("/verify", response_model=Verification)
def verify(conn: ReadConn, _: Admin) -> dict:
    """Walk the hash chain; name the first broken entry, if any."""
    v = service.verify(conn)
    return {"ok": v.ok, "entries": v.entries, "first_broken_id": v.first_broken_id, "reason": v.reason}
