"""Duplicate proposals and consolidated incidents in the database.

Longer than 500 lines because proposals and incidents share one reading rule (both reports, or
every source, under the caller's access) that is clearest kept beside both; splitting incidents
into their own module is the next step when either grows.

* ``find_proposals`` / ``record_proposals`` run after ingest, from the feed (``backlog``): the
  database narrows candidates to a bounding box and time range around the reports, the engine
  applies the exact limits and scores (reading only), and the ``duplicate_proposals`` rows are
  then inserted, refreshed, or withdrawn when a new version of a report no longer matches. A
  dismissed or confirmed pair is never proposed again.
* ``confirm`` makes (or extends) a consolidated incident that keeps every source report untouched;
  ``unmerge`` restores exactly the state before: sources out of the incident, their proposals back
  to ``proposed``. ``dismiss`` closes a pair for good. Each is one ``incident`` change in the feed
  and one audit entry.
* Reading follows ``access``: a proposal is listed only if the caller may read both reports; an
  incident shows only the sources the caller may read, and its consolidated values are computed
  from those alone (an override taken from, or typed over, a source hidden from the caller is left
  out), so a restricted source never leaks through the consolidated view. A proposal quotes what
  analysts decided about pairs like it (``history``) counting only decided proposals whose two
  reports the caller may read.

Proposal statuses: ``proposed`` -> ``confirmed`` | ``dismissed`` | ``withdrawn`` (the reports no
longer match); ``confirmed`` -> ``proposed`` on unmerge. Incident statuses: ``active``, ``unmerged``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy import insert as sql_insert

from peacewatch.common.taxonomy import UnknownCategory, load_taxonomy

from .. import clock, feed
from ..access import CONFIDENTIALITY_RANK, Principal, can_read, redact, visible_clause
from ..audit.service import record
from ..db.tables import (
    contingents,
    duplicate_proposals,
    incident_sources,
    incidents,
    reports,
    versions,
)
from ..problems import Code, Problem, forbidden, invalid, not_found
from .consolidate import InvalidOverride, Source, consolidate
from .engine import CASUALTY_FIELDS, EARTH_RADIUS_M, DuplicateIndex, Proposal, Rules, english

RULES = Rules()

_pa = duplicate_proposals


_RELATED: dict[str, frozenset[str]] = {}


def taxonomy_related(code: str) -> frozenset[str]:
    """Related categories from the mission taxonomy; an unknown code is related to nothing else."""
    found = _RELATED.get(code)
    if found is None:
        try:
            found = frozenset(load_taxonomy().related(code))
        except UnknownCategory:
            found = frozenset({code})
        _RELATED[code] = found
    return found


def _iso(v: Any) -> Any:
    return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v


# ---------------------------------------------------------------------------------------------------
# Proposals on ingest


def _engine_inputs(conn: Connection, where: Any) -> list[dict[str, Any]]:
    """Engine input for the reports matching ``where``: source = contingent + first version's device."""
    # The first version (its seq is the report's first_seq) names the device that made it (for a
    # version a sector server relayed, the sector's tablet, not the sector): an indexed join on
    # seq, where "the report's versions ordered by seq" made PostgreSQL scan.
    first = versions.alias("first_version")
    rows = conn.execute(
        select(reports.c.id, reports.c.kind, reports.c.category, reports.c.event_time, reports.c.lat, reports.c.lon,
               reports.c.body, reports.c.author_user_id, contingents.c.code.label("contingent"),
               first.c.device_id)
        .select_from(reports.join(contingents, reports.c.contingent_id == contingents.c.id)
                     .outerjoin(first, first.c.seq == reports.c.first_seq))
        .where(where, reports.c.lat.is_not(None), reports.c.lon.is_not(None))
        .order_by(reports.c.first_seq)
    ).mappings().all()
    out = []
    for r in rows:
        body = r["body"] or {}
        out.append({
            "id": r["id"], "kind": r["kind"], "category": r["category"], "event_time": r["event_time"],
            "lat": r["lat"], "lon": r["lon"], "contingent": r["contingent"],
            # A web or API edit has no tablet: the signed-in user is then the source.
            "device_id": r["device_id"] or f"user:{r['author_user_id']}",
            "casualties": _casualties(body.get("casualties")),
            "title": body.get("title") or "", "description": body.get("description") or "",
        })
    return out


def _casualties(value: Any) -> dict[str, int] | None:
    # Stored bodies passed the schema; this only keeps the engine's fields, so an extra one cannot stop ingest.
    if not isinstance(value, dict):
        return None
    return {k: v for k in CASUALTY_FIELDS if type(v := value.get(k)) is int and v >= 0}


def _box(lat: float, lon: float, when: datetime) -> tuple[datetime, datetime, float, float, float | None, float | None]:
    """A coarse box and time range around a point that holds every possible match; the engine is exact."""
    margin = 1.01  # the box must hold the whole circle; the exact distance is the engine's
    dlat = math.degrees(RULES.max_distance_m / EARTH_RADIUS_M) * margin
    window = RULES.time_window
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = dlat / cos_lat
    if abs(lat) + dlat < 89.0 and -180.0 < lon - dlon and lon + dlon < 180.0:
        lon_range: tuple[float | None, float | None] = (lon - dlon, lon + dlon)
    else:
        # Near a pole or across the antimeridian the longitude box is skipped, not wrapped.
        lon_range = (None, None)
    return (when - window, when + window, lat - dlat, lat + dlat, *lon_range)


def _candidate_ids(conn: Connection, points: Sequence[dict[str, Any]], exclude: Sequence[str]) -> list[str]:
    """Ids of reports inside the box and time range of any of ``points`` (the engine is exact).

    One query on the indexed time column over the merged time ranges, reading only id, position
    and time; the boxes are applied in numpy. An OR of a hundred boxes in SQL defeats the
    planners (PostgreSQL scanned, seconds per batch) and costs milliseconds a box to build.
    """
    boxes = [_box(m["lat"], m["lon"], m["event_time"]) for m in points]
    merged: list[list[datetime]] = []
    for t0, t1, *_ in sorted(boxes, key=lambda b: b[0]):
        if merged and t0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], t1)
        else:
            merged.append([t0, t1])
    rows = conn.execute(
        select(reports.c.id, reports.c.lat, reports.c.lon, reports.c.event_time).where(
            or_(*(reports.c.event_time.between(a, b) for a, b in merged)),
            reports.c.kind.in_(sorted(RULES.kinds)), reports.c.lat.is_not(None), reports.c.lon.is_not(None),
            reports.c.id.not_in(list(exclude)))
    ).all()
    if not rows:
        return []
    lat = np.array([r.lat for r in rows])
    lon = np.array([r.lon for r in rows])
    when = np.array([r.event_time.timestamp() for r in rows])
    inside = np.zeros(len(rows), dtype=bool)
    for t0, t1, la0, la1, lo0, lo1 in boxes:
        hit = (when >= t0.timestamp()) & (when <= t1.timestamp()) & (lat >= la0) & (lat <= la1)
        if lo0 is not None:
            hit &= (lon >= lo0) & (lon <= lo1)
        inside |= hit
    return [r.id for r, keep in zip(rows, inside, strict=True) if keep]


def propose_for_reports(conn: Connection, report_ids: Sequence[str]) -> dict[str, list[int]]:
    """Recompute the proposals of reports that just got new versions, in one transaction."""
    return record_proposals(conn, report_ids, find_proposals(conn, report_ids))


def find_proposals(conn: Connection, report_ids: Sequence[str]) -> dict[tuple[str, str], Proposal]:
    """The pairs the engine finds for reports that just got new versions (reads only, no lock).

    The candidates near any of them are indexed first, then the batch's own reports, so each pair
    is found once whichever of its two reports came later: the same proposals as one report at a
    time, with a few queries per batch instead of a few per report.
    """
    ids = list(dict.fromkeys(report_ids))
    mine = [r for r in _engine_inputs(conn, reports.c.id.in_(ids)) if r["kind"] in RULES.kinds]
    found: dict[tuple[str, str], Proposal] = {}
    if mine:
        index = DuplicateIndex(related=taxonomy_related, rules=RULES)
        nearby = _candidate_ids(conn, mine, ids)
        index.bulk(_engine_inputs(conn, reports.c.id.in_(nearby)) if nearby else [])
        for p in index.bulk(mine):
            found[p.pair] = p
    return found


def record_proposals(conn: Connection, report_ids: Sequence[str],
                     found: dict[tuple[str, str], Proposal]) -> dict[str, list[int]]:
    """Write what ``find_proposals`` found for ``report_ids``; returns each report's live proposal ids.

    Takes the feed's write lock only for these few writes: decisions (confirm, dismiss) take it too,
    so a decided pair is never written back as proposed.
    """
    feed.take_write_lock(conn)
    ids = list(dict.fromkeys(report_ids))
    existing = {
        (r["report_a"], r["report_b"]): r
        for r in conn.execute(select(_pa).where(or_(_pa.c.report_a.in_(ids), _pa.c.report_b.in_(ids)))).mappings()
    }
    same_incident = _same_incident_pairs(conn, list(found))
    now = clock.now()
    live: dict[str, list[int]] = {rid: [] for rid in ids}
    new_pairs: list[Proposal] = []
    refreshed: list[dict[str, Any]] = []
    for pair, p in found.items():
        row = existing.pop(pair, None)
        if pair in same_incident:
            continue
        if row is None:
            new_pairs.append(p)
        elif row["status"] in ("proposed", "withdrawn"):
            # Refreshed with the new version's evidence; a withdrawn pair that matches again comes back.
            refreshed.append({"_id": row["id"], "score": p.score, "reasons": p.reasons, "status": "proposed"})
            for rid in pair:
                live.setdefault(rid, []).append(int(row["id"]))
        # confirmed and dismissed pairs are decided: never proposed again.
    if new_pairs:
        pids = conn.execute(
            sql_insert(_pa).returning(_pa.c.id, sort_by_parameter_order=True),
            [{"report_a": p.pair[0], "report_b": p.pair[1], "score": p.score, "reasons": p.reasons,
              "status": "proposed", "created_at": now} for p in new_pairs],
        ).scalars().all()
        for p, pid in zip(new_pairs, pids, strict=True):
            for rid in p.pair:
                live.setdefault(rid, []).append(int(pid))
    if refreshed:
        conn.execute(update(_pa).where(_pa.c.id == bindparam("_id")), refreshed)
    stale = [r["id"] for r in existing.values() if r["status"] == "proposed"]
    if stale:
        conn.execute(update(_pa).where(_pa.c.id.in_(stale)).values(status="withdrawn"))
    return {rid: live.get(rid, []) for rid in ids}


def _same_incident_pairs(conn: Connection, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Pairs already in the same consolidated incident: nothing left to propose."""
    ids = {rid for pair in pairs for rid in pair}
    if not ids:
        return set()
    inc = dict(conn.execute(select(reports.c.id, reports.c.incident_id)
                            .where(reports.c.id.in_(ids), reports.c.incident_id.is_not(None))).all())
    return {(a, b) for a, b in pairs if inc.get(a) is not None and inc.get(a) == inc.get(b)}


# ---------------------------------------------------------------------------------------------------
# Reading


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"], "kind": row["kind"], "category": row["category"], "title": row["title"],
        "contingent": row["contingent"], "event_time": _iso(row["event_time"]), "lat": row["lat"],
        "lon": row["lon"], "confidentiality": row["confidentiality"], "severity": row["severity"],
        "incident_id": row["incident_id"],
    }


def _report_rows(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        select(reports, contingents.c.code.label("contingent"))
        .select_from(reports.join(contingents, reports.c.contingent_id == contingents.c.id))
        .where(reports.c.id.in_(list(ids)))
    ).mappings().all()
    return {r["id"]: dict(r) for r in rows}


def _readable(principal: Principal, row: dict[str, Any] | None) -> bool:
    return row is not None and can_read(principal, contingent_id=row["contingent_id"],
                                        confidentiality=row["confidentiality"], author_user_id=row["author_user_id"])


# A mission's own decisions are quoted once they say something: pairs at least an hour apart (closer
# ones are not in doubt), and at least three decided pairs alike.
HISTORY_MIN_GAP_MIN = 60
HISTORY_MIN_DECIDED = 3
HISTORY_LIMIT = 5000  # the most recent decisions: bounded work per listing

_Decided = tuple[int, tuple[str, ...], int, bool]  # proposal id, categories, time gap (min), confirmed


def _decided(conn: Connection, principal: Principal) -> list[_Decided]:
    """Confirmed and dismissed proposals whose two reports the caller may read, most recent first."""
    ra, rb = reports.alias("ra"), reports.alias("rb")
    rows = conn.execute(
        select(_pa.c.id, _pa.c.reasons, _pa.c.status)
        .select_from(_pa.join(ra, ra.c.id == _pa.c.report_a).join(rb, rb.c.id == _pa.c.report_b))
        .where(_pa.c.status.in_(("confirmed", "dismissed")), visible_clause(principal, ra),  # type: ignore[arg-type]
               visible_clause(principal, rb))  # type: ignore[arg-type]
        .order_by(_pa.c.decided_at.desc(), _pa.c.id.desc()).limit(HISTORY_LIMIT)
    ).all()
    return [(r.id, tuple(sorted(r.reasons.get("categories") or [])), int(r.reasons["time_gap_min"]),
             r.status == "confirmed") for r in rows]


def _history(decided: Sequence[_Decided], proposal_id: int, reasons: dict[str, Any]) -> dict[str, int] | None:
    """What analysts decided about pairs of these categories at least this far apart in time."""
    gap = int(reasons["time_gap_min"])
    if gap < HISTORY_MIN_GAP_MIN:
        return None
    key = tuple(sorted(reasons.get("categories") or []))
    alike = [confirmed for pid, cats, g, confirmed in decided if cats == key and g >= gap and pid != proposal_id]
    if len(alike) < HISTORY_MIN_DECIDED:
        return None
    return {"decided": len(alike), "different": alike.count(False)}


def _proposal_out(row: Any, a: dict[str, Any], b: dict[str, Any], decided: Sequence[_Decided]) -> dict[str, Any]:
    history = _history(decided, row["id"], row["reasons"])
    words = english(row["reasons"], history)
    return {
        "id": row["id"], "report_a": row["report_a"], "report_b": row["report_b"], "status": row["status"],
        "score": row["score"], "reasons": row["reasons"],
        # What argues for the pair being one event, then what argues against (English; the dashboard
        # translates the same list, see reasons.py).
        "explanations": words["for"] + words["against"], "reasons_for": words["for"],
        "reasons_against": words["against"], "history": history, "incident_id": row["incident_id"],
        "created_at": _iso(row["created_at"]), "decided_at": _iso(row["decided_at"]),
        "reports": [_summary(a), _summary(b)],
    }


def list_proposals(conn: Connection, principal: Principal, *, status: str = "proposed", limit: int = 100,
                   offset: int = 0) -> dict[str, Any]:
    """Proposals with ``status`` whose two reports the caller may read, best score first."""
    ra, rb = reports.alias("ra"), reports.alias("rb")
    base = (
        select(_pa.c.id)
        .select_from(_pa.join(ra, ra.c.id == _pa.c.report_a).join(rb, rb.c.id == _pa.c.report_b))
        .where(_pa.c.status == status, visible_clause(principal, ra), visible_clause(principal, rb))  # type: ignore[arg-type]
    )
    total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    ids = list(conn.execute(base.order_by(_pa.c.score.desc(), _pa.c.id).limit(limit).offset(offset)).scalars())
    rows = {r["id"]: r for r in conn.execute(select(_pa).where(_pa.c.id.in_(ids))).mappings()}
    reps = _report_rows(conn, {x for r in rows.values() for x in (r["report_a"], r["report_b"])})
    decided = _decided(conn, principal) if ids else []
    items = [_proposal_out(rows[i], reps[rows[i]["report_a"]], reps[rows[i]["report_b"]], decided) for i in ids]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _load_proposal(conn: Connection, principal: Principal, proposal_id: int) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    row = conn.execute(select(_pa).where(_pa.c.id == proposal_id)).mappings().one_or_none()
    if row is None:
        raise not_found(f"duplicate proposal {proposal_id}")
    reps = _report_rows(conn, (row["report_a"], row["report_b"]))
    a, b = reps.get(row["report_a"]), reps.get(row["report_b"])
    if not (_readable(principal, a) and _readable(principal, b)):
        raise not_found(f"duplicate proposal {proposal_id}")  # existence of a hidden report must not leak
    assert a is not None and b is not None
    return row, a, b


def get_proposal(conn: Connection, principal: Principal, proposal_id: int) -> dict[str, Any]:
    row, a, b = _load_proposal(conn, principal, proposal_id)
    return _proposal_out(row, a, b, _decided(conn, principal))


def _incident_sources(conn: Connection, incident_id: str) -> dict[str, dict[str, Any]]:
    ids = conn.execute(select(incident_sources.c.report_id).where(incident_sources.c.incident_id == incident_id))
    return _report_rows(conn, ids.scalars())


def _visible_overrides(overrides: dict[str, Any], visible: set[str], all_visible: bool) -> dict[str, Any]:
    """Overrides the caller may see: picks from visible sources; typed values only if every source is."""
    out = {}
    for fact, spec in overrides.items():
        if "from" in spec and spec["from"] in visible:
            out[fact] = spec
        elif "value" in spec and all_visible:
            out[fact] = spec
    return out


def get_incident(conn: Connection, principal: Principal, incident_id: str) -> dict[str, Any]:
    """A consolidated incident as the caller may see it: readable sources only, values from them."""
    inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one_or_none()
    if inc is None:
        raise not_found(f"incident {incident_id}")
    sources = _incident_sources(conn, incident_id)
    visible = sorted((r for r in sources.values() if _readable(principal, r)), key=lambda r: r["first_seq"])
    if not visible:
        raise not_found(f"incident {incident_id}")
    ids = {r["id"] for r in visible}
    overrides = _visible_overrides(inc["values"].get("overrides", {}), ids, len(ids) == len(sources))
    consolidated = consolidate([Source(r["id"], redact(principal, r["body"])) for r in visible], overrides)
    return {
        "id": inc["id"], "status": inc["status"], "created_at": _iso(inc["created_at"]),
        "updated_at": _iso(inc["updated_at"]), "seq": inc["seq"],
        "sources": [_summary(r) | {"body": redact(principal, r["body"])} for r in visible],
        "consolidated": consolidated,
    }


# ---------------------------------------------------------------------------------------------------
# Decisions


def _change(conn: Connection, *, action: str, incident_id: str | None, proposal_id: int | None,
            levels: list[str]) -> int:
    # The payload names no report: who may see which source is decided when the incident is read.
    # Visible to analysts who may read at least one source, hence the least restrictive level.
    level = min(levels, key=lambda lvl: CONFIDENTIALITY_RANK.get(lvl, 2)) if levels else None
    return feed.append(conn, kind="incident", ref=incident_id or f"proposal:{proposal_id}", confidentiality=level,
                       payload={"action": action, "incident_id": incident_id, "proposal_id": proposal_id})


def _audit(conn: Connection, principal: Principal, action: str, target: str, detail: dict[str, Any]) -> None:
    record(conn, action=action, actor=principal.username, actor_user_id=principal.user_id,
           device_id=principal.device_id, target=target, detail=detail)


def _check_overrides(sources: list[dict[str, Any]], overrides: dict[str, Any]) -> None:
    try:
        consolidate([Source(r["id"], r["body"]) for r in sources], overrides)
    except InvalidOverride as exc:
        raise invalid(exc.field, exc.message) from None


def confirm(conn: Connection, principal: Principal, *, proposal_id: int,
            overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Confirm a proposal: its reports become (or join) one consolidated incident keeping all sources."""
    # The feed lock before any reports row: the projection's catch-up locks rows after pushes hold
    # the feed lock, so taking them in the other order could deadlock with it on PostgreSQL.
    feed.take_write_lock(conn)
    row, a, b = _load_proposal(conn, principal, proposal_id)
    if row["status"] != "proposed":
        raise Problem(Code.CONFLICT, f"this proposal is {row['status']}, not proposed", field="status")
    ia, ib = a["incident_id"], b["incident_id"]
    if ia and ib and ia != ib:
        raise Problem(Code.CONFLICT, "the two reports are in different incidents; unmerge one first",
                      field="incident_id", incidents=sorted([ia, ib]))
    now = clock.now()
    incident_id = ia or ib
    if incident_id is None:
        incident_id = str(uuid.uuid4())
        _check_overrides([a, b], overrides or {})
        conn.execute(sql_insert(incidents).values(
            id=incident_id, status="active", values={"overrides": overrides or {}, "proposals": [proposal_id]},
            created_by=principal.user_id, created_at=now, updated_at=now, seq=0))
    else:
        inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one()
        merged = dict(inc["values"].get("overrides", {})) | (overrides or {})
        members = list(_incident_sources(conn, incident_id).values())
        _check_overrides([*members, *[r for r in (a, b) if r["incident_id"] is None]], merged)
        values = {"overrides": merged, "proposals": [*inc["values"].get("proposals", []), proposal_id]}
        conn.execute(update(incidents).where(incidents.c.id == incident_id).values(values=values, updated_at=now))
    for r in (a, b):
        if r["incident_id"] is None:
            conn.execute(sql_insert(incident_sources).values(incident_id=incident_id, report_id=r["id"]))
            conn.execute(update(reports).where(reports.c.id == r["id"]).values(incident_id=incident_id))
    conn.execute(update(_pa).where(_pa.c.id == proposal_id).values(
        status="confirmed", incident_id=incident_id, decided_by=principal.user_id, decided_at=now))
    levels = [r["confidentiality"] for r in _incident_sources(conn, incident_id).values()]
    seq = _change(conn, action="confirmed", incident_id=incident_id, proposal_id=proposal_id, levels=levels)
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(seq=seq))
    _audit(conn, principal, "duplicate_confirmed", f"incident:{incident_id}",
           {"proposal_id": proposal_id, "reports": [a["id"], b["id"]], "overrides": sorted(overrides or {})})
    return get_incident(conn, principal, incident_id)


def dismiss(conn: Connection, principal: Principal, *, proposal_id: int) -> dict[str, Any]:
    """Dismiss a proposal: the two reports are different events, and the pair is never proposed again."""
    row, a, b = _load_proposal(conn, principal, proposal_id)
    if row["status"] != "proposed":
        raise Problem(Code.CONFLICT, f"this proposal is {row['status']}, not proposed", field="status")
    now = clock.now()
    conn.execute(update(_pa).where(_pa.c.id == proposal_id).values(
        status="dismissed", decided_by=principal.user_id, decided_at=now))
    _change(conn, action="dismissed", incident_id=None, proposal_id=proposal_id,
            levels=[a["confidentiality"], b["confidentiality"]])
    _audit(conn, principal, "duplicate_dismissed", f"proposal:{proposal_id}", {"reports": [a["id"], b["id"]]})
    return get_proposal(conn, principal, proposal_id)


def unmerge(conn: Connection, principal: Principal, *, incident_id: str | None = None,
            proposal_id: int | None = None) -> dict[str, Any]:
    """Undo an incident: every source leaves it untouched and its confirmed proposals are open again.

    The incident is named directly, or by one of its confirmed proposals (as the dashboard does).
    """
    if (incident_id is None) == (proposal_id is None):
        raise invalid("incident_id", "give exactly one of incident_id or proposal_id")
    feed.take_write_lock(conn)  # before any reports row (see ``confirm``)
    if proposal_id is not None:
        row, _a, _b = _load_proposal(conn, principal, proposal_id)
        if row["status"] != "confirmed" or row["incident_id"] is None:
            raise Problem(Code.CONFLICT, f"this proposal is {row['status']}, not confirmed", field="status")
        incident_id = row["incident_id"]
    assert incident_id is not None
    _inc, sources = _editable_incident(conn, principal, incident_id, "unmerge")
    now = clock.now()
    conn.execute(update(reports).where(reports.c.id.in_(list(sources)), reports.c.incident_id == incident_id)
                 .values(incident_id=None))
    reopened = list(conn.execute(select(_pa.c.id).where(_pa.c.incident_id == incident_id,
                                                         _pa.c.status == "confirmed")).scalars())
    conn.execute(update(_pa).where(_pa.c.id.in_(reopened)).values(
        status="proposed", incident_id=None, decided_by=None, decided_at=None))
    seq = _change(conn, action="unmerged", incident_id=incident_id, proposal_id=None,
                  levels=[r["confidentiality"] for r in sources.values()])
    conn.execute(update(incidents).where(incidents.c.id == incident_id)
                 .values(status="unmerged", updated_at=now, seq=seq))
    _audit(conn, principal, "incident_unmerged", f"incident:{incident_id}",
           {"reports": sorted(sources), "proposals_reopened": reopened})
    return get_incident(conn, principal, incident_id)


def _editable_incident(conn: Connection, principal: Principal, incident_id: str,
                       verb: str) -> tuple[Any, dict[str, Any]]:
    """The sources of an active incident whose every source the caller may read, else the refusal."""
    inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one_or_none()
    sources = _incident_sources(conn, incident_id) if inc is not None else {}
    readable = [r for r in sources.values() if _readable(principal, r)]
    if inc is None or not readable:
        raise not_found(f"incident {incident_id}")
    if len(readable) != len(sources):
        raise forbidden(f"this incident has sources you may not read; ask the protection team to {verb} it")
    if inc["status"] != "active":
        raise Problem(Code.CONFLICT, f"this incident is {inc['status']}", field="status")
    return inc, sources


def set_overrides(conn: Connection, principal: Principal, *, incident_id: str,
                  overrides: dict[str, Any]) -> dict[str, Any]:
    """Replace HQ's picked or typed values of an active incident (the sources stay as they are)."""
    inc, sources = _editable_incident(conn, principal, incident_id, "edit")
    _check_overrides(list(sources.values()), overrides)
    now = clock.now()
    seq = _change(conn, action="overrides_set", incident_id=incident_id, proposal_id=None,
                  levels=[r["confidentiality"] for r in sources.values()])
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
        values=dict(inc["values"]) | {"overrides": overrides}, updated_at=now, seq=seq))
    _audit(conn, principal, "incident_overrides_set", f"incident:{incident_id}", {"facts": sorted(overrides)})
    return get_incident(conn, principal, incident_id)
