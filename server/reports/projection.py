"""The ``reports`` projection: each report's current state, caught up from the change feed.

A push stores versions, heads and feed entries and commits; this consumer then rebuilds the
``reports`` row of every report with a new version (``server/feed_consumers.py``): right after
the commit that stored it, before the push answers, and first thing in any transaction or
request that reads the projection (``readers_wait``), so no answer is staler than the last
acknowledged push. The row is derived from the report's heads only, never edited by hand: the
head the list shows (`shown_head`) gives the content, its H3 cell and its confidentiality.
Review status and incident links are not projection columns and are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from ..access import CONFIDENTIALITY_RANK, level_of
from ..db.fast import ids_value, in_bound_ids, insert_many
from ..db.process_cache import BoundedLRU, per_engine
from ..db.tables import report_heads, reports, versions
from ..feed_consumers import FeedConsumer
from ..geo import report_cell


def columns(newest: dict[str, Any], newest_id: str, seq: int, heads_count: int, now: datetime) -> dict[str, Any]:
    """The ``reports`` columns derived from the head the list shows (`shown_head`)."""
    loc = newest.get("location") or {}
    if not loc and newest.get("route"):
        # A patrol without a reported position is placed at its route's start, so maps can show it.
        loc = newest["route"][0]
    return {
        "kind": newest["kind"],
        "category": newest["category"],
        "confidentiality": level_of(newest),
        "severity": newest.get("severity") or 1,
        "event_time": datetime.fromisoformat(newest["event_time"].replace("Z", "+00:00")),
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "h3_res8": report_cell(loc.get("lat"), loc.get("lon")),
        "title": newest.get("title") or "",
        "body": newest,
        "head_version_id": newest_id,
        "heads_count": heads_count,
        "last_seq": seq,
        "updated_at": now,
    }


def shown_head(bodies: list[dict[str, Any]], seqs: list[int]) -> int:
    """Which head the list shows: the newest of the least restrictive heads.

    With one head that is the newest version. When heads disagree on confidentiality the report is
    listed at the lowest level any head has, with that head's content, so it stays with the
    contingent that may read that head; the more restricted head is read under its own level
    (history, detail, feed). Nothing is widened: each head's content keeps its own level.
    """
    return min(range(len(bodies)), key=lambda i: (CONFIDENTIALITY_RANK[level_of(bodies[i])], -seqs[i]))


@dataclass(frozen=True)
class Head:
    version_id: str
    seq: int
    body: dict[str, Any]


# Canonical bodies of the versions this process stored lately, by (version id, feed seq). The push
# has each version's canonical body in hand; the projection, caught up right after the commit,
# would otherwise read and decode every one of them again. Keyed with the feed sequence as well,
# so an entry of a push whose transaction was rolled back (its sequence numbers reused by another
# version) can never be taken for a stored version's.
recent_bodies = per_engine(lambda: BoundedLRU[tuple[str, int], dict[str, Any]](5000))


@dataclass(frozen=True)
class _Queries:
    heads: Any
    head_seqs: Any
    head_bodies: Any
    existing: Any


@lru_cache(maxsize=2)
def queries(db: str) -> _Queries:
    """The projection's reads, built once per dialect (ids bound at execution); the push's write
    checks read the heads the same way."""
    return _Queries(
        heads=select(report_heads.c.report_id, report_heads.c.version_id)
        .where(in_bound_ids(report_heads.c.report_id, db)),
        head_seqs=select(versions.c.version_id, versions.c.seq).where(in_bound_ids(versions.c.version_id, db)),
        head_bodies=select(versions.c.version_id, versions.c.seq, versions.c.body, versions.c.canonical)
        .where(in_bound_ids(versions.c.version_id, db)),
        existing=select(reports.c.id).where(in_bound_ids(reports.c.id, db)),
    )


def project(conn: Connection, changes: Sequence[Row[Any]], _computed: Any = None) -> None:
    """Rebuild the ``reports`` row of every report that has a version among ``changes``."""
    first: dict[str, Row[Any]] = {}
    latest: dict[str, Row[Any]] = {}
    for c in changes:
        if c.kind == "version" and c.report_id:
            first.setdefault(c.report_id, c)
            latest[c.report_id] = c
    if not first:
        return
    ids = list(first)
    q = queries(conn.dialect.name)
    by_ids = {"ids": ids_value(ids, conn.dialect.name)}
    heads: dict[str, list[str]] = {rid: [] for rid in ids}
    for rid, vid in conn.execute(q.heads, by_ids):
        heads[rid].append(vid)
    # Each head's canonical body: from this process's push that just stored it when it can, else
    # read back (the stored canonical form where it differs from the body as pushed).
    recent = recent_bodies(conn.engine)
    head_ids = [v for hs in heads.values() for v in hs]
    stored: dict[str, Head] = {}
    for vid, seq in conn.execute(q.head_seqs, {"ids": ids_value(head_ids, conn.dialect.name)}):
        body = recent.get((vid, seq))
        if body is not None:
            stored[vid] = Head(vid, seq, body)
    missing = [v for v in head_ids if v not in stored]
    if missing:
        for r in conn.execute(q.head_bodies, {"ids": ids_value(missing, conn.dialect.name)}):
            stored[r.version_id] = Head(r.version_id, r.seq, (r.canonical if r.canonical is not None else r.body) or {})
    existing = set(conn.execute(q.existing, by_ids).scalars())
    new_rows, updates = [], []
    for rid in ids:
        rows = [stored[v] for v in heads[rid] if v in stored]
        if not rows:
            continue  # no head: nothing stored for it (cannot happen for a committed version)
        bodies = [r.body for r in rows]
        shown = shown_head(bodies, [r.seq for r in rows])
        change = latest[rid]
        cols = columns(bodies[shown], rows[shown].version_id, max(r.seq for r in rows), len(rows),
                       change.created_at)
        if rid in existing:
            updates.append(cols | {"_id": rid})
        else:
            # The report's first version is in this chunk: the cursor never passes a version
            # without projecting it.
            f = first[rid]
            new_rows.append(cols | {"id": rid, "contingent_id": f.contingent_id, "author_user_id": f.author_user_id,
                                    "first_seq": f.seq, "received_at": f.created_at, "review_status": "unreviewed"})
    if new_rows:
        insert_many(conn, reports, new_rows)
    if updates:
        conn.execute(update(reports).where(reports.c.id == bindparam("_id")), updates)


PROJECTION = FeedConsumer(
    name="reports.projected_through_seq",
    kinds=frozenset({"version"}),
    write=project,
    lock_key=7_000_101,
    timing="after_commit",
    readers_wait=True,
)
