"""Routes: ``POST /sync/push`` (a batch of versions) and ``GET /sync/pull`` (the change feed after a cursor).

The wire format is docs/sync-protocol.md; the work is in ``service``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..alerts.worker import alerts_waiting
from ..deps import EngineDep, ReadConn, Reader, Submitter, WriteConn
from ..devices.service import note_seen
from ..duplicates.backlog import proposals_waiting
from . import service

router = APIRouter(tags=["sync"])

SHA256 = r"^[0-9a-f]{64}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class PushVersion(BaseModel):
    """One version: its report, its content-hash id, its parents and the report body."""

    model_config = ConfigDict(extra="forbid")

    report_id: str = Field(pattern=UUID, description="The report's client-made UUID (equals body.id)")
    version_id: str = Field(pattern=SHA256, description="version_id(body, parents, device) as lowercase hex")
    parents: list[Annotated[str, Field(pattern=SHA256)]] = Field(default_factory=list, max_length=64)
    body: dict[str, Any] = Field(description="The report body (CONTRIBUTING.md, 'The report body')")
    device_time: AwareDatetime | None = Field(
        default=None, description="The tablet's clock when the version was saved; kept, never used for order")
    device_id: str | None = Field(
        default=None, max_length=80,
        description="Optional: the device the client computed version_id with; must be the authenticated one")


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    versions: list[PushVersion] = Field(max_length=service.MAX_BATCH,
                                        description=f"At most {service.MAX_BATCH} versions, in any order")


@router.post("/sync/push")
def push(batch: PushRequest, conn: WriteConn, me: Submitter, request: Request) -> dict:
    """Store a batch of versions (idempotent; parents first); one result per version, in input order."""
    entries = [service.PushEntry(report_id=v.report_id, version_id=v.version_id, parents=v.parents, body=v.body,
                                 device_time=v.device_time, device_id=v.device_id) for v in batch.versions]
    answer = service.push(conn, me, entries)
    # The worker's catch-up waits for this transaction's lock, so it sees these versions once committed.
    proposals_waiting(request)
    alerts_waiting(request)  # alerts are raised from the feed after this commit, never inside the push
    return answer


@router.get("/sync/pull")
def pull(conn: ReadConn, engine: EngineDep, me: Reader,
         since: int = Query(0, ge=0, description="The `next` of the previous page; 0 for everything"),
         limit: int = Query(service.DEFAULT_PULL_LIMIT, ge=1, le=service.MAX_PULL_LIMIT)) -> dict:
    """The changes after ``since`` the caller may see, in server order, redacted; ``next`` and ``more``."""
    page = service.pull(conn, me, since=since, limit=limit)
    if me.device_id:
        note_seen(engine, me.device_id)
    return page
