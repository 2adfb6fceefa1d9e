"""Sync protocol v1 on the server: storing pushed batches and paging the change feed for a caller.

Push: a batch (at most ``MAX_BATCH`` versions) is stored in the request's one transaction, parents
first whatever order the entries came in, through ``reports.versions.store_versions`` (which
is insert-if-absent by content hash, so a batch sent twice, cut in the middle or reordered across
batches stores every version exactly once). Duplicate proposals are not computed here: they catch
up from the feed after the commit (``duplicates.backlog``), so a push costs only its own storing.
The answer keeps the input order and says per version: stored, duplicate or rejected (with
``retryable`` from the rejection catalogue in ``common.sync_protocol``: only ``missing_parent``, the one
refusal that sending the parent cures).

Pull: the feed after a cursor, in server sequence order only (device clocks never matter),
filtered in SQL against each report's CURRENT visibility (``access.visible_clause`` on the
``reports`` projection) and redacted with ``access.redact``. Alerts addressed to the caller whose
every report they may read arrive as changes of kind ``alert`` (``alerts.pull``), and tasks they may
see as changes of kind ``task`` (``tasks.pull``). ``next`` is the last sequence number
examined, so the client never re-reads changes it was not allowed to see; the upper bound is read
first, which (with the feed's write lock making commits arrive in sequence order) guarantees that
no change at or below ``next`` can still appear later. A version's entry is the same for every
caller of one redaction class, so it is serialized once per process and class (``version_entries``)
and reused by every device that pulls it: fifty tablets pulling the same versions cost one
decode, redaction and encoding each, not fifty. Which entries a caller receives is still decided
per caller, in SQL, as above.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, Integer, Select, and_, bindparam, case, false, null, or_, select

from ...common.sync_protocol import MAX_PUSH_BATCH, is_retryable
from .. import feed
from ..access import Permission, Principal, level_clause, redact, redaction_class, visible_clause
from ..alerts import pull as alert_pull
from ..db.fast import in_ids
from ..db.process_cache import BoundedLRU, per_engine
from ..db.tables import changes, incident_sources, reports, users, versions
from ..devices.service import touch
from ..reports.versions import REJECTED, STORED, NewVersion, store_versions
from ..tasks import pull as task_pull

MAX_BATCH = MAX_PUSH_BATCH
SCAN_PAGES = 2  # feed entries examined per pull request: at most this many pages' worth
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
    if principal.device_id:
        # Before the feed's write lock: every statement inside it delays every other push.
        touch(conn, principal.device_id)
    outcomes = store_versions(conn, principal, [entries[i] for i in order])
    results: list[dict[str, Any] | None] = [None] * len(entries)
    for i, outcome in zip(order, outcomes, strict=True):
        result = outcome.as_dict()
        result["retryable"] = outcome.status == REJECTED and is_retryable(outcome.code)
        if outcome.status == STORED:
            result["in_conflict"] = outcome.in_conflict
        results[i] = result
    # Under the feed's write lock nothing can commit a later sequence than this push's own last.
    stored = [o.seq for o in outcomes if o.status == STORED and o.seq is not None]
    return {"results": results, "last_seq": max(stored) if stored else feed.last_seq(conn)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _feed_filter(principal: Principal) -> Any:
    """Which feed rows the principal may receive (SQL), evaluated against current report state."""
    # Every change is read under its OWN level (a version's, or the report's when a review or
    # comment was made), besides the report's current visibility: an older restricted or mission
    # version of a report since downgraded or made public stays with those who could read it.
    once_restricted_ok = level_clause(principal, changes.c.confidentiality, contingent_id=reports.c.contingent_id,
                                      author_user_id=reports.c.author_user_id)
    about_report = and_(changes.c.kind.in_(REPORT_KINDS), reports.c.id.is_not(None),
                        visible_clause(principal, reports), once_restricted_ok)
    if principal.device_id is not None:
        # The calling device has its own versions already; ``next`` still moves past them.
        about_report = and_(about_report, or_(changes.c.kind != "version", changes.c.device_id.is_(None),
                                              changes.c.device_id != principal.device_id))
    if principal.may(Permission.ANALYSE):
        incidents = and_(changes.c.kind == "incident",
                         or_(changes.c.confidentiality.is_(None), visible_clause(principal, changes)))
    elif principal.replicates:
        # A sector server keeps its reports' merges: each incident change comes with the sources it
        # may read (``_sector_incidents``), or not at all.
        incidents = and_(changes.c.kind == "incident", changes.c.ref.not_like("proposal:%"))
    else:
        incidents = false()
    return or_(about_report, changes.c.kind == "reference", incidents, alert_pull.feed_clause(principal),
               task_pull.feed_clause(principal))


# Serialized pull entries of versions, per redaction class, shared by every caller. An entry (seq,
# ids, parents, redacted body, author, device, time) never changes once stored: versions are
# immutable and have one feed entry each. What may change is who may receive it, which
# ``_feed_filter`` decides per caller before an entry is looked up here. One cache per database
# (sequence numbers are only unique within one feed).
version_entries = per_engine(lambda: BoundedLRU[tuple[int, str, object], orjson.Fragment](20_000))


def _version_out(principal: Principal, row: Any, v: Any) -> dict[str, Any]:
    return {"seq": row["seq"], "kind": "version", "report_id": row["report_id"], "version_id": row["ref"],
            "parents": v.parents, "body": redact(principal, v.body), "author": v.author,
            "device_id": v.device_id, "received_at": _iso(v.received_at)}


def _change_out(row: Any, views: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    kind = row["kind"]
    payload = row["payload"] or {}
    if kind in ("alert", "task"):
        # Rendered under the same visibility as the filter; None only if it changed in between.
        view = views[kind].get(row["ref"])
        return {"seq": row["seq"], "kind": kind, "event": payload.get("event"), kind: view} if view else None
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


def _version_entries(conn: Connection, principal: Principal, rows: Sequence[Any]) -> dict[int, orjson.Fragment]:
    """The serialized entry of every version row, from the shared cache or read once and cached."""
    cls = redaction_class(principal)
    cache = version_entries(conn.engine)
    out: dict[int, orjson.Fragment] = {}
    missing = []
    for r in rows:
        if r["kind"] == "version":
            hit = cache.get((r["seq"], r["ref"], cls))
            if hit is None:
                missing.append(r)
            else:
                out[r["seq"]] = hit
    if missing:
        stored = {v.version_id: v for v in conn.execute(
            select(versions.c.version_id, versions.c.parents, versions.c.body, versions.c.device_id,
                   versions.c.received_at, users.c.username.label("author"))
            .select_from(versions.outerjoin(users, users.c.id == versions.c.author_user_id))
            .where(in_ids(versions.c.version_id, [r["ref"] for r in missing], conn.dialect.name)))}
        for r in missing:
            entry = orjson.Fragment(orjson.dumps(_version_out(principal, r, stored[r["ref"]])))
            cache.put((r["seq"], r["ref"], cls), entry)
            out[r["seq"]] = entry
    return out


def _sector_incidents(conn: Connection, principal: Principal, rows: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """For a sector server, each incident change with the merged reports it may read (none: left out)."""
    wanted = {r["ref"] for r in rows if r["kind"] == "incident"}
    if not wanted:
        return {}
    sources: dict[str, list[str]] = {}
    for iid, rid in conn.execute(
            select(incident_sources.c.incident_id, incident_sources.c.report_id)
            .join(reports, reports.c.id == incident_sources.c.report_id)
            .where(incident_sources.c.incident_id.in_(sorted(wanted)), visible_clause(principal, reports))
            .order_by(incident_sources.c.report_id)):
        sources.setdefault(iid, []).append(rid)
    return {r["seq"]: {"seq": r["seq"], "kind": "incident", "action": (r["payload"] or {}).get("action"),
                       "incident_id": r["ref"], "report_ids": sources[r["ref"]]}
            for r in rows if r["kind"] == "incident" and sources.get(r["ref"])}


@lru_cache(maxsize=4096)
def _page_statement(principal: Principal) -> Select[Any]:
    """The page query of one caller, its bounds bound at execution. Kept per principal (a frozen
    value: the same user, role, contingents and device get the same filter): building the filter
    and its cache key cost more than running the query on a short page, at every pull."""
    # Only what a page is made of; a version's payload is not needed (its entry is cached), so it
    # is not decoded for every version of every page.
    payload = case((changes.c.kind == "version", null()), else_=changes.c.payload).label("payload")
    return (select(changes.c.seq, changes.c.kind, changes.c.report_id, changes.c.ref, payload)
            .select_from(changes.outerjoin(reports, reports.c.id == changes.c.report_id))
            .where(changes.c.seq > bindparam("since"), changes.c.seq <= bindparam("window_end"),
                   _feed_filter(principal))
            .order_by(changes.c.seq)
            .limit(bindparam("page", type_=Integer)))


def pull(conn: Connection, principal: Principal, *, since: int, limit: int) -> dict[str, Any]:
    """One page of the changes after ``since`` that the principal may see, in sequence order."""
    # Read the upper bound first: every change at or below it is committed (feed lock), so
    # answering ``next = upto`` on a short page can never skip a change that commits later.
    upto = feed.last_seq(conn)
    # Examine at most SCAN_PAGES pages' worth of the feed per request: the cost of a page stays
    # bounded however far behind the caller is and however much of the feed it may not see
    # (PostgreSQL otherwise sorted everything up to ``upto`` for every page of a long catch-up).
    window_end = min(upto, since + limit * SCAN_PAGES)
    rows = conn.execute(_page_statement(principal),
                        {"since": since, "window_end": window_end, "page": limit + 1}).mappings().all()
    if len(rows) > limit:
        rows, nxt, more = rows[:limit], rows[limit - 1]["seq"], True
    else:
        # The window was examined whole: a short (even empty) page, with more to come past it.
        nxt, more = max(window_end, since), window_end < upto
    entries = _version_entries(conn, principal, rows)
    views = {"alert": alert_pull.rendered(conn, principal, [r["ref"] for r in rows if r["kind"] == "alert"]),
             "task": task_pull.rendered(conn, principal, [r["ref"] for r in rows if r["kind"] == "task"])}
    sector_incidents = _sector_incidents(conn, principal, rows) if principal.replicates else None
    out = [entries[r["seq"]] if r["kind"] == "version"
           else sector_incidents.get(r["seq"]) if sector_incidents is not None and r["kind"] == "incident"
           else _change_out(r, views) for r in rows]
    return {"changes": [c for c in out if c is not None], "next": int(nxt), "more": more}
