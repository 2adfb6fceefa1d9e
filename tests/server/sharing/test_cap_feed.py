"""A partner's CAP feed (SQLite and PostgreSQL): the mission's shareable alerts, only for an agreement
that shares alerts, only in its categories, cursor-paged, valid CAP 1.2, naming no report."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from factories import Mission
from peacewatch.server.alerts.raising import ensure_current
from peacewatch.server.alerts.rules import ensure_defaults
from peacewatch.server.db.engine import WRITE
from tests.server.alerts.helpers import push

from .conftest import create_agreement, issue_key

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).parents[1] / "alerts" / "CAP-v1.2.xsd")))
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


def _cap(mission: Mission, key: dict[str, str], **params: object) -> tuple[list[etree._Element], dict[str, str]]:
    r = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "cap", **params}, headers=key)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    return [e.find(f"{ATOM}content/{CAP}alert") for e in feed.iter(f"{ATOM}entry")], dict(r.headers)


def test_partner_cap_feed_follows_the_agreement(mission: Mission) -> None:
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ensure_defaults(conn)
    severe = push(mission, "patrol_a", severity=5, title="Militia burned Kaya market")  # a shareable rule
    push(mission, "patrol_a", kind="hr_concern", category="conflict_related_sexual_violence",
         confidentiality="restricted", severity=5)  # never shared
    ensure_current(mission.engine)
    agreement = create_agreement(mission, alerts=True, verified_only=False, categories=["attack_on_civilians"])
    key = issue_key(mission, agreement["id"])
    alerts, headers = _cap(mission, key)
    assert len(alerts) == 1
    XSD.assertValid(etree.ElementTree(alerts[0]))
    text = etree.tostring(alerts[0]).decode()
    for private in (severe["id"], severe["title"], severe["description"], "ALPHA", "patrol_a"):
        assert private not in text
    # Cursor-paged: nothing new after the cursor it gave.
    again, _ = _cap(mission, key, cursor=headers["x-next-cursor"])
    assert again == [] and headers["x-more"] == "false"
    # An agreement for other categories gets none of them; one without alerts is refused.
    other = mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                               json={"policy": {"kinds": ["incident"], "categories": ["looting"], "alerts": True,
                                                "verified_only": False}})
    assert other.status_code == 200, other.text
    assert _cap(mission, key)[0] == []
    mission.client.put(f"/api/v1/sharing/agreements/{agreement['id']}", headers=mission.headers("admin"),
                       json={"policy": {"kinds": ["incident"], "categories": ["looting"], "verified_only": False}})
    r = mission.client.get("/api/v1/share/ohchr/feed", params={"format": "cap"}, headers=key)
    assert r.status_code == 403 and r.json()["field"] == "format"
