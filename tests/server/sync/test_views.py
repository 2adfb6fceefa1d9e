"""Sync protocol v1 through HTTP: push idempotency and ordering, pull paging, filtering and redaction, auth."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from factories import Mission, report_body, version_entry
from peacewatch.server import feed
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.tables import versions
from peacewatch.server.duplicates import backlog
from peacewatch.server.sync import service as sync_service

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def push(mission: Mission, user: str, entries: list[dict[str, Any]], *, status: int = 200) -> dict[str, Any]:
    r = mission.client.post(PUSH, json={"versions": entries}, headers=mission.device_headers(user))
    assert r.status_code == status, r.text
    return r.json()


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


def chain(mission: Mission, user: str, n: int, **body: Any) -> list[dict[str, Any]]:
    """``n`` versions of one report, each the child of the one before, made on ``user``'s device."""
    device = mission.device_id(user)
    b = report_body(**body)
    out = [version_entry(b, device)]
    for i in range(1, n):
        b = b | {"casualties": b["casualties"] | {"injured": i + 10}}
        out.append(version_entry(b, device, [out[-1]["version_id"]]))
    return out


def stored_count(mission: Mission, report_id: str) -> int:
    with mission.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(versions).where(versions.c.report_id == report_id)
                            ).scalar_one()


def pull_all(mission: Mission, headers: dict[str, str], *, since: int = 0, limit: int = 1000) -> tuple[list[dict], int]:
    """Every page after ``since``; bounded loop."""
    got: list[dict[str, Any]] = []
    for _ in range(1000):
        r = mission.client.get(PULL, params={"since": since, "limit": limit}, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        got += page["changes"]
        assert page["next"] >= since
        since = page["next"]
        if not page["more"]:
            return got, since
    raise AssertionError("pull did not finish")


# ------------------------------------------------------------------ push


def test_same_batch_twice_stores_once(mission: Mission) -> None:
    entries = chain(mission, "patrol_a", 3) + chain(mission, "patrol_a", 1)
    first = push(mission, "patrol_a", entries)
    assert statuses(first) == ["stored"] * 4
    assert all(r["retryable"] is False for r in first["results"])
    again = push(mission, "patrol_a", entries)
    assert statuses(again) == ["duplicate"] * 4
    assert again["last_seq"] == first["last_seq"]  # nothing new in the feed
    assert stored_count(mission, entries[0]["report_id"]) == 3


def test_batch_is_stored_parents_first_whatever_the_order(mission: Mission) -> None:
    entries = chain(mission, "patrol_a", 4)
    answer = push(mission, "patrol_a", list(reversed(entries)))
    assert statuses(answer) == ["stored"] * 4
    # Results come back in input order; sequence numbers follow the DAG, parents first.
    seqs = {r["version_id"]: r["seq"] for r in answer["results"]}
    assert [seqs[e["version_id"]] for e in entries] == sorted(seqs.values())
    assert [r["version_id"] for r in answer["results"]] == [e["version_id"] for e in reversed(entries)]


def test_child_before_parent_across_batches_is_missing_parent_then_stored(mission: Mission) -> None:
    parent, child = chain(mission, "patrol_a", 2)
    answer = push(mission, "patrol_a", [child])
    (result,) = answer["results"]
    assert result["status"] == "rejected"
    assert result["code"] == "missing_parent" and result["retryable"] is True and result["field"] == "parents"
    assert statuses(push(mission, "patrol_a", [parent])) == ["stored"]
    assert statuses(push(mission, "patrol_a", [child])) == ["stored"]
    assert stored_count(mission, parent["report_id"]) == 2


def test_batch_cut_in_the_middle_then_resent_whole_stores_each_once(mission: Mission) -> None:
    entries = chain(mission, "patrol_a", 4) + chain(mission, "patrol_a", 2)
    # The link dropped after the server committed the first half: the client never saw the answer.
    push(mission, "patrol_a", entries[:3])
    answer = push(mission, "patrol_a", entries)
    assert statuses(answer) == ["duplicate"] * 3 + ["stored"] * 3
    assert stored_count(mission, entries[0]["report_id"]) == 4
    assert stored_count(mission, entries[4]["report_id"]) == 2
    everything, _ = pull_all(mission, mission.headers("analyst"))
    ids = [c["version_id"] for c in everything if c["kind"] == "version"]
    assert sorted(ids) == sorted(e["version_id"] for e in entries) and len(set(ids)) == len(ids)


def test_rejections_name_the_field_and_are_not_retryable(mission: Mission) -> None:
    device = mission.device_id("patrol_a")
    bad_body = report_body()
    bad_body["location"] = {"lat": 123.0, "lon": 30.0, "precision_m": 10, "source": "gps"}
    forged = version_entry(report_body(), device) | {"version_id": "0" * 64}
    other = version_entry(report_body(contingent="BRAVO"), device)
    answer = push(mission, "patrol_a", [version_entry(bad_body, device), forged, other])
    codes = [(r["status"], r["code"], r["field"], r["retryable"]) for r in answer["results"]]
    assert codes[0][:2] == ("rejected", "invalid_report") and codes[0][2].startswith("body.location")
    assert codes[1] == ("rejected", "version_id_mismatch", "version_id", False)
    assert codes[2] == ("rejected", "forbidden", "body.contingent", False)
    assert all(r["reason"] for r in answer["results"])
    # A version made for another device is refused by name.
    entry = version_entry(report_body(), mission.device_id("patrol_b")) | {"device_id": mission.device_id("patrol_b")}
    (result,) = push(mission, "patrol_a", [entry])["results"]
    assert (result["status"], result["code"], result["field"]) == ("rejected", "device_mismatch", "device_id")
    ok = version_entry(report_body(), device)
    assert statuses(push(mission, "patrol_a", [ok | {"device_id": device}])) == ["stored"]


BAD_BATCHES: list[tuple[Any, str]] = [
    (lambda e: {"versions": [e] * 501}, "versions"),
    (lambda e: {"versions": [e | {"version_id": "XYZ"}]}, "versions.0.version_id"),
    (lambda e: {"versions": [e | {"parents": ["nope"]}]}, "versions.0.parents.0"),
    (lambda e: {"versions": [e | {"device_time": "2026-11-24T15:31:02"}]}, "versions.0.device_time"),
    (lambda e: {"versions": [e | {"extra": 1}]}, "versions.0.extra"),
    (lambda e: {"version": [e]}, "versions"),
]


def test_bad_batches_are_refused_whole_with_the_field_named(mission: Mission) -> None:
    entry = version_entry(report_body(), mission.device_id("patrol_a"))
    for mutate, field in BAD_BATCHES:
        r = mission.client.post(PUSH, json=mutate(entry), headers=mission.device_headers("patrol_a"))
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid_input" and r.json()["field"] == field, r.text
    assert stored_count(mission, entry["report_id"]) == 0
    # 500 is allowed.
    assert len(push(mission, "patrol_a", [entry] * 500)["results"]) == 500


def test_gzip_body_is_accepted_and_push_touches_the_device(mission: Mission) -> None:
    def last_seen() -> str | None:
        r = mission.client.get("/api/v1/admin/devices", headers=mission.headers("admin"))
        return next(d["last_seen_at"] for d in r.json() if d["id"] == mission.device_id("patrol_a"))

    assert last_seen() is None
    entries = chain(mission, "patrol_a", 2)
    raw = gzip.compress(json.dumps({"versions": entries}).encode())
    headers = mission.device_headers("patrol_a") | {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    r = mission.client.post(PUSH, content=raw, headers=headers)
    assert r.status_code == 200, r.text
    assert statuses(r.json()) == ["stored", "stored"]
    assert last_seen() is not None


def test_oversized_body_is_413_and_stores_nothing(mission: Mission) -> None:
    body = report_body(description="x" * (9 * 1024 * 1024))
    entry = version_entry(body, mission.device_id("patrol_a"))
    r = mission.client.post(PUSH, json={"versions": [entry]}, headers=mission.device_headers("patrol_a"))
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    assert stored_count(mission, entry["report_id"]) == 0


def test_revoked_device_can_neither_push_nor_pull(mission: Mission) -> None:
    r = mission.client.post(f"/api/v1/admin/devices/{mission.device_id('patrol_a')}/revoke",
                            headers=mission.headers("admin"))
    assert r.status_code == 204, r.text
    entry = chain(mission, "patrol_a", 1)
    r = mission.client.post(PUSH, json={"versions": entry}, headers=mission.device_headers("patrol_a"))
    assert r.status_code == 401 and r.json()["error"] == "device_revoked"
    r = mission.client.get(PULL, headers=mission.device_headers("patrol_a"))
    assert r.status_code == 401 and r.json()["error"] == "device_revoked"
    assert stored_count(mission, entry[0]["report_id"]) == 0
    # Administrators neither push nor pull; nobody does anonymously.
    assert mission.client.post(PUSH, json={"versions": []}, headers=mission.headers("admin")).status_code == 403
    assert mission.client.get(PULL, headers=mission.headers("admin")).status_code == 403
    assert mission.client.get(PULL).status_code == 401


def test_duplicate_proposals_follow_the_push_and_a_failure_cannot_lose_it(
        mission: Mission, monkeypatch: pytest.MonkeyPatch) -> None:
    mission.client.app.state.proposal_worker.stop()  # this test decides when proposals are caught up
    mission.client.app.state.proposal_worker = None
    calls: list[list[str]] = []
    real = backlog.find_proposals

    def find_proposals(conn: Any, report_ids: list[str]) -> Any:
        calls.append(list(report_ids))
        if len(calls) == 1:
            raise RuntimeError("duplicate engine bug")
        return real(conn, report_ids)

    monkeypatch.setattr(backlog, "find_proposals", find_proposals)
    first, second = chain(mission, "patrol_a", 3), chain(mission, "patrol_a", 1)
    assert statuses(push(mission, "patrol_a", first + second)) == ["stored"] * 4
    assert calls == []  # a push stores; proposals are not its work
    listing = mission.client.get("/api/v1/duplicates", headers=mission.headers("analyst"))
    # The reader caught up first: one call naming each report with new versions once. It raised:
    # logged, the list is served as it stands, and the reports are stored all the same.
    assert listing.status_code == 200
    assert calls == [[first[0]["report_id"], second[0]["report_id"]]]
    assert stored_count(mission, second[0]["report_id"]) == 1
    with mission.engine.connect() as conn:
        assert backlog.behind(conn)  # the failed chunk is still waiting, not skipped
    assert mission.client.get("/api/v1/duplicates", headers=mission.headers("analyst")).status_code == 200
    assert calls[1:] == [calls[0]]
    with mission.engine.connect() as conn:
        assert not backlog.behind(conn)
    assert statuses(push(mission, "patrol_a", first + second)) == ["duplicate"] * 4
    mission.client.get("/api/v1/duplicates", headers=mission.headers("analyst"))
    assert len(calls) == 2  # duplicates store nothing, so nothing is recomputed
    third = chain(mission, "patrol_a", 1)
    assert statuses(push(mission, "patrol_a", third)) == ["stored"]
    mission.client.get("/api/v1/duplicates", headers=mission.headers("analyst"))
    assert calls[2:] == [[third[0]["report_id"]]]


def test_device_clocks_three_days_off_change_nothing(mission: Mission) -> None:
    """Order is the server's: a version from a clock 3 days fast and one 3 days slow keep push order."""
    mission.enrol_device("commander_a")
    now = datetime.now(UTC)
    base = report_body()
    v1 = version_entry(base, mission.device_id("patrol_a")) | {"device_time": (now + timedelta(days=3)).isoformat()}
    push(mission, "patrol_a", [v1])
    fast = base | {"title": "edited on the fast tablet"}
    slow = base | {"title": "edited on the slow tablet"}
    v_fast = version_entry(fast, mission.device_id("patrol_a"), [v1["version_id"]]) | {
        "device_time": (now + timedelta(days=3)).isoformat()}
    v_slow = version_entry(slow, mission.device_id("commander_a"), [v1["version_id"]]) | {
        "device_time": (now - timedelta(days=3)).isoformat()}
    push(mission, "patrol_a", [v_fast])
    answer = push(mission, "commander_a", [v_slow])
    assert answer["results"][0]["in_conflict"] is True
    # The version received last is the current one, though its device clock is 6 days behind the other's.
    report = mission.client.get(f"/api/v1/reports/{base['id']}", headers=mission.headers("analyst")).json()
    assert report["current"]["title"] == "edited on the slow tablet"
    assert [h["version_id"] for h in report["heads"]] == [v_slow["version_id"], v_fast["version_id"]]
    changes, _ = pull_all(mission, mission.headers("analyst"))
    assert [c["version_id"] for c in changes if c["kind"] == "version"] == [
        v1["version_id"], v_fast["version_id"], v_slow["version_id"]]
    received = [datetime.fromisoformat(c["received_at"].replace("Z", "+00:00")) for c in changes]
    assert all(abs(t - now) < timedelta(minutes=5) for t in received)  # server time, not device time
    history = mission.client.get(f"/api/v1/reports/{base['id']}/versions", headers=mission.headers("analyst")).json()
    kept = {h["version_id"]: datetime.fromisoformat(h["device_time"].replace("Z", "+00:00")) for h in history}
    assert kept[v_slow["version_id"]] < now - timedelta(days=2)  # kept as reported, for the record


# ------------------------------------------------------------------ pull


def test_pull_pages_cover_every_change_exactly_once(mission: Mission) -> None:
    for _ in range(3):
        push(mission, "patrol_a", chain(mission, "patrol_a", 3))
        push(mission, "patrol_b", chain(mission, "patrol_b", 2, contingent="BRAVO", author="patrol_b"))
    rid = chain(mission, "patrol_a", 1)
    push(mission, "patrol_a", rid)
    report_id = rid[0]["report_id"]
    r = mission.client.post(f"/api/v1/reports/{report_id}/review", json={"status": "verified", "comment": "ok"},
                            headers=mission.headers("commander_a"))
    assert r.status_code == 201, r.text
    r = mission.client.post(f"/api/v1/reports/{report_id}/comments", json={"text": "seen"},
                            headers=mission.headers("analyst"))
    assert r.status_code == 201, r.text
    whole, end = pull_all(mission, mission.headers("analyst"))
    seqs = [c["seq"] for c in whole]
    assert len(seqs) == 3 * 5 + 1 + 2 and seqs == sorted(set(seqs))
    for limit in (1, 2, 7):
        paged, paged_end = pull_all(mission, mission.headers("analyst"), limit=limit)
        assert paged == whole and paged_end == end
    # Resuming from the middle yields exactly the rest.
    rest, _ = pull_all(mission, mission.headers("analyst"), since=seqs[9], limit=4)
    assert rest == whole[10:]
    # Nothing new: an empty page that keeps the cursor.
    r = mission.client.get(PULL, params={"since": end}, headers=mission.headers("analyst")).json()
    assert r == {"changes": [], "next": end, "more": False}
    kinds = {c["kind"] for c in whole}
    assert kinds == {"version", "review", "comment"}
    review = next(c for c in whole if c["kind"] == "review")
    assert review | {"at": None} == {"seq": review["seq"], "kind": "review", "report_id": report_id,
                                     "status": "verified", "comment": "ok", "by": "commander_a", "at": None}
    comment = next(c for c in whole if c["kind"] == "comment")
    assert (comment["text"], comment["by"]) == ("seen", "analyst")


def test_a_pull_page_examines_a_bounded_stretch_of_the_feed(mission: Mission) -> None:
    """Far behind, with a long stretch the caller may not see: short (empty) pages that still
    advance, each examining at most SCAN_PAGES pages' worth of the feed, and nothing missed."""
    for _ in range(5):
        push(mission, "patrol_b", chain(mission, "patrol_b", 4, contingent="BRAVO", author="patrol_b"))
    mine = chain(mission, "patrol_a", 1)
    push(mission, "patrol_a", mine)
    headers = mission.headers("commander_a")  # ALPHA: BRAVO's mission-level reports are not its to see
    first = mission.client.get(PULL, params={"since": 0, "limit": 2}, headers=headers).json()
    assert first == {"changes": [], "next": 2 * sync_service.SCAN_PAGES, "more": True}
    got, end = pull_all(mission, headers, limit=2)
    assert [c["version_id"] for c in got] == [mine[0]["version_id"]] and end == 21
    # A page with more visible changes than its limit ends at the last one it returns.
    page = mission.client.get(PULL, params={"since": 0, "limit": 3}, headers=mission.headers("analyst")).json()
    assert [c["seq"] for c in page["changes"]] == [1, 2, 3] and page["next"] == 3 and page["more"]


def test_pull_skips_own_device_versions_but_moves_past_them(mission: Mission) -> None:
    mine = chain(mission, "patrol_a", 2)
    push(mission, "patrol_a", mine)
    r = mission.client.post(f"/api/v1/reports/{mine[0]['report_id']}/review",
                            json={"status": "needs_information", "comment": "where exactly?"},
                            headers=mission.headers("commander_a"))
    assert r.status_code == 201
    got, end = pull_all(mission, mission.device_headers("patrol_a"), limit=1)
    # The review (and the author's task it made) only: the two own versions were examined and skipped.
    assert [c["kind"] for c in got] == ["review", "task"] and end == 4
    # Another contingent-mate's device does get the versions.
    mission.enrol_device("commander_a")
    theirs, _ = pull_all(mission, mission.device_headers("commander_a"))
    assert [c["version_id"] for c in theirs if c["kind"] == "version"] == [e["version_id"] for e in mine]
    v = theirs[0]
    assert v["author"] == "patrol_a" and v["device_id"] == mission.device_id("patrol_a") and v["parents"] == []
    assert v["body"] == mine[0]["body"]


def test_pull_follows_the_access_policy(mission: Mission) -> None:
    alpha = chain(mission, "patrol_a", 1)
    public_bravo = chain(mission, "patrol_b", 1, contingent="BRAVO", author="patrol_b", confidentiality="public")
    mission_bravo = chain(mission, "patrol_b", 1, contingent="BRAVO", author="patrol_b")
    push(mission, "patrol_a", alpha)
    push(mission, "patrol_b", public_bravo + mission_bravo)

    def versions_for(headers: dict[str, str]) -> set[str]:
        return {c["version_id"] for c in pull_all(mission, headers)[0] if c["kind"] == "version"}

    a, pb, mb = alpha[0]["version_id"], public_bravo[0]["version_id"], mission_bravo[0]["version_id"]
    assert versions_for(mission.headers("commander_a")) == {a, pb}
    assert versions_for(mission.headers("commander_b")) == {pb, mb}
    assert versions_for(mission.headers("analyst")) == {a, pb, mb}
    for params, field in [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"since": -1}, "since"),
                          ({"since": "x"}, "since")]:
        r = mission.client.get(PULL, params=params, headers=mission.headers("analyst"))
        assert r.status_code == 422 and r.json()["field"] == field, r.text


SECRET = "SECRET-ZX81-never-outside-the-protection-team"


def test_pull_never_returns_restricted_content_to_those_who_may_not_read_it(mission: Mission) -> None:
    device = mission.device_id("patrol_a")
    restricted = report_body(confidentiality="restricted", description=f"witness said {SECRET}")
    named = report_body(kind="hr_concern", category="arbitrary_detention", confidentiality="mission")
    # A mission report with a conflicting restricted head: the report stays with its contingent
    # (its mission heads), the restricted head is read under its own level (issue 16, item 4).
    before = report_body(title="first version")
    v_before = version_entry(before, device)
    v_left = version_entry(before | {"casualties": before["casualties"] | {"killed": 2}}, device,
                           [v_before["version_id"]])
    v_right = version_entry(before | {"confidentiality": "restricted", "description": f"restricted head {SECRET}"},
                            device, [v_before["version_id"]])
    # A report first filed restricted and later downgraded by its author: the downgraded version
    # is shared, the restricted one stays with the protection team and the author.
    was_restricted = report_body(confidentiality="restricted", description=f"first account {SECRET}")
    v_was = version_entry(was_restricted, device)
    downgraded = was_restricted | {"confidentiality": "mission", "description": "shareable account"}
    v_down = version_entry(downgraded, device, [v_was["version_id"]])
    answer = push(mission, "patrol_a", [version_entry(restricted, device), version_entry(named, device),
                                        v_before, v_left, v_right, v_was, v_down])
    assert statuses(answer) == ["stored"] * 7, answer
    r = mission.client.post(f"/api/v1/reports/{restricted['id']}/comments", json={"text": f"note {SECRET}"},
                            headers=mission.headers("protection"))
    assert r.status_code == 201, r.text
    for who, headers in [("patrol_b", mission.device_headers("patrol_b")),
                         ("commander_a", mission.headers("commander_a")),
                         ("commander_b", mission.headers("commander_b")),
                         ("analyst", mission.headers("analyst"))]:
        for limit in (1, 1000):
            since = 0
            for _ in range(100):
                r = mission.client.get(PULL, params={"since": since, "limit": limit}, headers=headers)
                assert r.status_code == 200
                assert SECRET not in r.text, who
                assert "Victim Secretname" not in r.text, who
                since = r.json()["next"]
                if not r.json()["more"]:
                    break
    # Commanders and analysts see the hr_concern itself, with the name redacted.
    seen, _ = pull_all(mission, mission.headers("commander_a"))
    hr = next(c for c in seen if c.get("report_id") == named["id"])
    assert hr["body"]["victims"][0]["name"] is None
    assert [c["version_id"] for c in seen if c.get("report_id") == was_restricted["id"]] == [v_down["version_id"]]
    assert [c["version_id"] for c in seen if c.get("report_id") == before["id"]] == [v_before["version_id"],
                                                                                   v_left["version_id"]]
    # The protection team and the author (signed in without the tablet) do read it: the test can fail.
    for who in ("protection", "patrol_a"):
        r = mission.client.get(PULL, params={"limit": 1000}, headers=mission.headers(who))
        assert SECRET in r.text, who
    assert "Victim Secretname" in mission.client.get(PULL, params={"limit": 1000},
                                                     headers=mission.headers("hr")).text


def test_pull_includes_reference_for_all_and_incidents_only_for_analysts(mission: Mission) -> None:
    r = mission.client.put("/api/v1/admin/reference/juba", headers=mission.headers("admin"), json={
        "kind": "place", "names": {"en": "Juba", "ar": "جوبا"}, "geometry": {"type": "Point", "coordinates": [31.6, 4.85]}})
    assert r.status_code == 201, r.text
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        feed.append(conn, kind="incident", ref="inc-1", payload={"incident_id": "inc-1", "status": "active"})
    patrol, _ = pull_all(mission, mission.device_headers("patrol_a"))
    assert [c["kind"] for c in patrol] == ["reference"]
    assert patrol[0]["item"] == {"id": "juba", "kind": "place", "names": {"en": "Juba", "ar": "جوبا"},
                                 "geometry": {"type": "Point", "coordinates": [31.6, 4.85]}, "properties": {},
                                 "deleted": False}
    commander, _ = pull_all(mission, mission.headers("commander_a"))
    assert [c["kind"] for c in commander] == ["reference"]
    analyst, _ = pull_all(mission, mission.headers("analyst"))
    assert [c["kind"] for c in analyst] == ["reference", "incident"]
    assert analyst[1]["incident_id"] == "inc-1" and analyst[1]["status"] == "active"


def test_pushed_reports_reach_duplicate_detection(mission: Mission) -> None:
    """The same event pushed by two contingents becomes a proposal, listed as soon as anyone asks."""
    a = report_body()
    b = report_body(contingent="BRAVO", author="patrol_b")
    push(mission, "patrol_a", [version_entry(a, mission.device_id("patrol_a"))])
    push(mission, "patrol_b", [version_entry(b, mission.device_id("patrol_b"))])
    listing = mission.client.get("/api/v1/duplicates", headers=mission.headers("analyst")).json()
    assert {frozenset((p["report_a"], p["report_b"])) for p in listing["items"]} == {frozenset((a["id"], b["id"]))}
