"""The CAP 1.2 feed for partner systems: an Atom feed whose entries each carry one CAP 1.2 alert.

CAP (OASIS Common Alerting Protocol 1.2) defines one alert per document and no list, so the feed
is Atom (RFC 4287) with each ``cap:alert`` embedded as the entry's content, the usual way CAP is
published. Each alert carries only the shared view (``share.py``): the rule's name as the event,
severity mapped to CAP's scale, the time, and a circle of about a kilometre around the rounded
position. Only alerts of shareable rules that the caller may read are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from sqlalchemy import Connection, select

from .. import clock
from ..access import Principal
from ..db.tables import alert_rules, alerts
from .share import shareable_clause, shared_views
from .visibility import readable_clause

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SENDER = "peacewatch"
CIRCLE_KM = 1.0
# Report severity 1-5 on CAP's scale (CAP 1.2 section 3.2.2 "severity").
SEVERITY = {5: "Extreme", 4: "Severe", 3: "Moderate", 2: "Minor", 1: "Minor"}


def cap_time(value: str | datetime | None) -> str:
    """CAP's dateTime form: seconds, and an explicit offset ("-00:00" is not allowed for UTC)."""
    if value is None:
        value = clock.now()
    dt = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def cap_alert(view: dict[str, Any]) -> etree._Element:
    """One CAP 1.2 ``alert`` element for a shared view."""
    a = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(a, CAP_NS, "identifier", f"peacewatch-alert-{view['alert_id']}")
    _sub(a, CAP_NS, "sender", SENDER)
    _sub(a, CAP_NS, "sent", cap_time(view["raised_at"]))
    _sub(a, CAP_NS, "status", "Actual")
    _sub(a, CAP_NS, "msgType", "Alert")
    _sub(a, CAP_NS, "scope", "Restricted")
    _sub(a, CAP_NS, "restriction", "For partners under the mission's sharing agreement")
    info = _sub(a, CAP_NS, "info")
    _sub(info, CAP_NS, "language", "en")
    _sub(info, CAP_NS, "category", "Security")
    _sub(info, CAP_NS, "event", view["rule"])
    _sub(info, CAP_NS, "urgency", "Immediate")
    _sub(info, CAP_NS, "severity", SEVERITY.get(view["severity"], "Unknown"))
    _sub(info, CAP_NS, "certainty", "Likely")  # field reports, not yet verified
    if view["event_time"]:
        _sub(info, CAP_NS, "onset", cap_time(view["event_time"]))
    _sub(info, CAP_NS, "senderName", "peacewatch mission server")
    _sub(info, CAP_NS, "headline", view["rule"][:160])
    _sub(info, CAP_NS, "description", f"Categories: {', '.join(view['categories'])}; severity {view['severity']}.")
    for name in view["categories"]:
        p = _sub(info, CAP_NS, "parameter")
        _sub(p, CAP_NS, "valueName", "category")
        _sub(p, CAP_NS, "value", name)
    if view["lat"] is not None:
        area = _sub(info, CAP_NS, "area")
        _sub(area, CAP_NS, "areaDesc", f"Within {CIRCLE_KM:g} km of {view['lat']:.2f}, {view['lon']:.2f}")
        _sub(area, CAP_NS, "circle", f"{view['lat']:.2f},{view['lon']:.2f} {CIRCLE_KM:g}")
    return a


def _atom(views: list[dict[str, Any]], feed_id: str) -> bytes:
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(root, ATOM_NS, "id", feed_id)
    _sub(root, ATOM_NS, "title", "peacewatch shareable alerts (CAP 1.2)")
    _sub(root, ATOM_NS, "updated", cap_time(max((v["raised_at"] for v in views), default=None)))
    author = _sub(root, ATOM_NS, "author")
    _sub(author, ATOM_NS, "name", SENDER)
    for view in views:
        entry = _sub(root, ATOM_NS, "entry")
        _sub(entry, ATOM_NS, "id", f"urn:peacewatch:alert:{view['alert_id']}")
        _sub(entry, ATOM_NS, "title", view["rule"])
        _sub(entry, ATOM_NS, "updated", cap_time(view["raised_at"]))
        content = _sub(entry, ATOM_NS, "content")
        content.set("type", "application/cap+xml")
        content.append(cap_alert(view))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _shareable() -> Any:
    return (select(alerts, alert_rules.c.name.label("rule_name"))
            .join(alert_rules, alert_rules.c.id == alerts.c.rule_id).where(shareable_clause()))


def feed(conn: Connection, principal: Principal, *, limit: int = 100) -> bytes:
    """The Atom feed of the shareable alerts the caller may read, newest first."""
    rows = list(conn.execute(_shareable().where(readable_clause(principal))
                             .order_by(alerts.c.raised_at.desc(), alerts.c.id.desc()).limit(limit)).mappings())
    return _atom(shared_views(conn, rows), "urn:peacewatch:alerts:cap")


def partner_page(conn: Connection, *, partner: str, categories: Sequence[str], cursor: int,
                 limit: int) -> tuple[bytes, int, bool, list[int]]:
    """A partner's page of shareable alerts after ``cursor`` (an alert id), oldest first.

    ``(atom, next_cursor, more, alert ids)``. With ``categories``, only alerts all of whose
    categories the agreement shares. The shared view names no report, whoever receives it.
    """
    rows = list(conn.execute(_shareable().where(alerts.c.id > cursor).order_by(alerts.c.id)
                             .limit(limit + 1)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    views = shared_views(conn, rows)
    if categories:
        allowed = set(categories)
        views = [v for v in views if set(v["categories"]) <= allowed]
    next_cursor = int(rows[-1]["id"]) if rows else cursor
    return _atom(views, f"urn:peacewatch:share:{partner}:cap"), next_cursor, more, [v["alert_id"] for v in views]
