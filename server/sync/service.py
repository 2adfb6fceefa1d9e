"""Sync protocol v1 on the server: storing pushed batches and paging the change feed for a caller.

Push: a batch (at most ``MAX_BATCH`` versions) is stored in the request's one transaction, parents
first whatever order the entries came in, through ``reports.versions.store_versions`` (which
is insert-if-absent by content hash, so a batch sent twice, cut in the middle or reordered across
batches stores every version exactly once). Duplicate proposals are not computed here: they catch
up from the feed after the commit (``duplicates.backlog``), so a push costs only its own storing.
The answer keeps the input order and says per version: stored, duplicate or rejected (with
``retryable`` true only for ``missing_parent``, the one refusal that sending the parent cures).

Pull: the feed after a cursor, in server sequence order only (device clocks never matter),
filtered in SQL against each report's CURRENT visibility (``access.visible_clause`` on the
``reports`` projection) and redacted with ``access.redact``. Alerts addressed to the caller whose
every report they may read arrive as changes of kind ``alert`` (``alerts.pull``). ``next`` is the last sequence number
examined, so the client never re-reads changes it was not allowed to see; the upper bound is read
first, which (with the feed's write lock making commits arrive in sequence order) guarantees that
no change at or below ``next`` can still appear later.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, false, or_, select, true

from .. import feed
from ..access import Permission, Principal, redact, visible_clause
from ..alerts import pull as alert_pull
from ..db.tables import changes, reports, users, versions
from ..devices.service import touch
from ..reports.versions import REJECTED, STORED, NewVersion, store_versions

MAX_BATCH = 500
DEFAULT_PULL_LIMIT = 200
MAX_PULL_LIMIT = 1000
SCAN_PAGES = 2  # feed entries examined per pull request: at most this many pages' worth
# Refusals the client can cure by sending something else first; everything else needs a person.
RETRYABLE_CODES = frozenset({"missing_parent"})
REPORT_KINDS = ("version", "review", "comment")


# One version of a push batch, already shape-checked by the view.
PushEntry = NewVersion


def topological_order(entries: Sequence[PushEntry]) -> list[int]:
    """Indexes of ``entries`` with every in-batch parent before its children, else input order.

    Kahn's algorithm, always taking the earliest ready entry, so a batch already in order is
    untouched. Entries caught in a cycle (only a forged batch can have one: ids are content hashes)
    follow in input order and are then refused by ``store_version``.
    """
    index_of: dict[str, int] = {}
    for i, e in enumerate(entries):
        index_of.setdefault(e.version_id, i)
    waiting_on = [0] * len(entries)
    children: dict[int, list[int]] = {}
    for i, e in enumerate(entries):
        for parent in set(e.parents):
            j = index_of.get(parent)
            if j is not None and j != i:
                waiting_on[i] += 1
                children.setdefault(j, []).append(i)
    ready = [i for i, n in enumerate(waiting_on) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for child in children.get(i, []):
            waiting_on[child] -= 1
            if waiting_on[child] == 0:
                heapq.heappush(ready, child)
    if len(order) < len(entries):
        placed = set(order)
        order.extend(i for i in range(len(entries)) if i not in placed)
    return order


def push(conn: Connection, principal: Principal, entries: Sequence[PushEntry]) -> dict[str, Any]:
    """Store a batch parents-first; one result per entry in input order, and the feed's last seq."""
    # store_versions validates first, then takes the feed's write lock before reading what is
    # stored: two devices pushing the same version at once answer stored + duplicate, never clash.
    order = topological_order(entries)
    outcomes = store_versions(conn, principal, [entries[i] for i in order])
    if principal.device_id:
        touch(conn, principal.device_id)
    results: list[dict[str, Any] | None] = [None] * len(entries)
    for i, outcome in zip(order, outcomes, strict=True):
        result = outcome.as_dict()
        result["retryable"] = outcome.status == REJECTED and outcome.code in RETRYABLE_CODES
        if outcome.status == STORED:
            result["in_conflict"] = outcome.in_conflict
        results[i] = result
    return {"results": results, "last_seq": feed.last_seq(conn)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _feed_filter(principal: Principal) -> Any:
    """Which feed rows the principal may receive (SQL), evaluated against current report state."""
    if principal.reads_restricted:
        # The protection team reads every level.
        once_restricted_ok: Any = true()
    else:
        # A change made while the report was restricted (e.g. an older restricted version of a
        # report since downgraded) stays readable only by those who may read restricted content
        # of this report: its author.
        once_restricted_ok = or_(changes.c.confidentiality.is_(None), changes.c.confidentiality != "restricted",
                                 reports.c.author_user_id == principal.user_id)
    about_report = and_(changes.c.kind.in_(REPORT_KINDS), reports.c.id.is_not(None),
                        visible_clause(principal, reports), once_restricted_ok)
    if principal.device_id is not None:
        # The calling device has its own versions already; ``next`` still moves past them.
        about_report = and_(about_report, or_(changes.c.kind != "version", changes.c.device_id.is_(None),
                                              changes.c.device_id != principal.device_id))
    if principal.may(Permission.ANALYSE):
        incidents = and_(changes.c.kind == "incident",
                         or_(changes.c.confidentiality.is_(None), visible_clause(principal, changes)))
    else:
        incidents = false()
    return or_(about_report, changes.c.kind == "reference", incidents, alert_pull.feed_clause(principal))


def _change_out(principal: Principal, row: Any, alert_views: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    kind = row["kind"]
    payload = row["payload"] or {}
    if kind == "alert":
        # Rendered under the same visibility as the filter; None only if it changed in between.
        view = alert_views.get(row["ref"])
        return {"seq": row["seq"], "kind": kind, "event": payload.get("event"), "alert": view} if view else None
    if kind == "version":
        return {"seq": row["seq"], "kind": kind, "report_id": row["report_id"], "version_id": row["ref"],
                "parents": row["v_parents"], "body": redact(principal, row["v_body"]), "author": row["v_author"],
                "device_id": row["v_device_id"], "received_at": _iso(row["v_received_at"])}
    if kind == "review":
        return {"seq": row["seq"], "kind": kind, "report_id": row["report_id"], "status": payload.get("status"),
                "comment": payload.get("comment", ""), "by": payload.get("by"), "at": payload.get("at")}
    if kind == "comment":
        return {"seq": row["seq"], "kind": kind, "report_id": row["report_id"], "text": payload.get("text"),
                "by": payload.get("by"), "at": payload.get("at")}
    if kind == "reference":
        return {"seq": row["seq"], "kind": kind, "item": payload.get("item")}
    # incident: its payload is owned by the duplicates domain and passed through as written.
    out = {k: v for k, v in payload.items() if k not in ("seq", "kind")}
    return {"seq": row["seq"], "kind": kind} | ({"report_id": row["report_id"]} if row["report_id"] else {}) | out


def pull(conn: Connection, principal: Principal, *, since: int, limit: int) -> dict[str, Any]:
    """One page of the changes after ``since`` that the principal may see, in sequence order."""
    # Read the upper bound first: every change at or below it is committed (feed lock), so
    # answering ``next = upto`` on a short page can never skip a change that commits later.
    upto = feed.last_seq(conn)
    # Examine at most SCAN_PAGES pages' worth of the feed per request: the cost of a page stays
    # bounded however far behind the caller is and however much of the feed it may not see
    # (PostgreSQL otherwise sorted everything up to ``upto`` for every page of a long catch-up).
    window_end = min(upto, since + limit * SCAN_PAGES)
    stmt = (
        select(changes, versions.c.parents.label("v_parents"), versions.c.body.label("v_body"),
               versions.c.device_id.label("v_device_id"), versions.c.received_at.label("v_received_at"),
               users.c.username.label("v_author"))
        .select_from(
            changes.outerjoin(reports, reports.c.id == changes.c.report_id)
            .outerjoin(versions, and_(changes.c.kind == "version", versions.c.version_id == changes.c.ref))
            .outerjoin(users, users.c.id == versions.c.author_user_id)
        )
        .where(changes.c.seq > since, changes.c.seq <= window_end, _feed_filter(principal))
        .order_by(changes.c.seq)
        .limit(limit + 1)
    )
    rows = conn.execute(stmt).mappings().all()
    if len(rows) > limit:
        rows, nxt, more = rows[:limit], rows[limit - 1]["seq"], True
    else:
        # The window was examined whole: a short (even empty) page, with more to come past it.
        nxt, more = max(window_end, since), window_end < upto
    alert_views = alert_pull.rendered(conn, principal, [r["ref"] for r in rows if r["kind"] == "alert"])
    out = [c for c in (_change_out(principal, r, alert_views) for r in rows) if c is not None]
    return {"changes": out, "next": int(nxt), "more": more}
