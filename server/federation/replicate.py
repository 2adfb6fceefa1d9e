"""A sector server applying what the mission server sends down: versions, reviews, comments, places, merges.

Each pulled change is written into this server's own tables and feed, marked as coming from
upstream (``changes.device_id == UPSTREAM``), so this server's tablets pull it as they pull
anything else and the upstream sender never sends it back. The mission already decided who may
see each change. Versions are stored as the mission sends them (its stored body, as the tablets
receive it), trusting the authenticated upstream; reviews and comments keep the reviewer's name.
Applying a change twice changes nothing (a cut link repeats at most a page).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .. import clock, feed
from ..access import CONFIDENTIALITY_RANK, Principal, level_of
from ..db.fast import insert_many
from ..db.tables import changes as feed_table  # apart from the pulled ``changes`` below
from ..db.tables import (
    comments,
    contingents,
    incident_sources,
    incidents,
    report_heads,
    reports,
    reviews,
    versions,
)
from ..feed_consumers import catch_up_in
from ..reference.service import upsert as upsert_reference
from ..reports.projection import PROJECTION

UPSTREAM = "upstream"  # changes.device_id of everything that came down from the mission


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _version(conn: Connection, service: Principal, change: dict[str, Any], known_contingents: dict[str, int]) -> bool:
    vid, rid, body = change.get("version_id"), change.get("report_id"), change.get("body")
    parents = sorted(p for p in change.get("parents") or [] if isinstance(p, str))
    if not isinstance(vid, str) or not isinstance(rid, str) or not isinstance(body, dict):
        return False
    # Not re-hashed: the mission answered over the authenticated link, and the body it sends is
    # the stored one (author and confidentiality as the mission decided), as tablets receive it.
    if conn.execute(select(versions.c.version_id).where(versions.c.version_id == vid)).first() is not None:
        return False
    cid = known_contingents.get(str(body.get("contingent")))
    if cid is None:
        return False  # a contingent this sector does not know
    seq = feed.allocate(conn, 1)
    now = clock.now()
    insert_many(conn, feed_table, [{
        "seq": seq, "kind": "version", "report_id": rid, "ref": vid, "contingent_id": cid,
        "confidentiality": level_of(body), "author_user_id": service.user_id, "device_id": UPSTREAM,
        "payload": {"parents": parents}, "created_at": now}])
    insert_many(conn, versions, [{
        "version_id": vid, "report_id": rid, "parents": parents, "body": body, "author_user_id": service.user_id,
        "device_id": change.get("device_id"), "device_time": None, "received_at": now, "seq": seq,
        "canonical": None}])
    heads = set(conn.execute(select(report_heads.c.version_id).where(report_heads.c.report_id == rid)).scalars())
    conn.execute(delete(report_heads).where(report_heads.c.report_id == rid))
    insert_many(conn, report_heads, [{"report_id": rid, "version_id": v} for v in sorted((heads - set(parents)) | {vid})])
    return True


def _decision(conn: Connection, service: Principal, change: dict[str, Any], kind: str) -> bool:
    rid = change.get("report_id")
    catch_up_in(conn, PROJECTION)  # a review may follow its report's first version in the same page
    row = conn.execute(select(reports.c.id, reports.c.contingent_id, reports.c.confidentiality)
                       .where(reports.c.id == rid)).mappings().one_or_none()
    if row is None:
        return False
    at = _time(change.get("at")) or clock.now()
    by = str(change.get("by") or "mission")
    if kind == "review":
        payload = {"status": change.get("status"), "comment": change.get("comment") or "", "at": at.isoformat(),
                   "by": by}
    else:
        payload = {"text": change.get("text") or "", "at": at.isoformat(), "by": by}
    seq = feed.append(conn, kind=kind, report_id=rid, contingent_id=row["contingent_id"],
                      confidentiality=row["confidentiality"], author_user_id=service.user_id, device_id=UPSTREAM,
                      payload=payload)
    if kind == "review":
        conn.execute(insert(reviews).values(report_id=rid, status=payload["status"], comment=payload["comment"],
                                            user_id=service.user_id, created_at=at, seq=seq))
        conn.execute(update(reports).where(reports.c.id == rid).values(review_status=payload["status"],
                                                                      updated_at=clock.now()))
    else:
        conn.execute(insert(comments).values(report_id=rid, user_id=service.user_id, text=payload["text"],
                                             created_at=at, seq=seq))
    return True


def _incident(conn: Connection, service: Principal, change: dict[str, Any]) -> bool:
    """A merge decided at the mission: this server's copies of its sources point at the incident."""
    iid, action = change.get("incident_id"), change.get("action")
    report_ids = [r for r in change.get("report_ids") or [] if isinstance(r, str)]
    if not isinstance(iid, str) or not report_ids:
        return False
    catch_up_in(conn, PROJECTION)  # the sources may have arrived earlier in this page
    local = list(conn.execute(select(reports.c.id, reports.c.confidentiality)
                              .where(reports.c.id.in_(report_ids))).all())
    if not local:
        return False
    ids = [r.id for r in local]
    now = clock.now()
    level = min((r.confidentiality for r in local), key=lambda lvl: CONFIDENTIALITY_RANK.get(lvl, 2))
    seq = feed.append(conn, kind="incident", ref=iid, confidentiality=level, author_user_id=service.user_id,
                      device_id=UPSTREAM, payload={"action": action, "incident_id": iid, "proposal_id": None})
    if action == "unmerged":
        conn.execute(update(reports).where(reports.c.id.in_(ids), reports.c.incident_id == iid)
                     .values(incident_id=None))
        conn.execute(update(incidents).where(incidents.c.id == iid).values(status="unmerged", updated_at=now,
                                                                          seq=seq))
        return True
    if conn.execute(select(incidents.c.id).where(incidents.c.id == iid)).first() is None:
        conn.execute(insert(incidents).values(id=iid, status="active", values={}, created_by=service.user_id,
                                              created_at=now, updated_at=now, seq=seq))
    else:
        conn.execute(update(incidents).where(incidents.c.id == iid).values(status="active", updated_at=now, seq=seq))
    have = set(conn.execute(select(incident_sources.c.report_id).where(incident_sources.c.incident_id == iid)).scalars())
    new = [{"incident_id": iid, "report_id": r} for r in ids if r not in have]
    if new:
        conn.execute(insert(incident_sources), new)
    conn.execute(update(reports).where(reports.c.id.in_(ids)).values(incident_id=iid))
    return True


def apply_changes(conn: Connection, service: Principal, changes: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Apply one pulled page (in the caller's transaction); how many of each kind were applied."""
    known = dict(conn.execute(select(contingents.c.code, contingents.c.id)).all())
    done = {"version": 0, "review": 0, "comment": 0, "reference": 0, "incident": 0}
    for change in changes:
        kind = change.get("kind")
        if kind == "version":
            done["version"] += _version(conn, service, change, known)
        elif kind in ("review", "comment"):
            done[kind] += _decision(conn, service, change, kind)
        elif kind == "incident":
            done["incident"] += _incident(conn, service, change)
        elif kind == "reference" and isinstance(change.get("item"), dict):
            item = change["item"]
            upsert_reference(conn, service, item_id=item["id"], kind=item["kind"], names=item.get("names") or {},
                             geometry=item.get("geometry") or {}, properties=item.get("properties") or {})
            done["reference"] += 1
    return done
