"""The CAP 1.2 feed: valid against the OASIS schema, shareable rules only, nothing about any report."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from .helpers import push

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("CAP-v1.2.xsd"))))
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


def _cap_alerts(client, mission, user: str) -> list[etree._Element]:
    r = client.get("/api/v1/alerts/cap", headers=mission.headers(user))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    return [entry.find(f"{ATOM}content/{CAP}alert") for entry in feed.iter(f"{ATOM}entry")]


def test_feed_is_valid_cap_and_carries_only_shareable_alerts(client, mission) -> None:
    severe = push(mission, "patrol_a", severity=5, title="Militia burned Kaya market")  # shareable rule
    push(mission, "patrol_a", category="abduction", severity=2)  # rule not shareable
    push(mission, "patrol_a", kind="hr_concern", category="conflict_related_sexual_violence",
         confidentiality="restricted", severity=5)  # never shared
    alerts = _cap_alerts(client, mission, "analyst")
    assert len(alerts) == 1
    alert = alerts[0]
    XSD.assertValid(etree.ElementTree(alert))
    assert alert.findtext(f"{CAP}info/{CAP}event") == "Attack on civilians or killing, severity 4 or more"
    assert alert.findtext(f"{CAP}info/{CAP}severity") == "Extreme"
    lat, lon = severe["location"]["lat"], severe["location"]["lon"]
    assert alert.findtext(f"{CAP}info/{CAP}area/{CAP}circle") == f"{lat:.2f},{lon:.2f} 1"
    text = etree.tostring(alert).decode()
    for private in (severe["id"], severe["title"], severe["description"], "ALPHA", "patrol_a"):
        assert private not in text
    # The protection team reads the restricted case, but it still never leaves in the feed.
    assert len(_cap_alerts(client, mission, "protection")) == 1


def test_feed_lists_only_alerts_whose_reports_the_caller_may_read(client, mission) -> None:
    push(mission, "patrol_a", severity=5)
    assert len(_cap_alerts(client, mission, "commander_a")) == 1
    assert _cap_alerts(client, mission, "commander_b") == []  # ALPHA's mission-level report
    assert client.get("/api/v1/alerts/cap", headers=mission.headers("patrol_a")).status_code == 403
