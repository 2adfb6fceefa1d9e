"""Routes: agreements under ``/api/v1/sharing`` (admin; approval by a protection officer) and each
partner's pull feed under ``/api/v1/share/{partner}`` (the partner's API key, ``X-Partner-Key``).

Thin: validate, call `service` and `feed`, audit. The partner routes declare ``Permission.PARTNER``,
which no user role holds: a signed-in user is refused there, and a partner key opens nothing else.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from peacewatch.common.media_metadata import strip_metadata
from peacewatch.server.access import Permission, Principal
from peacewatch.server.alerts import cap
from peacewatch.server.attachments.service import check_sha, chunk_path
from peacewatch.server.community.protection import mission_key
from peacewatch.server.db.tables import attachments
from peacewatch.server.deps import Admin, SettingsDep, WriteConn, engine_of, require
from peacewatch.server.exports.pseudonyms import ensure_key
from peacewatch.server.problems import Code, Problem, not_found
from peacewatch.server.sharing import feed, service
from peacewatch.server.sharing.faces import FaceBlurError, blur_faces
from peacewatch.server.sharing.models import (
    AgreementIn,
    AgreementList,
    AgreementOut,
    AgreementUpdate,
    Approval,
    PartnerKey,
    PartnerSummary,
    PushIn,
    PushOut,
)

router = APIRouter(tags=["sharing"])

AgreementId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the agreement's id")]
PartnerSlug = Annotated[str, Path(max_length=64, description="the partner's short id, e.g. ohchr")]
FormatQ = Annotated[Literal["csv", "geojson", "cap"], Query(
    description="HXL CSV or GeoJSON of reports; cap: the shareable alerts as CAP 1.2 in Atom, if the agreement "
                "shares alerts (its own cursor: an alert id)")]
CursorQ = Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page; none = start")]
LimitQ = Annotated[int, Query(ge=1, le=feed.MAX_PAGE, description="reports per page")]
ProtectionOfficer = Annotated[Principal, Depends(require(Permission.APPROVE_SHARING))]
# A feed page is a file in the partner's format, never JSON.
FEED_FILE: dict[int | str, dict] = {200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                                     "application/geo+json": {"schema": {"type": "object"}}}}}


def _partner_guard(request: Request, partner: PartnerSlug,
                   x_partner_key: Annotated[str | None, Header(include_in_schema=False)] = None) -> service.Partner:
    with engine_of(request).connect() as conn, conn.begin():
        return service.authenticate_partner(conn, key=x_partner_key, partner=partner)


_partner_guard.permission = Permission.PARTNER  # type: ignore[attr-defined]
PartnerDep = Annotated[service.Partner, Depends(_partner_guard)]


@router.get("/sharing/agreements", response_model=AgreementList)
def list_agreements(conn: WriteConn, _: Admin) -> dict:
    """Every sharing agreement with its current version and state."""
    return {"agreements": service.list_agreements(conn)}


@router.post("/sharing/agreements", status_code=201, response_model=AgreementOut)
def create_agreement(data: AgreementIn, conn: WriteConn, me: Admin) -> dict:
    """A new agreement with a partner (inactive until approved if it touches human-rights concerns)."""
    return service.create(conn, me, data)


@router.get("/sharing/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(agreement_id: AgreementId, conn: WriteConn, _: Admin) -> dict:
    """One agreement with every version of its policy."""
    return service.describe(conn, agreement_id, with_history=True)


@router.put("/sharing/agreements/{agreement_id}", response_model=AgreementOut)
def change_agreement(agreement_id: AgreementId, data: AgreementUpdate, conn: WriteConn, me: Admin) -> dict:
    """Change the policy: a new version (approval, if needed, is needed again)."""
    return service.change(conn, me, agreement_id, data)


@router.post("/sharing/agreements/{agreement_id}/approve", response_model=AgreementOut)
def approve_agreement(agreement_id: AgreementId, data: Approval, conn: WriteConn, me: ProtectionOfficer) -> dict:
    """A protection officer approves the agreement's current version."""
    return service.approve(conn, me, agreement_id, data.version)


@router.post("/sharing/agreements/{agreement_id}/revoke", response_model=AgreementOut)
def revoke_agreement(agreement_id: AgreementId, conn: WriteConn, me: Admin) -> dict:
    """Stop delivery at once."""
    return service.revoke(conn, me, agreement_id)


@router.post("/sharing/agreements/{agreement_id}/key", response_model=PartnerKey)
def issue_key(agreement_id: AgreementId, conn: WriteConn, me: Admin) -> dict:
    """A new API key for the partner, shown once (the previous key stops working)."""
    return service.issue_key(conn, me, agreement_id)


@router.put("/sharing/agreements/{agreement_id}/push", response_model=PushOut)
def set_push(agreement_id: AgreementId, data: PushIn, request: Request, conn: WriteConn, settings: SettingsDep,
             me: Admin, after: BackgroundTasks) -> dict:
    """Push each new page of the partner's feed to `url`, signed with a new secret shown once; null stops it."""
    out = service.set_push(conn, me, agreement_id, str(data.url) if data.url else None,
                           mission_key=mission_key(settings))
    worker = getattr(request.app.state, "push_worker", None)
    if worker is not None and data.url:
        # After the response, so after the commit: the worker reads the endpoint in its own transaction.
        after.add_task(worker.poke)
    return out


def _render(conn: Connection, request: Request, terms: service.Partner, *, fmt: str, cursor: int,
            limit: int) -> tuple[feed.Page, Response]:
    if fmt == "cap":
        return _render_cap(conn, terms, cursor=cursor, limit=limit)
    p = feed.page(conn, terms.policy, key=ensure_key(conn), cursor=cursor, limit=limit)
    headers = {"X-Next-Cursor": str(p.next_cursor), "X-More": "true" if p.more else "false",
               "X-Agreement-Version": str(terms.version)}
    if fmt == "csv":
        return p, Response(feed.render_csv(p, terms.policy), media_type="text/csv; charset=utf-8", headers=headers)
    url = f"/api/v1/share/{terms.partner}/attachments/{{sha256}}"
    return p, Response(feed.render_geojson(p, attachment_url=url), media_type="application/geo+json",
                       headers=headers)


def _render_cap(conn: Connection, terms: service.Partner, *, cursor: int, limit: int) -> tuple[feed.Page, Response]:
    """The shareable alerts as CAP 1.2, for an agreement that shares alerts (else 403)."""
    if not terms.policy.get("alerts"):
        raise Problem(Code.FORBIDDEN, "this agreement does not share alerts", field="format")
    body, next_cursor, more, _ids = cap.partner_page(conn, partner=terms.partner,
                                                     categories=terms.policy.get("categories") or [],
                                                     cursor=cursor, limit=limit)
    headers = {"X-Next-Cursor": str(next_cursor), "X-More": "true" if more else "false",
               "X-Agreement-Version": str(terms.version)}
    return feed.Page(records=[], attachments={}, cursor=cursor, next_cursor=next_cursor, more=more), Response(
        body, media_type="application/atom+xml", headers=headers)


@router.get("/sharing/agreements/{agreement_id}/preview", response_class=Response, responses=FEED_FILE)
def preview(agreement_id: AgreementId, request: Request, conn: WriteConn, me: Admin, format: FormatQ = "geojson",
            cursor: CursorQ = None, limit: LimitQ = 100) -> Response:
    """Exactly what the partner would receive next from `cursor` (403 if it would receive nothing)."""
    terms = service.active_terms(conn, agreement_id)
    start = service.parse_cursor(cursor)
    p, resp = _render(conn, request, terms, fmt=format, cursor=start, limit=limit)
    service.audit_delivery(conn, terms, action="share_preview", fmt=format, cursor=start, next_cursor=p.next_cursor,
                           report_ids=[r["id"] for r in p.records],
                           attachments=sorted({h for hs in p.attachments.values() for h in hs}), actor=me)
    return resp


@router.get("/share/{partner}/feed", response_class=Response, responses=FEED_FILE)
def partner_feed(partner: PartnerSlug, request: Request, conn: WriteConn, terms: PartnerDep,
                 format: FormatQ = "csv", cursor: CursorQ = None, limit: LimitQ = 100) -> Response:
    """The next page of what your agreement shares, from `cursor` (headers X-Next-Cursor and X-More)."""
    start = service.parse_cursor(cursor)
    p, resp = _render(conn, request, terms, fmt=format, cursor=start, limit=limit)
    service.audit_delivery(conn, terms, action="share_delivery", fmt=format, cursor=start, next_cursor=p.next_cursor,
                           report_ids=[r["id"] for r in p.records],
                           attachments=sorted({h for hs in p.attachments.values() for h in hs}))
    return resp


@router.get("/share/{partner}/summary", response_model=PartnerSummary)
def partner_summary(partner: PartnerSlug, request: Request, conn: WriteConn, terms: PartnerDep) -> dict:
    """Counts per category, grid cell and period; counts below the agreement's minimum are left out."""
    groups = feed.summary(conn, terms.policy, key=ensure_key(conn))
    service.audit_delivery(conn, terms, action="share_summary", fmt="json", cursor=0, next_cursor=0,
                           report_ids=[], attachments=[])
    return {"partner": terms.partner, "version": terms.version, "min_count": terms.policy["min_count"],
            "groups": groups}


@router.get("/share/{partner}/attachments/{sha256}", response_class=Response, responses={200: {"content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}}}}})
def partner_attachment(partner: PartnerSlug, sha256: str, conn: WriteConn, settings: SettingsDep,
                       terms: PartnerDep) -> Response:
    """An image of a shared report, its metadata (EXIF GPS, device, time) stripped, and its faces
    blurred if the agreement says so."""
    check_sha(sha256)
    media_type = feed.shareable_attachment(conn, terms.policy, sha256)
    row = conn.execute(select(attachments.c.chunks).where(attachments.c.sha256 == sha256)).scalar_one_or_none()
    if media_type is None or row is None:
        raise not_found(f"attachment {sha256}")
    paths = [chunk_path(settings.attachments_dir, h) for h in row]
    if not all(p.is_file() for p in paths):
        raise not_found(f"attachment {sha256} (its data is no longer on the server)")
    data, stripped = strip_metadata(b"".join(p.read_bytes() for p in paths))
    if not stripped:  # an image whose metadata cannot be removed does not leave
        raise not_found(f"attachment {sha256}")
    faces = None
    if terms.policy.get("blur_faces"):
        try:
            data, faces = blur_faces(data, media_type)
        except FaceBlurError:  # an image that cannot be blurred does not leave either
            raise not_found(f"attachment {sha256}") from None
    service.audit_delivery(conn, terms, action="share_delivery", fmt="attachment", cursor=0, next_cursor=0,
                           report_ids=[], attachments=[sha256],
                           extra=None if faces is None else {"faces_blurred": faces})
    return Response(data, media_type=media_type)
