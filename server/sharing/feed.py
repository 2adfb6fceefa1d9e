"""A partner's feed: the next page of reports its agreement lets out, built and rendered.

Paging follows the server's change sequence, as the tablets' sync feed does: a report appears
when any change to it (a new version, a review) has a sequence number above the partner's cursor,
at its current state, once per page, so a report verified after its first delivery comes again
with its new status, and a report not yet eligible (unverified, too recent) is picked up by the
change that makes it eligible. The cursor is the highest sequence number of the page.

Each record is made by `shared_record`: coarsened (`coarsening`, `admin_areas`), the author replaced by the
mission's pseudonymous reporter id, flattened to the exports' columns and cut to the agreement's
allow-list (`policy.policy_columns`). Nothing else is ever read into it.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from peacewatch.server import clock
from peacewatch.server.db.tables import changes, contingents, report_attachments, reports
from peacewatch.server.exports.pseudonyms import reporter_id
from peacewatch.server.exports.records import COLUMNS, Labels, flatten, iso_z
from peacewatch.server.sharing import admin_areas
from peacewatch.server.sharing.coarsening import coarsen_body
from peacewatch.server.sharing.policy import policy_columns

MAX_PAGE = 500
_COLUMN = {c.key: c for c in COLUMNS}
_FORMULA_START = frozenset("=+-@\t\r")
# Media a partner may receive: those whose metadata common.media_metadata can strip.
SHAREABLE_MEDIA = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    attachments: dict[str, list[str]]  # report id -> sha256 of attachments the partner may fetch
    cursor: int
    next_cursor: int
    more: bool


def _eligible(policy: Mapping[str, Any]) -> list[Any]:
    """SQL conditions on ``reports`` for what the policy lets out."""
    conds: list[Any] = [reports.c.kind.in_(policy["kinds"]),
                        reports.c.confidentiality.in_(policy["confidentiality"])]
    if policy.get("categories"):
        conds.append(reports.c.category.in_(policy["categories"]))
    if policy.get("verified_only"):
        conds.append(reports.c.review_status == "verified")
    if policy.get("delay_hours"):
        conds.append(reports.c.updated_at <= clock.now() - timedelta(hours=int(policy["delay_hours"])))
    return conds


def _rows(conn: Connection, policy: Mapping[str, Any], *, cursor: int, limit: int) -> list[Any]:
    latest = (select(changes.c.report_id, func.max(changes.c.seq).label("seq"))
              .where(changes.c.seq > cursor, changes.c.report_id.is_not(None))
              .group_by(changes.c.report_id).subquery())
    stmt = (select(reports.c.id, reports.c.body, reports.c.review_status, reports.c.received_at,
                   contingents.c.code.label("contingent"), latest.c.seq)
            .select_from(latest.join(reports, reports.c.id == latest.c.report_id)
                         .join(contingents, contingents.c.id == reports.c.contingent_id))
            .where(and_(*_eligible(policy)))
            .order_by(latest.c.seq).limit(limit + 1))
    if policy.get("delay_hours"):
        # A change newer than the delay must not move the cursor past a report it holds back.
        cutoff = clock.now() - timedelta(hours=int(policy["delay_hours"]))
        stmt = stmt.where(latest.c.seq <= select(func.coalesce(func.max(changes.c.seq), 0))
                          .where(changes.c.created_at <= cutoff).scalar_subquery())
    return list(conn.execute(stmt).mappings())


def shared_record(row: Mapping[str, Any], policy: Mapping[str, Any], *, key: bytes, labels: Labels,
                  areas: admin_areas.AdminAreas | None = None) -> dict[str, Any]:
    """One report as the partner receives it: typed values by column key, allow-listed.

    `areas` are the admin areas under admin-area precision (loaded once per page by `page`)."""
    body = dict(row["body"])
    author = body.pop("author", None)
    record = body | {"contingent": row["contingent"], "review_status": row["review_status"],
                     "received_at": row["received_at"].isoformat().replace("+00:00", "Z")}
    record["reporter"] = reporter_id(key, author) if author else None
    if policy.get("location_precision") == "admin_area" and areas is None:
        raise ValueError("admin-area precision needs the admin areas")  # never fall back to finer
    record = coarsen_body(record, grid_km=float(policy["location_grid_km"]), precision=policy["time_precision"],
                          areas=areas, lang=labels.lang)
    flat = flatten(record, labels)
    out = {k: flat[k] for k in policy_columns(policy)}
    if "place" in out and not out["place"]:
        out["place"] = None
    return out


def page(conn: Connection, policy: Mapping[str, Any], *, key: bytes, cursor: int, limit: int,
         lang: str = "en") -> Page:
    """The next page after `cursor` (at most `limit` reports)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = _rows(conn, policy, cursor=cursor, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    labels = Labels(lang)
    areas = admin_areas.load(conn) if policy.get("location_precision") == "admin_area" else None
    records = [shared_record(r, policy, key=key, labels=labels, areas=areas) for r in rows]
    attachments: dict[str, list[str]] = {}
    if policy.get("attachments"):
        for r in rows:
            hashes = [a["sha256"] for a in r["body"].get("attachments") or ()
                      if a.get("media_type") in SHAREABLE_MEDIA]
            if hashes:
                attachments[r["id"]] = hashes
    return Page(records, attachments, cursor, int(rows[-1]["seq"]) if rows else cursor, more)


def has_next(conn: Connection, policy: Mapping[str, Any], *, cursor: int) -> bool:
    """Is there a page after `cursor`? (A read: the push loop asks every tick.)"""
    return bool(_rows(conn, policy, cursor=cursor, limit=1))


def summary(conn: Connection, policy: Mapping[str, Any], *, key: bytes) -> list[dict[str, Any]]:
    """Counts of shared reports per category, grid cell and period; a count below the policy's
    ``min_count`` is suppressed (left out), so a small group cannot point at a person."""
    counts: Counter[tuple[str, float | None, float | None, str | None]] = Counter()
    cursor = 0
    while True:  # bounded: every round moves the cursor forward or stops
        p = page(conn, policy, key=key, cursor=cursor, limit=MAX_PAGE)
        for r in p.records:
            when = r["event_time"]
            counts[(r["category_code"], r["lat"], r["lon"], iso_z(when)[:10] if when else None)] += 1
        if not p.more:
            break
        cursor = p.next_cursor
    minimum = int(policy["min_count"])
    return [{"category": c, "lat": lat, "lon": lon, "period_start": period, "count": n}
            for (c, lat, lon, period), n in sorted(counts.items(), key=lambda kv: tuple(map(str, kv[0])))
            if n >= minimum]


def _cell(value: Any, column_type: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value and value[0] in _FORMULA_START:
        return "'" + value  # CSV injection: a spreadsheet would run it as a formula
    return value


def render_csv(p: Page, policy: Mapping[str, Any], *, lang: str = "en") -> str:
    """HXL CSV: headers, hashtags, one row per record, only the agreement's columns."""
    keys = policy_columns(policy)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_COLUMN[k].header(lang) for k in keys])
    writer.writerow([_COLUMN[k].hxl for k in keys])
    for record in p.records:
        writer.writerow([_cell(record[k], _COLUMN[k].type) for k in keys])
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    return iso_z(value) if isinstance(value, datetime) else value


def render_geojson(p: Page, *, attachment_url: str) -> str:
    """A GeoJSON FeatureCollection: coarse Points, the record as properties, plus the cursor."""
    features = []
    for record in p.records:
        lat, lon = record.get("lat"), record.get("lon")
        properties = {k: _json_value(v) for k, v in record.items()}
        if p.attachments.get(record["id"]):
            properties["attachment_urls"] = [attachment_url.format(sha256=h) for h in p.attachments[record["id"]]]
        features.append({"type": "Feature", "id": record["id"],
                         "geometry": {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None,
                         "properties": properties})
    return json.dumps({"type": "FeatureCollection", "features": features, "next_cursor": str(p.next_cursor),
                       "more": p.more}, ensure_ascii=False, allow_nan=False)


def iter_all(conn: Connection, policy: Mapping[str, Any], *, key: bytes) -> Iterator[dict[str, Any]]:
    """Every record the agreement lets out now (tests and the summary compare against it)."""
    cursor = 0
    while True:
        p = page(conn, policy, key=key, cursor=cursor, limit=MAX_PAGE)
        yield from p.records
        if not p.more:
            return
        cursor = p.next_cursor


def shareable_attachment(conn: Connection, policy: Mapping[str, Any], sha256: str) -> str | None:
    """The media type of `sha256` if a report the policy lets out carries it as a shareable image."""
    if not policy.get("attachments"):
        return None
    rows = conn.execute(select(reports.c.body).join(report_attachments, report_attachments.c.report_id == reports.c.id)
                        .where(report_attachments.c.sha256 == sha256, and_(*_eligible(policy)))).scalars()
    for body in rows:
        for ref in body.get("attachments") or ():
            if ref.get("sha256") == sha256 and ref.get("media_type") in SHAREABLE_MEDIA:
                return str(ref["media_type"])
    return None
