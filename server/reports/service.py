"""Reading reports as a given principal: list with filters and a cursor, one report, its history.

Every read goes through ``access.visible_clause`` / ``access.can_read`` and ``access.redact``; a
report the caller may not read is answered as not found, so its existence does not leak. Every
version, review and comment is read under its OWN level (``access.can_read_version``): an older
restricted version of a report since downgraded is not in its history for the contingent. Reading
a restricted report, or a report holding a restricted version, is written to the audit log.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from ..access import Principal, can_read, can_read_version, level_of, redact, visible_clause
from ..audit.service import record
from ..db.tables import (
    changes,
    comments,
    contingents,
    incident_sources,
    report_heads,
    reports,
    reviews,
    users,
    versions,
)
from ..input_checks import parse_utc, text_problem
from ..problems import invalid, not_found
from .filters import ReportFilters

SUMMARY_COLUMNS = (
    reports.c.id, reports.c.kind, reports.c.category, reports.c.confidentiality, reports.c.severity,
    reports.c.event_time, reports.c.lat, reports.c.lon, reports.c.title, reports.c.review_status,
    reports.c.heads_count, reports.c.incident_id, reports.c.head_version_id, reports.c.received_at,
    reports.c.updated_at, reports.c.last_seq, contingents.c.code.label("contingent"),
)


def _iso(v: Any) -> Any:
    return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v


def _summary(row: Any) -> dict[str, Any]:
    d = {k: _iso(v) for k, v in dict(row).items()}
    d["in_conflict"] = d.pop("heads_count") > 1
    return d


# The orders the reports list offers: a key -> its column. A leading "-" means descending.
SORTS: dict[str, Any] = {"event_time": reports.c.event_time, "received_at": reports.c.received_at,
                         "severity": reports.c.severity}
DEFAULT_SORT = "-event_time"


def parse_sort(sort: str | None) -> tuple[str, bool]:
    """``"-received_at"`` -> (``"received_at"``, descending); refuses an unknown key by name."""
    sort = sort or DEFAULT_SORT
    key, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if key not in SORTS:
        raise invalid("sort", f"sort must be one of {', '.join(SORTS)}, optionally with a leading '-'")
    return key, descending


def _encode_cursor(sort: str, value: Any, report_id: str) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([sort, raw, report_id]).encode()).decode()


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    """The last row's sort value and id; a cursor made for another order is refused."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if len(decoded) == 2:  # a cursor from before sorting existed: event time, newest first
            decoded = [DEFAULT_SORT, *decoded]
        made_for, raw, rid = decoded
        if made_for != sort or not isinstance(rid, str) or text_problem(rid):
            raise ValueError("not a cursor this server wrote for this order")
        key, _ = parse_sort(sort)
        if key == "severity":
            return int(raw), rid
        # A time without zone or past year 9999 in UTC is not one this server wrote.
        if datetime.fromisoformat(raw).tzinfo is None:
            raise ValueError("cursor time without zone")
        return parse_utc(raw), rid
    except (ValueError, TypeError, OverflowError):
        raise invalid("cursor", "not a cursor returned by this server for this order") from None


def visible_reports(conn: Connection, principal: Principal, filters: ReportFilters) -> Any:
    """A select over reports (+ contingent code) the principal may see, narrowed by ``filters``."""
    stmt = select(*SUMMARY_COLUMNS, reports.c.body, reports.c.author_user_id, reports.c.contingent_id).select_from(
        reports.join(contingents, reports.c.contingent_id == contingents.c.id)
    ).where(visible_clause(principal, reports))
    return filters.apply(stmt)


def iter_records(conn: Connection, principal: Principal, filters: ReportFilters,
                 batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every visible report as a record (body + server keys), oldest first, in constant memory.

    Used by exports and hotspots: the body is redacted for the principal, and an area polygon is
    applied exactly. Keyset pagination keeps memory flat however many reports match.
    """
    last: tuple[datetime, str] | None = None
    while True:
        stmt = visible_reports(conn, principal, filters).order_by(reports.c.event_time, reports.c.id).limit(batch)
        if last is not None:
            stmt = stmt.where(or_(reports.c.event_time > last[0],
                                  and_(reports.c.event_time == last[0], reports.c.id > last[1])))
        rows = conn.execute(stmt).mappings().all()
        for row in rows:
            if filters.needs_exact_area() and not filters.matches_area(row["lat"], row["lon"]):
                continue
            yield record_of(principal, row)
        if len(rows) < batch:
            return
        last = (rows[-1]["event_time"], rows[-1]["id"])


def record_of(principal: Principal, row: Any) -> dict[str, Any]:
    body = redact(principal, row["body"])
    return body | {
        "contingent": row["contingent"],
        "review_status": row["review_status"],
        "version_id": row["head_version_id"],
        "received_at": _iso(row["received_at"]),
        "in_conflict": row["heads_count"] > 1,
        "incident_id": row["incident_id"],
    }


def list_reports(conn: Connection, principal: Principal, filters: ReportFilters, *, cursor: str | None,
                 limit: int, sort: str | None = None) -> dict[str, Any]:
    """One page of visible reports in ``sort`` order (newest event first by default) over every
    page, not just this one, with a keyset cursor to the next page and a total."""
    sort = sort or DEFAULT_SORT
    key, descending = parse_sort(sort)
    column = SORTS[key]
    base = visible_reports(conn, principal, filters)
    total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    if descending:
        stmt = base.order_by(column.desc(), reports.c.id.desc())
    else:
        stmt = base.order_by(column.asc(), reports.c.id.asc())
    if cursor:
        value, rid = _decode_cursor(cursor, sort)
        after = (column < value) if descending else (column > value)
        tie = (reports.c.id < rid) if descending else (reports.c.id > rid)
        stmt = stmt.where(or_(after, and_(column == value, tie)))
    rows = conn.execute(stmt.limit(limit + 1)).mappings().all()
    if filters.needs_exact_area():
        rows = [r for r in rows if filters.matches_area(r["lat"], r["lon"])]
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_summary({k: r[k] for k in r.keys() if k not in ("body", "author_user_id", "contingent_id")})
             for r in rows]
    nxt = _encode_cursor(sort, rows[-1][key], rows[-1]["id"]) if more and rows else None
    return {"items": items, "next": nxt, "more": more, "total": total, "sort": sort}


def summaries(conn: Connection, principal: Principal, report_ids: list[str]) -> list[dict[str, Any]]:
    """The reports list's items for these ids, of those the principal may read (others are left out)."""
    if not report_ids:
        return []
    rows = conn.execute(visible_reports(conn, principal, ReportFilters()).where(reports.c.id.in_(report_ids))
                        ).mappings().all()
    return [_summary({str(k): r[k] for k in r.keys() if k not in ("body", "author_user_id", "contingent_id")})
            for r in rows]


def load_readable(conn: Connection, principal: Principal, report_id: str) -> dict[str, Any]:
    """The projection row of a report the principal may read, else not found."""
    row = conn.execute(
        select(reports, contingents.c.code.label("contingent"))
        .select_from(reports.join(contingents, reports.c.contingent_id == contingents.c.id))
        .where(reports.c.id == report_id)
    ).mappings().one_or_none()
    if row is None or not can_read(principal, contingent_id=row["contingent_id"],
                                   confidentiality=row["confidentiality"], author_user_id=row["author_user_id"]):
        raise not_found(f"report {report_id}")
    return dict(row)


def audit_read(conn: Connection, principal: Principal, row: dict[str, Any], action: str = "report_read",
               shown_levels: list[str] | None = None) -> None:
    if row["confidentiality"] == "restricted" or "restricted" in (shown_levels or []):
        record(conn, action=f"restricted_{action}", actor=principal.username, actor_user_id=principal.user_id,
               device_id=principal.device_id, target=row["id"])


def get_report(conn: Connection, principal: Principal, report_id: str) -> dict[str, Any]:
    """Current state, every head (several when in conflict), sources, reviews and comments."""
    row = load_readable(conn, principal, report_id)
    heads = conn.execute(
        select(versions.c.version_id, versions.c.body, versions.c.received_at, versions.c.device_id,
               users.c.username.label("author"))
        .join(report_heads, report_heads.c.version_id == versions.c.version_id)
        .join(users, users.c.id == versions.c.author_user_id)
        .where(report_heads.c.report_id == report_id).order_by(versions.c.seq.desc())
    ).mappings().all()
    # Each head under its own level: a restricted head of a report listed at mission stays hidden.
    heads = [h for h in heads if can_read_version(principal, row, level_of(h["body"]))]
    audit_read(conn, principal, row, shown_levels=[level_of(h["body"]) for h in heads])
    sources: list[str] = []
    if row["incident_id"]:
        # Only the sources the caller may read: listing the others would reveal restricted cases exist.
        sources = list(conn.execute(
            select(incident_sources.c.report_id)
            .join(reports, reports.c.id == incident_sources.c.report_id)
            .where(incident_sources.c.incident_id == row["incident_id"], visible_clause(principal, reports))
        ).scalars())
    return {
        "id": row["id"],
        "contingent": row["contingent"],
        "review_status": row["review_status"],
        "in_conflict": row["heads_count"] > 1,
        "incident_id": row["incident_id"],
        "incident_sources": sources,
        "current": redact(principal, row["body"]),
        "version_id": row["head_version_id"],
        "heads": [{"version_id": h["version_id"], "author": h["author"], "device_id": h["device_id"],
                   "received_at": _iso(h["received_at"]), "body": redact(principal, h["body"])} for h in heads],
        "reviews": review_history(conn, principal, row),
        "comments": comment_list(conn, principal, row),
        "received_at": _iso(row["received_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def version_history(conn: Connection, principal: Principal, report_id: str) -> list[dict[str, Any]]:
    """Every version of a report, oldest first, with who sent it, from which device and when."""
    row = load_readable(conn, principal, report_id)
    rows = conn.execute(
        select(versions.c.version_id, versions.c.parents, versions.c.body, versions.c.device_id,
               versions.c.device_time, versions.c.received_at, versions.c.seq, users.c.username.label("author"))
        .join(users, users.c.id == versions.c.author_user_id)
        .where(versions.c.report_id == report_id).order_by(versions.c.seq)
    ).mappings()
    # Every version under its own level (and redaction), never the report's current one.
    shown = [r for r in rows if can_read_version(principal, row, level_of(r["body"]))]
    audit_read(conn, principal, row, "history_read", shown_levels=[level_of(r["body"]) for r in shown])
    return [{k: _iso(v) for k, v in r.items()} | {"body": redact(principal, r["body"])} for r in shown]


def review_history(conn: Connection, principal: Principal, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's review decisions, each read under the level the report had when it was made."""
    rows = conn.execute(
        select(reviews.c.status, reviews.c.comment, reviews.c.created_at, reviews.c.seq, users.c.username.label("by"),
               changes.c.confidentiality.label("level"))
        .join(users, users.c.id == reviews.c.user_id).join(changes, changes.c.seq == reviews.c.seq)
        .where(reviews.c.report_id == report["id"]).order_by(reviews.c.seq)
    ).mappings()
    return [{k: _iso(v) for k, v in r.items() if k != "level"} for r in rows
            if can_read_version(principal, report, r["level"] or "restricted")]


def comment_list(conn: Connection, principal: Principal, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's comments, each read under the level the report had when it was written."""
    rows = conn.execute(
        select(comments.c.text, comments.c.created_at, comments.c.seq, users.c.username.label("by"),
               changes.c.confidentiality.label("level"))
        .join(users, users.c.id == comments.c.user_id).join(changes, changes.c.seq == comments.c.seq)
        .where(comments.c.report_id == report["id"]).order_by(comments.c.seq)
    ).mappings()
    return [{k: _iso(v) for k, v in r.items() if k != "level"} for r in rows
            if can_read_version(principal, report, r["level"] or "restricted")]
