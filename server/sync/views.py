"""Routes: ``POST /sync/push`` (a batch of versions) and ``GET /sync/pull`` (the change feed after a cursor).

The wire format is docs/sync-protocol.md; its messages are ``common.sync_protocol``'s; the work is in
``service``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from ...common.sync_protocol import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, PullPage, PushAnswer, PushRequest
from ..deps import EngineDep, ReadConn, Reader, Submitter, WriteConn
from ..devices.service import note_seen
from ..input_checks import INT64_MAX
from . import service

router = APIRouter(tags=["sync"])


@router.post("/sync/push", response_model=PushAnswer, response_model_exclude_unset=True)
def push(batch: PushRequest, conn: WriteConn, me: Submitter) -> dict[str, Any]:
    """Store a batch of versions (idempotent; parents first); one result per version, in input order."""
    entries = [service.PushEntry(report_id=v.report_id, version_id=v.version_id, parents=v.parents, body=v.body,
                                 device_time=v.device_time, device_id=v.device_id) for v in batch.versions]
    # The projection, alerts and proposals follow the feed after the commit
    # (server/feed_consumers.py): alerts are never raised inside the push.
    return service.push(conn, me, entries)


@router.get("/sync/pull", response_model=PullPage, response_model_exclude_unset=True)
def pull(conn: ReadConn, engine: EngineDep, me: Reader,
         since: int = Query(0, ge=0, le=INT64_MAX, description="The `next` of the previous page; 0 for everything"),
         limit: int = Query(DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT)) -> Response:
    """The changes after ``since`` the caller may see, in server order, redacted; ``next`` and ``more``."""
    page = service.pull(conn, me, since=since, limit=limit)
    if me.device_id:
        note_seen(engine, me.device_id)
    # Version entries arrive serialized (shared across callers): written out as they are.
    return Response(orjson.dumps(page), media_type="application/json")
