"""The common ancestor of a report's conflicting heads: the version both sides edited from.

Shown beside the heads so an analyst sees what each side changed, not just that they differ.
The ancestor is the latest version (highest server sequence) that every head descends from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ..access import Principal, can_read, redact
from ..db.tables import reports, users, versions

__all__ = ["common_ancestor"]


def _ancestors(start: str, parents: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        vid = stack.pop()
        if vid in seen or vid not in parents:
            continue
        seen.add(vid)
        stack.extend(parents[vid])
    return seen


def common_ancestor(conn: Connection, principal: Principal, *, report_id: str,
                    head_ids: list[str]) -> dict[str, Any] | None:
    """The heads' latest common ancestor as ``{version_id, author, body}``, read under its own
    confidentiality (None when there is none, e.g. two roots, or the caller may not read it)."""
    rows = conn.execute(select(versions.c.version_id, versions.c.parents, versions.c.seq)
                        .where(versions.c.report_id == report_id)).all()
    parents = {r.version_id: list(r.parents or []) for r in rows}
    seqs = {r.version_id: r.seq for r in rows}
    if not head_ids:
        return None
    common = set.intersection(*(_ancestors(h, parents) for h in head_ids)) - set(head_ids)
    if not common:
        return None
    best = max(common, key=lambda vid: seqs[vid])
    row = conn.execute(
        select(versions.c.body, versions.c.author_user_id, users.c.username, reports.c.contingent_id)
        .join(users, users.c.id == versions.c.author_user_id)
        .join(reports, reports.c.id == versions.c.report_id)
        .where(versions.c.version_id == best)
    ).one()
    if not can_read(principal, contingent_id=row.contingent_id,
                    confidentiality=str((row.body or {}).get("confidentiality") or "restricted"),
                    author_user_id=row.author_user_id):
        return None
    return {"version_id": best, "author": row.username, "body": redact(principal, row.body)}
