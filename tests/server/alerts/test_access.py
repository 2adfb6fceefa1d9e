"""No alert, stream event, CAP entry or pulled alert ever names a report its receiver may not read.

A world of reports from both contingents at every confidentiality level raises alerts under every
default rule; the clock then moves past every escalation step, so alerts reach as many people as
they ever will. Every user then reads alerts every way there is, and every report id named must
be one the same user may open through ``GET /reports/{id}``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lxml import etree

from factories import USERS
from peacewatch.server import clock

from .helpers import push

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def _world(mission) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    for user, contingent in (("patrol_a", "ALPHA"), ("patrol_b", "BRAVO")):
        for level in ("public", "mission"):
            push(mission, user, contingent=contingent, confidentiality=level, severity=5)
        push(mission, user, contingent=contingent, kind="hr_concern", category="conflict_related_sexual_violence",
             confidentiality="restricted", severity=5)
        for i in range(2):
            push(mission, user, contingent=contingent, category="armed_group_movement", severity=2,
                 confidentiality="public" if i else "mission", lat=1.5 + i * 0.01, lon=30.2,
                 event_time=base + timedelta(hours=i))


def test_no_way_of_reading_alerts_names_an_unreadable_report(client, mission) -> None:
    _world(mission)
    client.get("/api/v1/alerts", headers=mission.headers("protection"))  # catch up
    clock.advance(timedelta(hours=3))  # every ladder step is due: the widest audiences
    client.app.state.settings.alert_stream_max_s = 0.5
    seen_any = set()
    for user in USERS:
        if user == "admin":
            continue
        h = mission.headers(user)
        named: set[str] = set()
        items = client.get("/api/v1/alerts", params={"limit": 500}, headers=h).json()["items"]
        for a in items:
            named |= {r["id"] for r in a["reports"]}
            one = client.get(f"/api/v1/alerts/{a['id']}", headers=h).json()
            named |= {r["id"] for r in one["reports"]}
        stream = client.get("/api/v1/alerts/stream", params={"after": 0}, headers=h).text
        for line in stream.splitlines():
            if line.startswith("data:") and '"alert"' in line:
                named |= {r["id"] for r in json.loads(line[5:])["alert"]["reports"]}
        if user in mission.devices:
            pulled = client.get("/api/v1/sync/pull", params={"since": 0, "limit": 1000},
                                headers=mission.device_headers(user)).json()["changes"]
            for c in pulled:
                if c["kind"] == "alert":
                    named |= {r["id"] for r in c["alert"]["reports"]}
        for rid in named:
            r = client.get(f"/api/v1/reports/{rid}", headers=h)
            assert r.status_code == 200, f"{user} was told of report {rid} it may not read"
        cap = client.get("/api/v1/alerts/cap", headers=h)
        if cap.status_code == 200:
            # Shared alerts name no report at all.
            feed = etree.fromstring(cap.content)
            assert not any(rid in etree.tostring(feed).decode() for rid in named)
        seen_any |= named
    assert len(seen_any) >= 8  # the check above was not vacuous
