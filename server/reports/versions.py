"""Storing report versions: insert-if-absent by version id, heads, and the derived current state.

A version id is the hash of its content, parents and device, so storing is idempotent: the same
version sent twice is stored once and answered ``duplicate``. A version whose parent is not yet
here is refused as ``missing_parent`` (retryable: the client keeps it and sends it again after the
parent). Heads are the versions no other version names as parent; more than one head is a
conflict, kept until someone writes a version whose parents are all heads. After every stored
version the ``reports`` row is rebuilt from the heads, never edited by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ...common.schema import ReportValidationError, parse_report, report_to_json
from ...common.versioning import version_id as compute_version_id
from .. import clock, feed
from ..access import HQ_ROLES, Principal, can_read, most_restrictive
from ..db.tables import contingents, report_attachments, report_heads, reports, versions

STORED = "stored"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass
class Outcome:
    """What happened to one pushed version."""

    version_id: str
    status: str
    report_id: str = ""
    field: str | None = None
    reason: str | None = None
    code: str | None = None
    seq: int | None = None
    in_conflict: bool = False
    errors: list[dict[str, Any]] = dataclass_field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version_id": self.version_id, "status": self.status, "report_id": self.report_id}
        if self.status == REJECTED:
            out |= {"code": self.code, "field": self.field, "reason": self.reason, "errors": self.errors}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.in_conflict:
            out["in_conflict"] = True
        return out


def device_key(principal: Principal) -> str:
    """The ``device`` part of a version id: the tablet's id, or the user for web/API edits."""
    return principal.device_id or f"user:{principal.username}"


def _reject(vid: str, report_id: str, code: str, reason: str, field: str | None = None,
            errors: list[dict[str, Any]] | None = None) -> Outcome:
    return Outcome(vid, REJECTED, report_id, field=field, reason=reason, code=code, errors=errors or [])


def store_version(
    conn: Connection,
    principal: Principal,
    *,
    report_id: str,
    version_id: str,
    parents: list[str],
    body: dict[str, Any],
    device_time: datetime | None = None,
) -> Outcome:
    """Validate and store one version if absent; rebuild its report's current state."""
    if conn.execute(select(versions.c.report_id).where(versions.c.version_id == version_id)).first():
        return Outcome(version_id, DUPLICATE, report_id)
    try:
        report = parse_report(body)
    except ReportValidationError as exc:
        errs = [{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors]
        first = errs[0] if errs else {"field": "body", "message": "invalid report"}
        return _reject(version_id, report_id, "invalid_report", first["message"], f"body.{first['field']}", errs)
    canonical = report_to_json(report)
    if str(canonical["id"]) != report_id:
        return _reject(version_id, report_id, "id_mismatch", "body.id differs from report_id", "body.id")
    expected = compute_version_id(body, parents, device_key(principal))
    if expected != version_id:
        return _reject(version_id, report_id, "version_id_mismatch",
                       "version_id is not the hash of this body, parents and device", "version_id")
    existing_parents = set(conn.execute(select(versions.c.version_id).where(
        versions.c.version_id.in_(parents), versions.c.report_id == report_id)).scalars())
    missing = [p for p in parents if p not in existing_parents]
    if missing:
        return _reject(version_id, report_id, "missing_parent",
                       f"parent version {missing[0]} is not on the server yet; send it first", "parents")
    current = conn.execute(select(reports).where(reports.c.id == report_id)).mappings().one_or_none()
    if current is None and parents:
        return _reject(version_id, report_id, "missing_parent", "a first version cannot have parents", "parents")
    contingent_code = canonical["contingent"]
    cid = conn.execute(select(contingents.c.id).where(contingents.c.code == contingent_code)).scalar()
    if cid is None:
        return _reject(version_id, report_id, "unknown_contingent", f"no contingent {contingent_code!r}",
                       "body.contingent")
    if principal.role not in HQ_ROLES and cid != principal.contingent_id:
        return _reject(version_id, report_id, "forbidden", "you may only report for your own contingent",
                       "body.contingent")
    if current is not None:
        if not can_read(principal, contingent_id=current["contingent_id"],
                        confidentiality=current["confidentiality"], author_user_id=current["author_user_id"]):
            return _reject(version_id, report_id, "forbidden", "you may not edit this report", "report_id")
        if cid != current["contingent_id"]:
            return _reject(version_id, report_id, "contingent_changed",
                           "a report stays with the contingent that first filed it", "body.contingent")

    seq = feed.append(conn, kind="version", report_id=report_id, ref=version_id, contingent_id=cid,
                      confidentiality=canonical["confidentiality"], author_user_id=principal.user_id,
                      device_id=principal.device_id, payload={"parents": sorted(parents)})
    now = clock.now()
    conn.execute(insert(versions).values(
        version_id=version_id, report_id=report_id, parents=sorted(parents), body=body,
        author_user_id=principal.user_id, device_id=principal.device_id, device_time=device_time,
        received_at=now, seq=seq))
    conn.execute(delete(report_heads).where(report_heads.c.report_id == report_id,
                                            report_heads.c.version_id.in_(parents)))
    conn.execute(insert(report_heads).values(report_id=report_id, version_id=version_id))
    for att in canonical.get("attachments") or []:
        if not conn.execute(select(report_attachments.c.sha256).where(
                report_attachments.c.report_id == report_id, report_attachments.c.sha256 == att["sha256"])).first():
            conn.execute(insert(report_attachments).values(report_id=report_id, sha256=att["sha256"]))
    heads = rebuild_projection(conn, report_id=report_id, contingent_id=cid,
                               author_user_id=current["author_user_id"] if current else principal.user_id,
                               seq=seq, created=current is None, newest=canonical, newest_id=version_id)
    return Outcome(version_id, STORED, report_id, seq=seq, in_conflict=heads > 1)


def rebuild_projection(conn: Connection, *, report_id: str, contingent_id: int, author_user_id: int, seq: int,
                       created: bool, newest: dict[str, Any], newest_id: str) -> int:
    """Derive the ``reports`` row from the heads: newest head's content, most restrictive level.

    ``newest`` is the canonical body of the version just stored (always the newest head); the
    other heads are read only when there are some, i.e. when the report is in conflict.
    """
    head_ids = list(conn.execute(select(report_heads.c.version_id).where(report_heads.c.report_id == report_id))
                    .scalars())
    levels = [newest["confidentiality"]]
    others = [h for h in head_ids if h != newest_id]
    if others:
        levels += [b.get("confidentiality", "restricted") for b in conn.execute(
            select(versions.c.body).where(versions.c.version_id.in_(others))).scalars()]
    loc = newest.get("location") or {}
    if not loc and newest.get("route"):
        # A patrol without a reported position is placed at its route's start, so maps can show it.
        loc = newest["route"][0]
    now = clock.now()
    values = {
        "kind": newest["kind"],
        "category": newest["category"],
        "contingent_id": contingent_id,
        "author_user_id": author_user_id,
        "confidentiality": most_restrictive(levels),
        "severity": newest.get("severity") or 1,
        "event_time": datetime.fromisoformat(newest["event_time"].replace("Z", "+00:00")),
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "title": newest.get("title") or "",
        "body": newest,
        "head_version_id": newest_id,
        "heads_count": len(head_ids),
        "last_seq": seq,
        "updated_at": now,
    }
    if created:
        conn.execute(insert(reports).values(id=report_id, first_seq=seq, received_at=now,
                                            review_status="unreviewed", **values))
    else:
        conn.execute(update(reports).where(reports.c.id == report_id).values(**values))
    return len(head_ids)
