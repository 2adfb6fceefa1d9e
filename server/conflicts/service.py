"""Conflicts: reports whose version DAG has more than one head, shown field by field, and resolved.

Nothing is overwritten: a resolution is one more version whose parents are ALL current heads,
written with the resolver's device key, stored through ``store_version`` like any push, so devices
pull it as an ordinary ``version`` change (its ``parents`` show what it resolves). A caller may
name the heads it saw (``parents``); if the heads moved meanwhile the resolution is refused with
409 and the current heads, so nobody resolves a conflict they have not seen. Every resolution is
written to the audit log.

The diff compares heads as the caller may see them (each under its own level, redacted), so it
cannot leak names or a restricted head. The resolution is checked by the one write policy
(``access.check_write``), exactly as a resolution pushed by a tablet: every head must be readable
by the resolver, and names it cannot see are carried over from the heads, or the resolution is
refused where that is ambiguous (heads that disagree on them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from ...common.versioning import version_id as compute_version_id
from .. import feed
from ..access import Principal, can_read_version, level_of, redact, visible_clause
from ..audit.service import record
from ..db.tables import report_heads, reports, users, versions
from ..problems import Code, Problem, forbidden, invalid
from ..reports.service import load_readable
from ..reports.versions import REJECTED, device_key, store_version

_MISSING = object()


def _iso(v: Any) -> Any:
    return v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else v


def flatten(body: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values. Lists are leaves: an inserted element would shift every index
    after it, so an index-by-index diff would report changes that did not happen."""
    if isinstance(body, dict) and body:
        out: dict[str, Any] = {}
        for key, value in body.items():
            out |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: body} if prefix else {}


def field_diff(heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dotted fields whose values differ between heads: ``[{"field", "values": {version_id: value}}]``.

    A field absent from a head is shown as ``null`` for it. Fields come in sorted order.
    """
    flat = {h["version_id"]: flatten(h["body"]) for h in heads}
    paths = sorted(set().union(*(f.keys() for f in flat.values()))) if flat else []
    out = []
    for path in paths:
        values = {vid: f.get(path, _MISSING) for vid, f in flat.items()}
        distinct = {repr(v) for v in values.values()}
        if len(distinct) > 1:
            out.append({"field": path, "values": {vid: (None if v is _MISSING else v) for vid, v in values.items()}})
    return out


def _heads(conn: Connection, report_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(versions.c.version_id, versions.c.body, versions.c.received_at, versions.c.device_id,
               users.c.username.label("author"))
        .join(report_heads, report_heads.c.version_id == versions.c.version_id)
        .join(users, users.c.id == versions.c.author_user_id)
        .where(report_heads.c.report_id == report_id).order_by(versions.c.seq.desc())
    ).mappings().all()
    return [dict(r) for r in rows]


def _item(principal: Principal, report_id: str, heads: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [{"version_id": h["version_id"], "author": h["author"], "device_id": h["device_id"],
              "received_at": _iso(h["received_at"]), "body": redact(principal, h["body"])} for h in heads]
    return {"report_id": report_id, "heads": shown, "fields": field_diff(shown)}


def list_conflicts(conn: Connection, principal: Principal, *, limit: int) -> dict[str, Any]:
    """Reports in conflict the caller may read, most recently changed first, with their field diffs."""
    where = (reports.c.heads_count > 1, visible_clause(principal, reports))
    total = conn.execute(select(func.count()).select_from(reports).where(*where)).scalar_one()
    rows = conn.execute(select(reports.c.id, reports.c.contingent_id, reports.c.confidentiality,
                               reports.c.author_user_id).where(*where)
                        .order_by(reports.c.last_seq.desc()).limit(limit)).mappings().all()
    # Each head under its own level: a restricted head is not shown to whom it is hidden from.
    items = [_item(principal, r["id"], [h for h in _heads(conn, r["id"])
                                        if can_read_version(principal, r, level_of(h["body"]))]) for r in rows]
    return {"items": items, "total": total}


def _refusal(outcome: Any) -> Problem:
    """A ``store_version`` rejection as the matching HTTP problem."""
    if outcome.code in ("forbidden", "hidden_fields", "confidentiality_widened"):
        return forbidden(outcome.reason or "you may not edit this report")
    field = outcome.field or "body"
    return Problem(Code.INVALID_INPUT, f"{field}: {outcome.reason}", field=field, reason_code=outcome.code,
                   errors=outcome.errors)


def resolve(conn: Connection, principal: Principal, *, report_id: str, pick: str | None = None,
            body: dict[str, Any] | None = None, parents: list[str] | None = None) -> dict[str, Any]:
    """Write the version that ends a conflict: a picked head's body, or a merged body; parents = all heads."""
    if (pick is None) == (body is None):
        raise invalid("pick", "give exactly one of 'pick' (a head's version_id) or 'body' (a merged body)")
    feed.take_write_lock(conn)  # the heads read below must still be the heads when the version is stored
    row = load_readable(conn, principal, report_id)
    heads = _heads(conn, report_id)
    head_ids = sorted(h["version_id"] for h in heads)
    if parents is not None and sorted(set(parents)) != head_ids:
        raise Problem(Code.CONFLICT, "the report's heads changed since you looked; review them again",
                      field="parents", heads=head_ids)
    if len(heads) < 2:
        raise Problem(Code.CONFLICT, "this report is not in conflict", field="report_id", heads=head_ids)
    if pick is not None:
        chosen = next((h for h in heads if h["version_id"] == pick), None)
        if chosen is None:
            raise invalid("pick", "is not one of the report's current heads", heads=head_ids)
        new_body = chosen["body"]
        method = "pick"
    else:
        assert body is not None
        new_body = body
        method = "merge"
    vid = compute_version_id(new_body, head_ids, device_key(principal))
    outcome = store_version(conn, principal, report_id=report_id, version_id=vid, parents=head_ids, body=new_body)
    if outcome.status == REJECTED:
        raise _refusal(outcome)
    record(conn, action="conflict_resolved", actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=report_id,
           detail={"method": method, "version_id": vid, "parents": head_ids, "picked": pick,
                   "contingent_id": row["contingent_id"]})
    return {"report_id": report_id, "version_id": vid, "parents": head_ids, "seq": outcome.seq,
            "method": method, "in_conflict": outcome.in_conflict}
