"""Community alerts: the hotline log, the triage queue, and the decisions taken on an alert.

An alert is logged by a liaison (``log_call``) or arrives by SMS (``intake.receive_sms``) and sits
in triage (``status = triage``) until someone with ``COMMUNITY`` confirms its place and category
(``confirm``), links it to a report or incident (``link``) or dismisses it with a reason
(``dismiss``). Confirming writes a report version (kind ``incident``, filed for the confirming
liaison's contingent, the place's position, no caller identity) through the ordinary version
store: it lands in the change feed, so the alert rules apply to it exactly as to a patrol's
report, and it appears in duplicates, hotspots and the map. A linked alert names the report it
confirms or the one it was attached to.

Extension point: turning an alert into a verification task belongs to the tasks domain; when it
exists it adds a ``task_id`` decision here beside ``link`` (the queue lists the alert's decisions).

Who reads what: the queue needs ``COMMUNITY``; alerts whose category is restricted (sexual
violence) only reach the liaison and the protection team; the caller's identity only
``CALLER_IDENTITY`` holders, each read audited (``protection.read_identity``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, or_, select, true, update

from ...common.taxonomy import load_taxonomy
from ...common.versioning import version_id
from .. import clock
from ..access import PROTECTION_TEAM, Permission, Principal, Role
from ..audit.service import record
from ..db.tables import community_alerts, contingents, incidents
from ..duplicates.service import get_incident
from ..problems import Code, Problem, forbidden, invalid, not_found
from ..reports.service import load_readable
from ..reports.versions import REJECTED, device_key, store_version
from . import gazetteer, outbox
from .protection import caller_key, encrypt, read_identity

STATUSES = ("triage", "confirmed", "linked", "dismissed", "throttled")
HOW_KNOWN = ("saw", "heard", "victim", "told", "unknown")
OPEN = ("triage",)


def _iso(v: Any) -> Any:
    return v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v


def visible_clause(p: Principal) -> ColumnElement[bool]:
    """The community alerts ``p`` may see: restricted categories only for the liaison and protection team."""
    if not p.may(Permission.COMMUNITY):
        raise forbidden()
    if p.role is Role.LIAISON or p.role in PROTECTION_TEAM:
        return true()
    restricted = [c for c in load_taxonomy().codes if load_taxonomy().is_restricted(c)]
    return or_(community_alerts.c.category.is_(None), community_alerts.c.category.not_in(restricted))


def check_category(category: str | None) -> str | None:
    if category in (None, ""):
        return None
    if category not in load_taxonomy().codes:
        raise invalid("category", f"unknown category {category!r}")
    return category


def insert_alert(conn: Connection, *, key: bytes, source: str, text: str, place_hint: str = "",
                 category: str | None = None, phone: str | None = None, name: str | None = None,
                 relationship: str | None = None, language: str = "en", urgency: int = 3,
                 event_time: datetime | None = None, how_known: str = "unknown", gateway_id: int | None = None,
                 message_id: str | None = None, throttled: bool = False, logged_by: int | None = None,
                 received_at: datetime | None = None, ckey: str | None = None) -> int:
    """Store one community alert with its place candidates; the caller's identity encrypted."""
    cands = [] if throttled else gazetteer.candidates(conn, text=text, place_hint=place_hint)
    return int(conn.execute(insert(community_alerts).values(
        source=source, gateway_id=gateway_id, message_id=message_id,
        caller_phone_enc=encrypt(key, phone, column="caller_phone_enc"),
        caller_name_enc=encrypt(key, name, column="caller_name_enc"),
        caller_relationship_enc=encrypt(key, relationship, column="caller_relationship_enc"),
        caller_key=ckey or (caller_key(key, phone) if phone else None), caller_language=language,
        text=text, place_text=place_hint, candidates=cands, category=category, urgency=urgency,
        event_time=event_time, how_known=how_known, status="throttled" if throttled else "triage",
        throttled=throttled, logged_by=logged_by, received_at=received_at or clock.now(),
    ).returning(community_alerts.c.id)).scalar_one())


def log_call(conn: Connection, principal: Principal, *, key: bytes, text: str, place: str = "",
             place_id: str | None = None, category: str | None = None, urgency: int = 3,
             event_time: datetime | None = None, how_known: str = "unknown", caller_name: str | None = None,
             caller_phone: str | None = None, caller_language: str = "en",
             caller_relationship: str | None = None) -> dict[str, Any]:
    """The hotline log: a call saved as a community alert in one step.

    With a gazetteer place and a category chosen, the liaison has confirmed it while on the phone:
    it enters the early-warning pipeline at once; otherwise it waits in triage.
    """
    if not text.strip():
        raise invalid("text", "say what happened or is threatened")
    if how_known not in HOW_KNOWN:
        raise invalid("how_known", f"must be one of {', '.join(HOW_KNOWN)}")
    if not 1 <= urgency <= 5:
        raise invalid("urgency", "must be 1 (low) to 5 (immediate danger)")
    category = check_category(category)
    if place_id:
        gazetteer.get_place(conn, place_id)
    alert_id = insert_alert(conn, key=key, source="hotline", text=text.strip(), place_hint=place.strip(),
                            category=category, phone=(caller_phone or "").strip() or None,
                            name=(caller_name or "").strip() or None,
                            relationship=(caller_relationship or "").strip() or None, language=caller_language,
                            urgency=urgency, event_time=event_time, how_known=how_known,
                            logged_by=principal.user_id)
    record(conn, action="community_alert_logged", actor=principal.username, actor_user_id=principal.user_id,
           target=f"community_alert:{alert_id}", detail={"source": "hotline"})
    if place_id and category:
        return confirm(conn, principal, key=key, alert_id=alert_id, place_id=place_id, category=category)
    return get_alert(conn, principal, alert_id, key=key, with_identity=False)


def visible_row(conn: Connection, principal: Principal, alert_id: int) -> dict[str, Any] | None:
    """The community alert's row if the principal may see it."""
    row = conn.execute(select(community_alerts).where(community_alerts.c.id == alert_id,
                                                      visible_clause(principal))).mappings().one_or_none()
    return dict(row) if row is not None else None


def _row(conn: Connection, principal: Principal, alert_id: int) -> dict[str, Any]:
    row = visible_row(conn, principal, alert_id)
    if row is None:
        raise not_found(f"community alert {alert_id}")
    return dict(row)


def alert_out(row: dict[str, Any]) -> dict[str, Any]:
    """An alert without its caller's identity (that is read separately, audited)."""
    return {
        "id": row["id"], "source": row["source"], "status": row["status"], "text": row["text"],
        "place_text": row["place_text"], "candidates": row["candidates"], "place_id": row["place_id"],
        "category": row["category"], "urgency": row["urgency"], "event_time": _iso(row["event_time"]),
        "how_known": row["how_known"], "caller_language": row["caller_language"],
        "has_caller_identity": any(row[c] for c in ("caller_phone_enc", "caller_name_enc",
                                                    "caller_relationship_enc")),
        "throttled": row["throttled"], "dismiss_reason": row["dismiss_reason"], "report_id": row["report_id"],
        "linked_report_id": row["linked_report_id"], "linked_incident_id": row["linked_incident_id"],
        "received_at": _iso(row["received_at"]), "identity_purged": row["identity_purged_at"] is not None,
    }


def get_alert(conn: Connection, principal: Principal, alert_id: int, *, key: bytes,
              with_identity: bool = True) -> dict[str, Any]:
    """One alert; with its caller's identity when the principal may read it (audited)."""
    row = _row(conn, principal, alert_id)
    out = alert_out(row)
    out["caller"] = read_identity(conn, principal, row, key=key) if with_identity else None
    out["replies"] = outbox.replies_of(conn, alert_id)
    return out


def list_alerts(conn: Connection, principal: Principal, *, status: str | None = "triage",
                limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The triage queue (or any status), most urgent then newest first; no caller identity."""
    if status is not None and status not in STATUSES:
        raise invalid("status", f"must be one of {', '.join(STATUSES)}")
    where = [visible_clause(principal)]
    if status is not None:
        where.append(community_alerts.c.status == status)
    total = conn.execute(select(func.count()).select_from(community_alerts).where(and_(*where))).scalar_one()
    rows = conn.execute(select(community_alerts).where(and_(*where))
                        .order_by(community_alerts.c.urgency.desc(), community_alerts.c.received_at.desc(),
                                  community_alerts.c.id.desc()).limit(limit).offset(offset)).mappings().all()
    return {"items": [alert_out(dict(r)) for r in rows], "total": int(total)}


def _decidable(conn: Connection, principal: Principal, alert_id: int) -> dict[str, Any]:
    row = _row(conn, principal, alert_id)
    if row["status"] != "triage":
        raise Problem(Code.CONFLICT, f"community alert {alert_id} is {row['status']}, not in triage",
                      field="status")
    return row


def _contingent_for(conn: Connection, principal: Principal, code: str | None) -> str:
    if principal.contingent_code and not code:
        return principal.contingent_code
    if not code:
        raise invalid("contingent", "name the contingent whose base answers this alert")
    if conn.execute(select(contingents.c.id).where(contingents.c.code == code)).first() is None:
        raise invalid("contingent", f"no contingent {code!r}")
    return code


def confirm(conn: Connection, principal: Principal, *, key: bytes, alert_id: int, place_id: str,
            category: str, contingent: str | None = None, urgency: int | None = None) -> dict[str, Any]:
    """Confirm the place and category: write the alert's report, which enters the early-warning pipeline."""
    row = _decidable(conn, principal, alert_id)
    if urgency is not None:
        if not 1 <= urgency <= 5:
            raise invalid("urgency", "must be 1 (low) to 5 (immediate danger)")
        row["urgency"] = urgency
    category = check_category(category)
    if category is None:
        raise invalid("category", "choose the category of what happened or is threatened")
    place = gazetteer.get_place(conn, place_id)
    code = _contingent_for(conn, principal, contingent)
    taxonomy = load_taxonomy()
    place_name = place.names.get(row["caller_language"]) or place.names.get("en") or place_id
    body = {
        "id": str(uuid.uuid4()), "kind": "incident", "category": category,
        "event_time": _iso(row["event_time"] or row["received_at"]),
        "location": {"lat": place.lat, "lon": place.lon, "precision_m": 2000, "source": "latlon",
                     "place": place_name},
        "title": f"Community alert #{row['id']}: {taxonomy.label(category, 'en')} at {place_name}",
        # The caller's words only: their identity is never part of a report.
        "description": row["text"],
        "casualties": {"killed": 0, "injured": 0, "abducted": 0, "displaced": 0},
        "severity": int(row["urgency"]),
        "confidentiality": "restricted" if taxonomy.is_restricted(category) else "mission",
        "attachments": [], "contingent": code, "author": principal.username,
        "language": row["caller_language"] if row["caller_language"] in ("en", "fr", "ar") else "en",
    }
    vid = version_id(body, [], device_key(principal))
    outcome = store_version(conn, principal, report_id=body["id"], version_id=vid, parents=[], body=body)
    if outcome.status == REJECTED:
        raise invalid(outcome.field or "body", outcome.reason or "the report was refused")
    conn.execute(update(community_alerts).where(community_alerts.c.id == alert_id).values(
        status="confirmed", place_id=place_id, category=category, urgency=row["urgency"], report_id=body["id"]))
    record(conn, action="community_alert_confirmed", actor=principal.username, actor_user_id=principal.user_id,
           target=f"community_alert:{alert_id}", detail={"report_id": body["id"], "place_id": place_id})
    return get_alert(conn, principal, alert_id, key=key, with_identity=False)


def link(conn: Connection, principal: Principal, *, key: bytes, alert_id: int, report_id: str | None = None,
         incident_id: str | None = None) -> dict[str, Any]:
    """Attach the alert to a report or consolidated incident the principal may read; tells the sender."""
    if bool(report_id) == bool(incident_id):
        raise invalid("report_id", "give either report_id or incident_id")
    row = _row(conn, principal, alert_id)
    if row["status"] not in ("triage", "confirmed"):
        raise Problem(Code.CONFLICT, f"community alert {alert_id} is {row['status']}", field="status")
    if report_id:
        try:
            load_readable(conn, principal, report_id)
        except Problem:
            raise invalid("report_id", f"no report {report_id} that you may read") from None
    else:
        if conn.execute(select(incidents.c.id).where(incidents.c.id == incident_id)).first() is None:
            raise invalid("incident_id", f"no incident {incident_id}")
        try:
            get_incident(conn, principal, str(incident_id))
        except Problem:
            raise invalid("incident_id", f"no incident {incident_id} that you may read") from None
    conn.execute(update(community_alerts).where(community_alerts.c.id == alert_id).values(
        status="linked", linked_report_id=report_id, linked_incident_id=incident_id))
    record(conn, action="community_alert_linked", actor=principal.username, actor_user_id=principal.user_id,
           target=f"community_alert:{alert_id}", detail={"report_id": report_id, "incident_id": incident_id})
    outbox.enqueue_reply(conn, key=key, alert_id=alert_id, kind="outcome_action")
    return get_alert(conn, principal, alert_id, key=key, with_identity=False)


def dismiss(conn: Connection, principal: Principal, *, key: bytes, alert_id: int, reason: str) -> dict[str, Any]:
    """Dismiss with a reason (kept); the sender hears that the alert was reviewed."""
    if not reason.strip():
        raise invalid("reason", "say why the alert is dismissed")
    _decidable(conn, principal, alert_id)
    conn.execute(update(community_alerts).where(community_alerts.c.id == alert_id).values(
        status="dismissed", dismiss_reason=reason.strip()))
    record(conn, action="community_alert_dismissed", actor=principal.username, actor_user_id=principal.user_id,
           target=f"community_alert:{alert_id}", detail={"reason": reason.strip()})
    outbox.enqueue_reply(conn, key=key, alert_id=alert_id, kind="outcome_reviewed")
    return get_alert(conn, principal, alert_id, key=key, with_identity=False)


def place_candidates(conn: Connection, principal: Principal, *, text: str) -> list[dict[str, Any]]:
    """Gazetteer candidates for what a liaison types (the hotline's place field)."""
    if not principal.may(Permission.COMMUNITY):
        raise forbidden()
    return gazetteer.candidates(conn, text="", place_hint=text)

