"""Tests of server/duplicates/service.py and views.py through the API, on SQLite and PostgreSQL.

Reports arrive by the real sync push, so the feed consumer (``duplicates.backlog.PROPOSALS``,
caught up before every proposal read) is what creates the proposals under test.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from factories import Mission, report_body, version_entry
from peacewatch.server.db.tables import audit_log, changes, duplicate_proposals

PUSH = "/api/v1/sync/push"
WHEN = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def push(mission: Mission, user: str, body: dict[str, Any], parents: list[str] | None = None) -> str:
    entry = version_entry(body, mission.device_id(user), parents)
    r = mission.client.post(PUSH, json={"versions": [entry]}, headers=mission.device_headers(user))
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "stored", r.text
    return entry["version_id"]


def near(metres: float, minutes: float = 0, **extra: Any) -> dict[str, Any]:
    """A BRAVO report ``metres`` north of the ALPHA one's default place, ``minutes`` later."""
    lat = 1.5667 + math.degrees(metres / 6_371_008.8)
    return report_body(contingent="BRAVO", author="patrol_b", lat=lat, event_time=WHEN + timedelta(minutes=minutes),
                       **extra)


def get(mission: Mission, user: str, path: str, expect: int = 200, **params: Any) -> Any:
    r = mission.client.get(f"/api/v1{path}", headers=mission.headers(user), params=params)
    assert r.status_code == expect, r.text
    return r.json()


def post(mission: Mission, user: str, path: str, expect: int = 200, json: Any = None) -> Any:
    r = mission.client.post(f"/api/v1{path}", headers=mission.headers(user), json=json)
    assert r.status_code == expect, r.text
    return r.json()


def pair(mission: Mission, **b_extra: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Two reports of one event from ALPHA and BRAVO tablets, and the proposal the push made."""
    a = report_body(event_time=WHEN)
    b = near(600, 40, **b_extra)
    push(mission, "patrol_a", a)
    push(mission, "patrol_b", b)
    items = get(mission, "analyst", "/duplicates")["items"]
    assert len(items) == 1
    return a, b, items[0]


def audit_actions(mission: Mission) -> list[str]:
    with mission.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def incident_changes(mission: Mission) -> list[dict[str, Any]]:
    with mission.engine.connect() as conn:
        rows = conn.execute(select(changes).where(changes.c.kind == "incident").order_by(changes.c.seq)).mappings()
        return [dict(r) for r in rows]


def test_push_proposes_a_pair_with_reasons_to_analysts_only(mission: Mission):
    a, b, p = pair(mission)
    assert {r["id"] for r in p["reports"]} == {a["id"], b["id"]}
    assert p["status"] == "proposed" and 0 < p["score"] <= 1
    assert abs(p["reasons"]["distance_m"] - 600) <= 2 and p["reasons"]["time_gap_min"] == 40
    assert p["reasons"]["category"] == "same" and p["reasons"]["contingents"] == ["BRAVO", "ALPHA"]
    assert "event times 40 min apart" in p["explanations"]
    assert get(mission, "analyst", f"/duplicates/{p['id']}")["id"] == p["id"]
    for user in ("patrol_a", "commander_b", "admin"):
        get(mission, user, "/duplicates", expect=403)
    # A far report and a same-device repeat are not proposed.
    push(mission, "patrol_a", report_body(event_time=WHEN + timedelta(minutes=5)))
    push(mission, "patrol_b", near(30_000))
    # The original pair, plus the repeat with BRAVO's report (never with its own tablet's first report).
    assert get(mission, "analyst", "/duplicates")["total"] == 2


def test_dismissed_pair_is_never_proposed_again(mission: Mission):
    a, b, p = pair(mission)
    out = post(mission, "analyst", f"/duplicates/{p['id']}/dismiss")
    assert out["status"] == "dismissed"
    post(mission, "analyst", f"/duplicates/{p['id']}/dismiss", expect=409)
    # A new version of b, still matching: not proposed again.
    b2 = b | {"title": "Shots at the market (update)"}
    push(mission, "patrol_b", b2, parents=[version_entry(b, mission.device_id("patrol_b"))["version_id"]])
    assert get(mission, "analyst", "/duplicates")["items"] == []
    assert get(mission, "analyst", "/duplicates", status="dismissed")["total"] == 1
    assert "duplicate_dismissed" in audit_actions(mission)
    assert [c["payload"]["action"] for c in incident_changes(mission)] == ["dismissed"]


def test_confirm_consolidates_and_unmerge_restores_sources_exactly(mission: Mission):
    a, b, p = pair(mission, casualties={"killed": 2, "injured": 3, "abducted": 0, "displaced": 40})
    before = {rid: get(mission, "analyst", f"/reports/{rid}") for rid in (a["id"], b["id"])}
    inc = post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=201,
               json={"overrides": {"title": {"value": "Market shooting"}}})
    assert inc["status"] == "active"
    assert {s["id"] for s in inc["sources"]} == {a["id"], b["id"]}
    c = inc["consolidated"]
    assert "casualties.injured" in c["agreed"] and "casualties.killed" in c["disagreeing"]
    assert c["facts"]["casualties.killed"]["by_source"] == {a["id"]: 1, b["id"]: 2}
    assert c["values"]["casualties.killed"] == 2 and c["values"]["title"] == "Market shooting"
    assert get(mission, "analyst", f"/reports/{a['id']}")["incident_id"] == inc["id"]
    assert get(mission, "analyst", "/duplicates")["items"] == []
    post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=409)
    assert get(mission, "analyst", f"/incidents/{inc['id']}")["id"] == inc["id"]

    undone = post(mission, "analyst", f"/incidents/{inc['id']}/unmerge")
    assert undone["status"] == "unmerged"
    post(mission, "analyst", f"/incidents/{inc['id']}/unmerge", expect=409)
    for rid, was in before.items():
        now = get(mission, "analyst", f"/reports/{rid}")
        assert now["incident_id"] is None
        assert now["current"] == was["current"] and now["version_id"] == was["version_id"]
        assert now["heads"] == was["heads"]
    [again] = get(mission, "analyst", "/duplicates")["items"]
    assert again["id"] == p["id"] and again["status"] == "proposed" and again["incident_id"] is None
    assert [c["payload"]["action"] for c in incident_changes(mission)] == ["confirmed", "unmerged"]
    assert {"duplicate_confirmed", "incident_unmerged"} <= set(audit_actions(mission))


def test_overrides_are_checked_and_replaceable(mission: Mission):
    a, b, p = pair(mission)
    bad = post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=422,
               json={"overrides": {"severity": {"value": -2}}})
    assert bad["field"] == "overrides.severity"
    inc = post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=201)
    r = mission.client.put(f"/api/v1/incidents/{inc['id']}/overrides", headers=mission.headers("analyst"),
                           json={"overrides": {"casualties.killed": {"from": b["id"]}}})
    assert r.status_code == 200, r.text
    facts = r.json()["consolidated"]["facts"]
    assert facts["casualties.killed"]["override"] == {"from": b["id"]}
    r = mission.client.put(f"/api/v1/incidents/{inc['id']}/overrides", headers=mission.headers("analyst"),
                           json={"overrides": {"colour": {"value": "red"}}})
    assert r.status_code == 422 and r.json()["field"] == "overrides.colour"


def test_new_version_that_no_longer_matches_withdraws_the_proposal(mission: Mission):
    a, b, p = pair(mission)
    moved = b | {"location": b["location"] | {"lat": b["location"]["lat"] + 0.5}}
    push(mission, "patrol_b", moved, parents=[version_entry(b, mission.device_id("patrol_b"))["version_id"]])
    assert get(mission, "analyst", "/duplicates")["items"] == []
    assert get(mission, "analyst", "/duplicates", status="withdrawn")["items"][0]["id"] == p["id"]
    # Moved back: the same pair is proposed again.
    v2 = version_entry(moved, mission.device_id("patrol_b"), [version_entry(b, mission.device_id("patrol_b"))["version_id"]])
    push(mission, "patrol_b", b | {"title": "back"}, parents=[v2["version_id"]])
    assert [i["id"] for i in get(mission, "analyst", "/duplicates")["items"]] == [p["id"]]


def test_restricted_source_is_shown_only_to_those_allowed(mission: Mission):
    a = report_body(event_time=WHEN)
    secret = near(300, 10, kind="incident", category="conflict_related_sexual_violence", confidentiality="restricted",
                  casualties={"killed": 2, "injured": 3, "abducted": 0, "displaced": 40},
                  title="Armed men fired on the market, SECRET survivor account",
                  description="Around 20 armed men entered the market and fired shots. SECRET details.")
    push(mission, "patrol_a", a)
    push(mission, "patrol_b", secret)
    assert get(mission, "analyst", "/duplicates")["items"] == []  # the analyst may not read the restricted one
    [p] = get(mission, "protection", "/duplicates")["items"]
    assert p["reasons"]["category"] == "related"
    post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=404)
    inc = post(mission, "protection", f"/duplicates/{p['id']}/confirm", expect=201)
    assert {s["id"] for s in inc["sources"]} == {a["id"], secret["id"]}

    seen = get(mission, "analyst", f"/incidents/{inc['id']}")
    assert [s["id"] for s in seen["sources"]] == [a["id"]]
    assert "SECRET" not in str(seen) and secret["id"] not in str(seen)
    assert seen["consolidated"]["values"]["casualties.killed"] == 1  # the hidden source said 2
    post(mission, "analyst", f"/incidents/{inc['id']}/unmerge", expect=403)
    # The feed change names no report and reaches the analyst (who may read one source).
    [change] = incident_changes(mission)
    assert change["confidentiality"] == "mission" and secret["id"] not in str(change["payload"])
    # A patrol may not read incidents at all.
    get(mission, "patrol_a", f"/incidents/{inc['id']}", expect=403)
    post(mission, "protection", f"/incidents/{inc['id']}/unmerge")


def test_unknown_ids_are_not_found(mission: Mission):
    assert get(mission, "analyst", "/incidents/nope", expect=404)["error"] == "not_found"
    assert post(mission, "analyst", "/duplicates/999/confirm", expect=404)["error"] == "not_found"
    assert post(mission, "analyst", "/duplicates/999/dismiss", expect=404)["error"] == "not_found"


def test_proposals_persist_one_row_per_pair(mission: Mission):
    a, b, p = pair(mission)
    push(mission, "patrol_b", b | {"title": "edited"}, parents=[version_entry(b, mission.device_id("patrol_b"))["version_id"]])
    with mission.engine.connect() as conn:
        rows = conn.execute(select(duplicate_proposals)).mappings().all()
    assert len(rows) == 1 and rows[0]["status"] == "proposed"
    assert (rows[0]["report_a"], rows[0]["report_b"]) == tuple(sorted((a["id"], b["id"])))


def test_unmerge_by_confirmed_proposal_as_the_dashboard_does(mission: Mission):
    from peacewatch.server.auth.service import authenticate
    from peacewatch.server.db.engine import WRITE
    from peacewatch.server.duplicates import service

    a, b, p = pair(mission)
    inc = post(mission, "analyst", f"/duplicates/{p['id']}/confirm", expect=201)
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        me = authenticate(conn, authorization=f"Bearer {mission.tokens['analyst']}", device_credential=None)
        listed = service.list_proposals(conn, me, status="confirmed")["items"]
        assert [(x["report_a"], x["report_b"]) for x in listed] == [tuple(sorted((a["id"], b["id"])))]
        out = service.unmerge(conn, me, proposal_id=p["id"])
    assert out["id"] == inc["id"] and out["status"] == "unmerged"
    assert get(mission, "analyst", f"/reports/{a['id']}")["incident_id"] is None


def test_proposal_names_what_argues_for_and_against(mission: Mission):
    _a, _b, p = pair(mission, casualties={"killed": 9, "injured": 3, "abducted": 0, "displaced": 40})
    assert p["reasons"]["casualties"] == "differ"
    assert "casualty counts differ" in p["reasons_against"]
    assert "reported by different contingents (BRAVO, ALPHA)" in p["reasons_for"]
    assert "same category (attack_on_civilians)" in p["reasons_for"]
    assert p["explanations"] == p["reasons_for"] + p["reasons_against"]
    assert get(mission, "analyst", f"/duplicates/{p['id']}")["reasons_against"] == p["reasons_against"]


def test_a_second_attack_hours_later_nearby_is_not_proposed_even_with_the_same_title(mission: Mission):
    # The hard negative: same category, same title and counts, 1.5 km and 5 h from the first.
    push(mission, "patrol_a", report_body(event_time=WHEN))
    push(mission, "patrol_b", near(1500, 300))
    assert get(mission, "analyst", "/duplicates")["total"] == 0
    # The same second report 600 m and 40 min away is the same event reported twice.
    push(mission, "patrol_b", near(600, 40))
    assert get(mission, "analyst", "/duplicates")["total"] == 1


def _pair_at(mission: Mission, day: int, gap_min: int, **b_extra: Any) -> dict[str, Any]:
    """ALPHA and BRAVO report one place (its own per ``day``) ``gap_min`` apart; the pair's proposal."""
    lat, when = 1.0 + 0.2 * day, WHEN + timedelta(days=day)
    a = report_body(lat=lat, event_time=when)
    b = report_body(contingent="BRAVO", author="patrol_b", lat=lat + 0.0009, event_time=when + timedelta(minutes=gap_min),
                    **b_extra)
    push(mission, "patrol_a", a)
    push(mission, "patrol_b", b)
    [p] = [p for p in get(mission, "protection", "/duplicates")["items"] if {r["id"] for r in p["reports"]} == {a["id"], b["id"]}]
    return p


def test_proposal_quotes_what_analysts_decided_about_pairs_like_it_and_only_those_the_reader_may_see(mission: Mission):
    # Three attacks each reported twice 2 h 30 min apart, dismissed by the protection team as different
    # events; one source of each is restricted, so the HQ analyst cannot read those pairs.
    for day in range(3):
        p = _pair_at(mission, day, 150, confidentiality="restricted")
        post(mission, "protection", f"/duplicates/{p['id']}/dismiss")
    fresh = _pair_at(mission, 5, 120)
    assert fresh["history"] == {"decided": 3, "different": 3}
    assert ("at least 2 h 00 min apart: analysts found 3 of 3 such attack_on_civilians pairs in this mission to be "
            "different events") in fresh["reasons_against"]
    assert get(mission, "protection", f"/duplicates/{fresh['id']}")["history"] == fresh["history"]
    # The analyst may read the fresh pair but none of the decided ones: no history, nothing about them.
    [seen] = get(mission, "analyst", "/duplicates")["items"]
    assert seen["id"] == fresh["id"] and seen["history"] is None
    assert not any("analysts" in r for r in seen["explanations"])
    # A pair closer in time than an hour is not in doubt: no history quoted.
    assert _pair_at(mission, 7, 30)["history"] is None
