"""Federation: a SQLite sector server replicates to the mission server (SQLite and PostgreSQL) through
a link that keeps failing, with the tablets' sync protocol.

Every version the sector holds for its contingent reaches the mission exactly once, with its
author and its id; a version for a contingent the sector does not serve is refused per version
and kept with the reason on the sector; a review made at the mission reaches the sector and the
sector's tablets; nothing that came down goes back up.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from e2e.live_server import live_server
from e2e.lossy_proxy import LossyProxy
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from factories import Mission, build_mission, report_body, store, version_entry
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.tables import changes, versions
from peacewatch.server.duplicates.backlog import PROPOSALS
from peacewatch.server.federation.cli import add_sector, run_federation
from peacewatch.server.federation.upstream import SectorStore
from peacewatch.server.feed_consumers import ensure_current
from tests.server.attachments.test_views import upload

SECTOR_DATA = "sector-data"


@pytest.fixture
def sector(tmp_path: Path, sqlite_template: Path) -> Iterator[Mission]:
    """The sector's own server: SQLite, its own users and tablets (the same names as the mission's)."""
    path = tmp_path / "sector.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(data_dir=tmp_path / SECTOR_DATA, database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url)
    with TestClient(create_app(settings, engine)) as c:
        yield build_mission(c, engine)
    engine.dispose()


def _ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(versions.c.version_id)).scalars())


def _federate(sector: Mission, url: str, credential: str, rounds: int, files: Path) -> None:
    run_federation(sector.engine, upstream=url, credential=credential, rounds=rounds, interval_s=0,
                   session=requests.Session(), backoff_base=0.02, backoff_cap=0.2, max_failures=40,
                   rng=random.Random(3), attachments_root=files, chunk_size=64 * 1024)


def test_a_sector_replicates_to_the_mission_over_a_bad_link(mission: Mission, sector: Mission, settings: Settings,
                                                            engine: Engine, tmp_path: Path) -> None:
    files = tmp_path / SECTOR_DATA / "attachments"
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        peer = add_sector(conn, name="sector-alpha", contingent_codes=["ALPHA"])
    # The sector's tablets report: ALPHA's (its own, one with a photo), an edit, a restricted case,
    # and one for BRAVO.
    photo = os.urandom(300_000)
    photo_sha = upload(sector, "patrol_a", photo)
    ours = [report_body(title=f"Sector report {i}", lat=1.5 + i / 100) for i in range(30)]
    ours[3]["attachments"] = [{"sha256": photo_sha, "size": len(photo), "media_type": "image/jpeg",
                               "name": "burnt-house.jpg"}]
    alpha_ids = [store(sector, "patrol_a", b) for b in ours]
    alpha_ids.append(store(sector, "patrol_a", ours[0] | {"title": "Sector report 0, corrected"}, [alpha_ids[0]]))
    case = report_body(kind="hr_concern", category="conflict_related_sexual_violence", confidentiality="restricted")
    alpha_ids.append(store(sector, "patrol_a", case))
    bravo = store(sector, "patrol_b", report_body(contingent="BRAVO", author="patrol_b", title="Bravo's own"))
    # Two tablets saw the same attack: the mission will merge them, and the sector must learn it.
    when = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    seen = [report_body(title="Shots at Kaya market", lat=1.62, lon=30.31, event_time=when),
            report_body(title="Shots at Kaya market", lat=1.6235, lon=30.31, event_time=when + timedelta(minutes=25),
                        author="commander_a")]
    alpha_ids += [store(sector, "patrol_a", seen[0]), store(sector, "commander_a", seen[1])]

    with live_server(settings, engine) as address, LossyProxy(address, seed=5, every_fault_early=True) as proxy:
        _federate(sector, proxy.url, peer["credential"], rounds=8, files=files)
        assert SectorStore(sector.engine).waiting().versions == 0
        stats = proxy.stats
    assert stats.refused > 0 and stats.cut > 0, stats

    # Exactly once at the mission: the sector's ALPHA versions, nothing else.
    at_mission = _ids(engine)
    assert len(at_mission) == len(set(at_mission)) == len(alpha_ids)
    assert set(at_mission) == set(alpha_ids)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(changes).where(changes.c.kind == "version")
                            ).scalar_one() == len(alpha_ids)
    refused = SectorStore(sector.engine).refused()
    assert set(refused) == {bravo} and "own contingent" in refused[bravo]
    # The mission reads them under its policy: the author kept; the restricted case with the protection team.
    hq = mission.headers("analyst")
    listed = {i["title"]: i for i in mission.client.get("/api/v1/reports?limit=500", headers=hq).json()["items"]}
    assert "Sector report 0, corrected" in listed and "Sector report 5" in listed
    one = mission.client.get(f"/api/v1/reports/{ours[5]['id']}", headers=hq).json()
    assert one["current"]["author"] == "patrol_a"
    assert mission.client.get(f"/api/v1/reports/{case['id']}", headers=hq).status_code == 404
    assert mission.client.get(f"/api/v1/reports/{case['id']}", headers=mission.headers("protection")).status_code == 200
    # The photo went up once, byte for byte, and HQ may open it through the report that names it.
    got = mission.client.get(f"/api/v1/attachments/{photo_sha}", headers=hq)
    assert got.status_code == 200 and got.content == photo
    assert SectorStore(sector.engine, files).pending_attachments() == []

    # A review at the mission comes down to the sector, and from there to its tablets; so does a merge.
    r = mission.client.post(f"/api/v1/reports/{ours[5]['id']}/review", headers=hq,
                            json={"status": "verified", "comment": "Confirmed by the JMAC"})
    assert r.status_code == 201, r.text
    # HQ and the sector's patrol edit one report, each unaware of the other: a conflict on both servers.
    hq_edit = ours[7] | {"title": "Sector report 7, HQ's reading"}
    pushed = mission.client.post("/api/v1/sync/push", headers=hq, json={"versions": [
        version_entry(hq_edit, "user:analyst", [alpha_ids[7]])]})
    assert pushed.json()["results"][0]["status"] == "stored", pushed.text
    alpha_ids.append(store(sector, "patrol_a", ours[7] | {"title": "Sector report 7, patrol's reading"},
                           [alpha_ids[7]]))
    ensure_current(engine, PROPOSALS)
    pair = {seen[0]["id"], seen[1]["id"]}
    proposal = next(p for p in mission.client.get("/api/v1/duplicates", headers=hq).json()["items"]
                    if {x["id"] for x in p["reports"]} == pair)
    merged = mission.client.post(f"/api/v1/duplicates/{proposal['id']}/confirm", headers=hq)
    assert merged.status_code == 201, merged.text
    incident_id = merged.json()["id"]
    with live_server(settings, engine) as address, LossyProxy(address, seed=6, every_fault_early=True) as proxy:
        _federate(sector, proxy.url, peer["credential"], rounds=3, files=files)
    pulled = sector.client.get("/api/v1/sync/pull", params={"since": 0, "limit": 1000},
                               headers=sector.device_headers("patrol_a")).json()["changes"]
    reviews = [c for c in pulled if c["kind"] == "review"]
    assert [(c["report_id"], c["status"], c["comment"], c["by"]) for c in reviews] == [
        (ours[5]["id"], "verified", "Confirmed by the JMAC", "analyst")]
    detail = sector.client.get(f"/api/v1/reports/{ours[5]['id']}", headers=sector.headers("commander_a")).json()
    assert detail["review_status"] == "verified"
    for server in (mission, sector):
        conflicts = server.client.get("/api/v1/conflicts", headers=server.headers("analyst")).json()["items"]
        heads = {c["report_id"]: {h["body"]["title"] for h in c["heads"]} for c in conflicts}
        assert heads[ours[7]["id"]] == {"Sector report 7, HQ's reading", "Sector report 7, patrol's reading"}
    hq_head = next(h for h in next(c for c in mission.client.get("/api/v1/conflicts", headers=hq).json()["items"]
                                   if c["report_id"] == ours[7]["id"])["heads"] if "HQ" in h["body"]["title"])
    assert hq_head["body"]["author"] == "patrol_a"  # HQ's edit keeps the sector patrol as the author
    incident = sector.client.get(f"/api/v1/incidents/{incident_id}", headers=sector.headers("analyst"))
    assert incident.status_code == 200, incident.text
    assert {x["id"] for x in incident.json()["sources"]} == pair
    # Nothing came back up twice, and nothing that came down went up.
    assert sorted(_ids(engine)) == sorted([*alpha_ids, pushed.json()["results"][0]["version_id"]])
    assert SectorStore(sector.engine).waiting().versions == 0


def test_a_sector_may_not_push_for_a_contingent_it_does_not_serve_or_name_no_device(
        mission: Mission, engine: Engine) -> None:
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        peer = add_sector(conn, name="sector-bravo", contingent_codes=["BRAVO"])
    headers = {"Authorization": f"Device {peer['credential']}"}
    alpha = report_body(contingent="ALPHA", author="patrol_a")
    entry = version_entry(alpha, "tablet-1") | {"device_id": "tablet-1"}
    no_device = version_entry(report_body(contingent="BRAVO", author="patrol_b"), peer["device_id"])
    r = mission.client.post("/api/v1/sync/push", headers=headers, json={"versions": [entry, no_device]})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "rejected" and first["field"] == "body.contingent"
    # A sector relays its tablets' versions: one that does not name the device it was made on is refused.
    assert second["status"] == "rejected" and second["field"] == "device_id"
    # What the sector reads: BRAVO's reports and public ones, never ALPHA's mission reports.
    store(mission, "patrol_a", report_body(title="Alpha mission report"))
    page = mission.client.get("/api/v1/sync/pull", params={"since": 0}, headers=headers).json()["changes"]
    assert "Alpha mission report" not in str(page)
