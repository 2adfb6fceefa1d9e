"""Duplicate proposals and consolidated incidents in the database.

* ``propose_for_report`` runs on ingest (the sync hook): the database narrows candidates to a
  bounding box and time range around the report, the engine applies the exact limits and scores,
  and the ``duplicate_proposals`` rows are inserted, refreshed, or withdrawn when a new version of
  the report no longer matches. A dismissed or confirmed pair is never proposed again.
* ``confirm`` makes (or extends) a consolidated incident that keeps every source report untouched;
  ``unmerge`` restores exactly the state before: sources out of the incident, their proposals back
  to ``proposed``. ``dismiss`` closes a pair for good. Each is one ``incident`` change in the feed
  and one audit entry.
* Reading follows ``access``: a proposal is listed only if the caller may read both reports; an
  incident shows only the sources the caller may read, and its consolidated values are computed
  from those alone (an override taken from, or typed over, a source hidden from the caller is left
  out), so a restricted source never leaks through the consolidated view.

Proposal statuses: ``proposed`` -> ``confirmed`` | ``dismissed`` | ``withdrawn`` (the reports no
longer match); ``confirmed`` -> ``proposed`` on unmerge. Incident statuses: ``active``, ``unmerged``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from peacewatch.common.taxonomy import UnknownCategory, load_taxonomy
from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy import insert as sql_insert

from .. import clock, feed
from ..access import CONFIDENTIALITY_RANK, Principal, can_read, redact, visible_clause
from ..audit.service import record
from ..db.tables import contingents, duplicate_proposals, incident_sources, incidents, reports, versions
from ..problems import Code, Problem, forbidden, invalid, not_found
from .consolidate import InvalidOverride, Source, consolidate
from .engine import CASUALTY_FIELDS, EARTH_RADIUS_M, DuplicateIndex, Proposal, Rules, explain

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
    first_device = (
        select(versions.c.device_id)
        .where(versions.c.report_id == reports.c.id)
        .order_by(versions.c.seq)
        .limit(1)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(reports.c.id, reports.c.kind, reports.c.category, reports.c.event_time, reports.c.lat, reports.c.lon,
               reports.c.body, reports.c.author_user_id, contingents.c.code.label("contingent"),
               first_device.label("device_id"))
        .select_from(reports.join(contingents, reports.c.contingent_id == contingents.c.id))
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


def _nearby(lat: float, lon: float, when: datetime) -> Any:
    """A coarse SQL filter (box and time range, both indexed) around a point; the engine is exact."""
    margin = 1.01  # the box must hold the whole circle; the exact distance is the engine's
    dlat = math.degrees(RULES.max_distance_m / EARTH_RADIUS_M) * margin
    window = RULES.time_window
    cond = and_(
        reports.c.event_time >= when - window,
        reports.c.event_time <= when + window,
        reports.c.lat >= lat - dlat,
        reports.c.lat <= lat + dlat,
        reports.c.kind.in_(sorted(RULES.kinds)),
    )
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = dlat / cos_lat
    if abs(lat) + dlat < 89.0 and -180.0 < lon - dlon and lon + dlon < 180.0:
        # Near a pole or across the antimeridian the longitude box is skipped, not wrapped.
        cond = and_(cond, reports.c.lon >= lon - dlon, reports.c.lon <= lon + dlon)
    return cond


def propose_for_report(conn: Connection, report_id: str) -> list[int]:
    """Recompute the proposals of one report after a new version; returns the live proposal ids."""
    feed.take_write_lock(conn)  # concurrent ingests must not insert the same pair twice
    [me] = _engine_inputs(conn, reports.c.id == report_id) or [None]
    proposals: list[Proposal] = []
    if me is not None and me["kind"] in RULES.kinds:
        index = DuplicateIndex(related=taxonomy_related, rules=RULES)
        index.bulk(_engine_inputs(conn, and_(_nearby(me["lat"], me["lon"], me["event_time"]),
                                             reports.c.id != report_id)))
        proposals = index.add(me)
    existing = {
        (r["report_a"], r["report_b"]): r
        for r in conn.execute(select(_pa).where(or_(_pa.c.report_a == report_id, _pa.c.report_b == report_id)))
        .mappings()
    }
    same_incident = _same_incident_pairs(conn, report_id, [p.other_id for p in proposals])
    now = clock.now()
    live: list[int] = []
    for p in proposals:
        a, b = p.pair
        row = existing.pop((a, b), None)
        if (a, b) in same_incident:
            continue
        if row is None:
            pid = conn.execute(
                sql_insert(_pa).values(report_a=a, report_b=b, score=p.score, reasons=p.reasons, status="proposed",
                                       created_at=now).returning(_pa.c.id)
            ).scalar_one()
            live.append(int(pid))
        elif row["status"] in ("proposed", "withdrawn"):
            # Refreshed with the new version's evidence; a withdrawn pair that matches again comes back.
            conn.execute(update(_pa).where(_pa.c.id == row["id"])
                         .values(score=p.score, reasons=p.reasons, status="proposed"))
            live.append(int(row["id"]))
        # confirmed and dismissed pairs are decided: never proposed again.
    stale = [r["id"] for r in existing.values() if r["status"] == "proposed"]
    if stale:
        conn.execute(update(_pa).where(_pa.c.id.in_(stale)).values(status="withdrawn"))
    return live


def _same_incident_pairs(conn: Connection, report_id: str, others: Sequence[str]) -> set[tuple[str, str]]:
    """Pairs of ``report_id`` with others already in the same incident: nothing left to propose."""
    ids = [report_id, *others]
    inc = dict(conn.execute(select(reports.c.id, reports.c.incident_id).where(reports.c.id.in_(ids))).all())
    mine = inc.get(report_id)
    if mine is None:
        return set()
    return {tuple(sorted((report_id, o))) for o in others if inc.get(o) == mine}  # type: ignore[misc]


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


def _proposal_out(row: Any, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "report_a": row["report_a"], "report_b": row["report_b"], "status": row["status"],
        "score": row["score"], "reasons": row["reasons"],
        "explanations": explain(row["reasons"]), "incident_id": row["incident_id"],
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
    items = [_proposal_out(rows[i], reps[rows[i]["report_a"]], reps[rows[i]["report_b"]]) for i in ids]
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
    return _proposal_out(row, a, b)


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
    if proposal_id is not None:
        row, _a, _b = _load_proposal(conn, principal, proposal_id)
        if row["status"] != "confirmed" or row["incident_id"] is None:
            raise Problem(Code.CONFLICT, f"this proposal is {row['status']}, not confirmed", field="status")
        incident_id = row["incident_id"]
    assert incident_id is not None
    inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one_or_none()
    sources = _incident_sources(conn, incident_id) if inc is not None else {}
    readable = [r for r in sources.values() if _readable(principal, r)]
    if inc is None or not readable:
        raise not_found(f"incident {incident_id}")
    if len(readable) != len(sources):
        raise forbidden("this incident has sources you may not read; ask the protection team to unmerge it")
    if inc["status"] != "active":
        raise Problem(Code.CONFLICT, f"this incident is {inc['status']}", field="status")
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


def set_overrides(conn: Connection, principal: Principal, *, incident_id: str,
                  overrides: dict[str, Any]) -> dict[str, Any]:
    """Replace HQ's picked or typed values of an active incident (the sources stay as they are)."""
    inc = conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one_or_none()
    sources = _incident_sources(conn, incident_id) if inc is not None else {}
    readable = [r for r in sources.values() if _readable(principal, r)]
    if inc is None or not readable:
        raise not_found(f"incident {incident_id}")
    if len(readable) != len(sources):
        raise forbidden("this incident has sources you may not read; ask the protection team to edit it")
    if inc["status"] != "active":
        raise Problem(Code.CONFLICT, f"this incident is {inc['status']}", field="status")
    _check_overrides(list(sources.values()), overrides)
    now = clock.now()
    seq = _change(conn, action="overrides_set", incident_id=incident_id, proposal_id=None,
                  levels=[r["confidentiality"] for r in sources.values()])
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
        values=dict(inc["values"]) | {"overrides": overrides}, updated_at=now, seq=seq))
    _audit(conn, principal, "incident_overrides_set", f"incident:{incident_id}", {"facts": sorted(overrides)})
    return get_incident(conn, principal, incident_id)
