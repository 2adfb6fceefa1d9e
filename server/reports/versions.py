"""Storing report versions: insert-if-absent by version id, heads, and the change feed.

A version id is the hash of its content, parents and device, so storing is idempotent: the same
version sent twice is stored once and answered ``duplicate``. A version whose parent is not yet
here is refused as ``missing_parent`` (retryable: the client keeps it and sends it again after the
parent). Heads are the versions no other version names as parent; more than one head is a
conflict, kept until someone writes a version whose parents are all heads.

Per version there are two steps, kept apart: ``_parse`` (the version on its own: shape, schema,
content hash; no database) and ``_check`` (the version against what the store holds: parents,
contingent, who may edit the report). Storing itself writes only versions, heads and feed
entries; the ``reports`` projection is derived from them after the commit
(``reports/projection.py``), and caught up first here, so the checks read it current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ...common.fast_schema import canonical_body
from ...common.schema import ReportValidationError
from ...common.sync_protocol import PushStatus, RejectionCode
from ...common.versioning import version_id as compute_version_id
from .. import clock, feed
from ..access import (
    HQ_ROLES,
    PERSON_LISTS,
    Principal,
    Refusal,
    check_write,
    level_of,
    redact_fields_differ,
)
from ..attachments.service import link_references
from ..db.fast import ids_value, in_bound_ids, insert_many
from ..db.tables import changes, contingents, report_attachments, report_heads, reports, users, versions
from ..feed_consumers import catch_up_in
from .projection import PROJECTION, recent_bodies
from .projection import queries as projection_queries

STORED = PushStatus.STORED
DUPLICATE = PushStatus.DUPLICATE
REJECTED = PushStatus.REJECTED


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


@dataclass(frozen=True)
class NewVersion:
    """One version to store, as pushed."""

    report_id: str
    version_id: str
    parents: list[str]
    body: dict[str, Any]
    device_time: datetime | None = None
    device_id: str | None = None  # the device the client says made it; must be the caller's


@dataclass
class _Accepted:
    entry: NewVersion
    canonical: dict[str, Any]
    contingent_id: int
    in_conflict: bool


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
    """Validate and store one version if absent; the caller's transaction then reads it projected.

    For single edits (conflict resolution, seeding) that read the report back in the same
    transaction; pushes leave the projection to the catch-up after their commit.
    """
    outcome = store_versions(conn, principal, [NewVersion(report_id, version_id, parents, body, device_time)])[0]
    catch_up_in(conn, PROJECTION)
    return outcome


@dataclass(frozen=True)
class _Queries:
    stored: Any
    parents: Any
    current: Any
    drop_heads: Any


@lru_cache(maxsize=2)
def _queries(db: str) -> _Queries:
    """The push's set queries, built once per dialect (ids bound at execution): building them
    cost about as much as running them on a small batch."""
    return _Queries(
        stored=select(versions.c.version_id).where(in_bound_ids(versions.c.version_id, db)),
        parents=select(versions.c.version_id, versions.c.report_id, versions.c.body)
        .where(in_bound_ids(versions.c.version_id, db)),
        current=select(reports.c.id, reports.c.contingent_id, reports.c.confidentiality, reports.c.author_user_id,
                       users.c.username.label("author_username"), users.c.role.label("author_role"))
        .join(users, users.c.id == reports.c.author_user_id).where(in_bound_ids(reports.c.id, db)),
        drop_heads=delete(report_heads).where(in_bound_ids(report_heads.c.report_id, db)),
    )


def store_versions(conn: Connection, principal: Principal, entries: Sequence[NewVersion]) -> list[Outcome]:
    """Validate and store a batch (parents before children), one outcome per entry in order.

    The same rules as one version at a time, decided in memory against a handful of set queries,
    then written with one statement per table: a batch of 100 costs about what one version did.
    """
    if not entries:
        return []
    key = device_key(principal)
    # Validation is the CPU-heavy part and needs no lock: do it before queueing for the write lock.
    # A sector server pushes versions its tablets made: each is hashed with the device it names.
    parsed = [_parse(e, e.device_id or "", replicated=True) if principal.replicates else _parse(e, key)
              for e in entries]
    contingent_by_code = dict(conn.execute(select(contingents.c.code, contingents.c.id)).all())
    feed.take_write_lock(conn)
    # The write checks read the projection: bring it up to every commit before this one (a
    # no-op unless another process committed and has not caught up yet).
    catch_up_in(conn, PROJECTION)
    report_ids = list(dict.fromkeys(e.report_id for e in entries))
    batch_ids = [e.version_id for e in entries]
    parent_ids = list({p for e in entries for p in e.parents})
    db = conn.dialect.name
    q = _queries(db)
    already = set(conn.execute(q.stored, {"ids": ids_value(batch_ids, db)}).scalars())
    known: dict[str, str] = {}
    bodies: dict[str, dict[str, Any]] = {}  # parents' stored bodies: the write policy reads them
    for vid, rid, body in (conn.execute(q.parents, {"ids": ids_value(parent_ids, db)}) if parent_ids else []):
        known[vid], bodies[vid] = rid, body or {}
    by_report = {"ids": ids_value(report_ids, db)}
    current: dict[str, dict[str, Any]] = {r["id"]: dict(r) for r in conn.execute(q.current, by_report).mappings()}
    heads: dict[str, set[str]] = {rid: set() for rid in report_ids}
    for rid, vid in conn.execute(projection_queries(db).heads, by_report):
        heads[rid].add(vid)

    outcomes: list[Outcome] = []
    accepted: list[_Accepted] = []
    created: set[str] = set()
    for e, checked in zip(entries, parsed, strict=True):
        if e.version_id in already:
            outcomes.append(Outcome(e.version_id, DUPLICATE, e.report_id))
            continue
        outcome = checked if isinstance(checked, Outcome) else _check(
            principal, e, checked, known, bodies, current, contingent_by_code)
        if isinstance(outcome, Outcome):
            outcomes.append(outcome)
            continue
        canonical, cid = outcome
        if e.report_id not in current:
            created.add(e.report_id)
            current[e.report_id] = {"id": e.report_id, "contingent_id": cid, "author_user_id": principal.user_id,
                                    "author_username": principal.username,
                                    "confidentiality": canonical["confidentiality"]}
        bodies[e.version_id] = canonical
        heads[e.report_id] = (heads[e.report_id] - set(e.parents)) | {e.version_id}
        known[e.version_id] = e.report_id
        already.add(e.version_id)
        accepted.append(_Accepted(e, canonical, cid, len(heads[e.report_id]) > 1))
        outcomes.append(Outcome(e.version_id, STORED, e.report_id, in_conflict=len(heads[e.report_id]) > 1))
    if accepted:
        seqs = _write(conn, principal, accepted, heads, current, created)
        by_id = {a.entry.version_id: seq for a, seq in zip(accepted, seqs, strict=True)}
        for o in outcomes:
            if o.status == STORED:
                o.seq = by_id[o.version_id]
    return outcomes


def _parse(e: NewVersion, key: str, *, replicated: bool = False) -> Outcome | dict[str, Any]:
    """The version's canonical body, or why it is refused on its own (no database needed)."""
    vid, rid = e.version_id, e.report_id
    if replicated and not key:
        return _reject(vid, rid, RejectionCode.DEVICE_MISMATCH, "a replicated version names the device that made it",
                       "device_id")
    if e.device_id is not None and e.device_id != key:
        return _reject(vid, rid, RejectionCode.DEVICE_MISMATCH,
                       f"this version names device {e.device_id}, but the request is authenticated as {key}",
                       "device_id")
    try:
        # The compiled fast path for valid bodies; anything it cannot vouch for (every invalid
        # body among them) is decided by schema.parse_report, so refusals read as they always did.
        canonical = canonical_body(e.body)
    except ReportValidationError as exc:
        errs = [{"field": fe.field, "code": fe.code, "message": fe.message} for fe in exc.errors]
        first = errs[0] if errs else {"field": "body", "message": "invalid report"}
        return _reject(vid, rid, RejectionCode.INVALID_REPORT, first["message"], f"body.{first['field']}", errs)
    if str(canonical["id"]) != rid:
        return _reject(vid, rid, RejectionCode.ID_MISMATCH, "body.id differs from report_id", "body.id")
    if compute_version_id(e.body, e.parents, key) != vid:
        return _reject(vid, rid, RejectionCode.VERSION_ID_MISMATCH,
                       "version_id is not the hash of this body, parents and device", "version_id")
    return canonical


def _check(principal: Principal, e: NewVersion, canonical: dict[str, Any], known: dict[str, str],
           bodies: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]],
           contingent_by_code: dict[str, int]) -> Outcome | tuple[dict[str, Any], int]:
    """Why a valid version is refused by what the store holds, or its canonical body and contingent id."""
    vid, rid = e.version_id, e.report_id
    missing = [p for p in e.parents if known.get(p) != rid]
    if missing:
        return _reject(vid, rid, RejectionCode.MISSING_PARENT,
                       f"parent version {missing[0]} is not on the server yet; send it first", "parents")
    cur = current.get(rid)
    if cur is None and e.parents:
        return _reject(vid, rid, RejectionCode.MISSING_PARENT, "a first version cannot have parents", "parents")
    code = canonical["contingent"]
    cid = contingent_by_code.get(code)
    if cid is None:
        return _reject(vid, rid, RejectionCode.UNKNOWN_CONTINGENT, f"no contingent {code!r}", "body.contingent")
    if principal.role not in HQ_ROLES and cid not in principal.contingents:
        return _reject(vid, rid, RejectionCode.FORBIDDEN, "you may only report for your own contingent",
                       "body.contingent")
    if cur is not None and cid != cur["contingent_id"]:
        return _reject(vid, rid, RejectionCode.CONTINGENT_CHANGED,
                       "a report stays with the contingent that first filed it", "body.contingent")
    # The write policy (access.check_write): who may edit, widening, author, hidden names.
    verdict = check_write(principal, report=cur, parents=[bodies[p] for p in e.parents], body=canonical)
    if isinstance(verdict, Refusal):
        return _reject(vid, rid, RejectionCode(verdict.code), verdict.reason, verdict.field)
    return verdict, cid


def _write(conn: Connection, principal: Principal, accepted: list[_Accepted], heads: dict[str, set[str]],
           current: dict[str, dict[str, Any]], created: set[str]) -> list[int]:
    """Insert the accepted versions, their feed entries and the touched reports' heads.

    One multi-row statement per table; the feed's sequence numbers are allocated here under the
    write lock (``feed.allocate``), so no statement has to return them row by row.
    """
    now = clock.now()
    first = feed.allocate(conn, len(accepted))
    seqs = list(range(first, first + len(accepted)))
    insert_many(conn, changes, [
        {"seq": seq, "kind": "version", "report_id": a.entry.report_id, "ref": a.entry.version_id,
         "contingent_id": a.contingent_id, "confidentiality": a.canonical["confidentiality"],
         "author_user_id": principal.user_id, "device_id": principal.device_id,
         "payload": {"parents": sorted(a.entry.parents)}, "created_at": now}
        for a, seq in zip(accepted, seqs, strict=True)])
    insert_many(conn, versions, [
        {"version_id": a.entry.version_id, "report_id": a.entry.report_id, "parents": sorted(a.entry.parents),
         "body": (stored := _stored_body(a.entry.body, a.canonical)), "author_user_id": principal.user_id,
         # The device that made it: the caller's own, or for a sector server the tablet it names.
         "device_id": a.entry.device_id or principal.device_id, "device_time": a.entry.device_time,
         "received_at": now, "seq": seq,
         # Most bodies arrive canonical already (the tablet normalises them): stored once then.
         "canonical": None if a.canonical == stored else a.canonical}
        for a, seq in zip(accepted, seqs, strict=True)])
    # The projection, caught up right after the commit, takes these bodies instead of reading them back.
    recent_bodies(conn.engine).put_many(((a.entry.version_id, seq), a.canonical)
                                        for a, seq in zip(accepted, seqs, strict=True))
    touched = list(dict.fromkeys(a.entry.report_id for a in accepted))
    conn.execute(_queries(conn.dialect.name).drop_heads, {"ids": ids_value(touched, conn.dialect.name)})
    insert_many(conn, report_heads, [{"report_id": rid, "version_id": vid}
                                        for rid in touched for vid in sorted(heads[rid])])
    _link_attachments(conn, principal, accepted, touched, seqs)
    return seqs


def _stored_body(sent: dict[str, Any], decided: dict[str, Any]) -> dict[str, Any]:
    """The body as sent, with what the server decides: author, confidentiality, carried-over names."""
    out = dict(sent) | {"author": decided["author"], "confidentiality": decided["confidentiality"]}
    for key in PERSON_LISTS:
        if key in decided and redact_fields_differ(sent.get(key), decided[key]):
            out[key] = decided[key]
    return out


def _link_attachments(conn: Connection, principal: Principal, accepted: list[_Accepted], touched: list[str],
                      seqs: list[int]) -> None:
    # Per version, at its own level, and legitimate only if its writer holds or could read the file.
    link_references(conn, principal, [(a.entry.version_id, a.entry.report_id, level_of(a.canonical),
                                       [att["sha256"] for att in a.canonical.get("attachments") or []])
                                      for a in accepted])
    wanted = {(a.entry.report_id, att["sha256"]) for a in accepted for att in a.canonical.get("attachments") or []}
    if not wanted:
        return
    have = set(conn.execute(select(report_attachments.c.report_id, report_attachments.c.sha256)
                            .where(report_attachments.c.report_id.in_(touched))).tuples())
    missing = sorted(wanted - have)
    if missing:
        conn.execute(insert(report_attachments), [{"report_id": r, "sha256": h} for r, h in missing])
