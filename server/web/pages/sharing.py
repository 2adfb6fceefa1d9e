"""Dashboard pages for sharing agreements (admin): the agreements, and a preview of exactly what a
partner would receive next, built by the same code as the partner's feed (``sharing.feed``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ...exports.pseudonyms import ensure_key
from ...problems import Problem
from ...sharing import feed, service
from ...sharing.policy import policy_columns
from ..render import page
from ..services import WriteTx
from ..session import AdminPage

router = APIRouter(include_in_schema=False, prefix="/admin")


@router.get("/sharing")
def sharing_page(request: Request, conn: WriteTx, me: AdminPage) -> Response:
    return page(request, "admin_sharing.html", me, agreements=service.list_agreements(conn))


@router.get("/sharing/{agreement_id}")
def preview_page(request: Request, conn: WriteTx, me: AdminPage, agreement_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
                 cursor: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0) -> Response:
    agreement = service.describe(conn, agreement_id)
    try:
        terms = service.active_terms(conn, agreement_id)
    except Problem as exc:  # revoked or awaiting approval: the partner receives nothing
        return page(request, "admin_sharing_preview.html", me, agreement=agreement, refused=exc.message,
                    columns=(), records=[], next_cursor=cursor, more=False)
    p = feed.page(conn, terms.policy, key=ensure_key(conn), cursor=cursor, limit=100)
    service.audit_delivery(conn, terms, action="share_preview", fmt="page", cursor=cursor, next_cursor=p.next_cursor,
                           report_ids=[r["id"] for r in p.records],
                           attachments=sorted({h for hs in p.attachments.values() for h in hs}), actor=me)
    return page(request, "admin_sharing_preview.html", me, agreement=agreement, refused="",
                columns=policy_columns(terms.policy), records=p.records,
                next_cursor=p.next_cursor, more=p.more)
