"""End-to-end proof: three tablets sync with the real server through a link that keeps failing.

The real mission server runs under uvicorn on 127.0.0.1; three tablets, each with the real
encrypted store and the real sync client (``requests``), reach it only through
:class:`LossyProxy`, which refuses 20 % of connections, cuts every connection after 0.2-3 s and
drops some answers after the server has committed the request. Two tablets edit the same
report offline. Afterwards:

* the server holds every version exactly once (row counts and the set of ids, versions and feed);
* every attachment reads back byte-identical;
* the two offline edits are kept as a conflict, listed by ``/conflicts`` and visible on both tablets;
* every tablet holds exactly the versions its user may see (computed here from the access policy,
  independently of the server), each once, and nothing of what it may not see;
* the proxy really did refuse, cut and stall connections (else the test proves nothing).

The full size (2,000 reports with edits, 30 attachments of 1-5 MB) is ``slow``; a small size runs
with the fast suite, once against the server in a thread and once against ``peacewatch server
--workers 2`` (two processes sharing the database: the feed's order and every guarantee must hold
across them). Both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from e2e.live_server import live_server
from e2e.lossy_proxy import LossyProxy
from e2e.tablets import Tablet, enrolled_tablets
from fastapi.testclient import TestClient
from reliability.server_process import ServerProcess
from sqlalchemy import Engine, func, select

from factories import Mission, build_mission, report_body
from peacewatch.mobile.core.sync_client import SyncClient, SyncProgress
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.tables import attachments, changes, versions

# username -> contingent of the three tablets
TABLETS = {"patrol_a": "ALPHA", "commander_a": "ALPHA", "patrol_b": "BRAVO"}
MB = 1024 * 1024


@dataclass(frozen=True)
class Size:
    reports: int
    edit_share: float
    attachments: int
    attachment_bytes: tuple[int, int]
    max_rounds: int


SMALL = Size(reports=90, edit_share=0.2, attachments=3, attachment_bytes=(300_000, 900_000), max_rounds=60)
FULL = Size(reports=2000, edit_share=0.15, attachments=30, attachment_bytes=(1 * MB, 5 * MB), max_rounds=400)


@dataclass
class Ledger:
    """What the test wrote, to check the outcome against without asking the server."""

    # version id -> (report contingent, confidentiality, report author, device username)
    versions: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # sha256 -> (content, uploader)
    conflict_report: str = ""

    def visible_to(self, username: str) -> set[str]:
        """Versions a tablet of ``username`` should have pulled: the access policy, minus its own."""
        mine = TABLETS[username]
        out = set()
        for vid, (contingent, level, author, device_user) in self.versions.items():
            if device_user == username:
                continue
            may = (level == "public" or (level == "mission" and contingent == mine)
                   or (level == "restricted" and author == username))
            if may:
                out.add(vid)
        return out


@pytest.fixture
def mission(settings: Settings, engine: Engine) -> Iterator[Mission]:
    with TestClient(create_app(settings, engine)) as c:
        yield build_mission(c, engine, enrol_for=tuple(TABLETS))


@pytest.fixture
def tablets(tmp_path: Path, mission: Mission) -> Iterator[dict[str, Tablet]]:
    out = enrolled_tablets(tmp_path, mission.devices, TABLETS)
    yield out
    for t in out.values():
        t.close()


def file_reports(tablet: Tablet, ledger: Ledger, rng: random.Random, count: int, edit_share: float,
                 files: list[bytes]) -> list[str]:
    """File ``count`` reports on ``tablet`` (some edited, some with a file attached); return their ids."""
    contingent = TABLETS[tablet.username]
    ids = []
    for i in range(count):
        level = rng.choices(["public", "mission", "restricted"], weights=[3, 6, 1])[0]
        extra = {}
        if files and i % max(1, count // (len(files) + 1)) == 0:
            data = files.pop()
            ref = tablet.attach(data, f"photo-{len(ledger.files)}.jpg")
            ledger.files[ref.sha256] = (data, tablet.username)
            extra["attachments"] = [ref.as_body()]
        body = report_body(contingent=contingent, author=tablet.username, confidentiality=level,
                           title=f"{tablet.username} report {i}", lat=1.5 + rng.random(), lon=30 + rng.random(),
                           description="x" * rng.randint(200, 900), **extra)
        vid = tablet.file(body)
        ledger.versions[vid] = (contingent, level, tablet.username, tablet.username)
        ids.append(body["id"])
        if rng.random() < edit_share:
            edited = tablet.edit(body["id"], title=f"{tablet.username} report {i} (corrected)")
            ledger.versions[edited] = (contingent, level, tablet.username, tablet.username)
    return ids


def sync_until_quiet(clients: dict[str, SyncClient], max_rounds: int) -> int:
    """Run every client until each finished a run with nothing waiting; bounded by ``max_rounds``."""
    quiet: set[str] = set()
    for round_no in range(max_rounds):
        for name, client in clients.items():
            if name in quiet:
                continue
            p: SyncProgress = client.run()
            assert p.state in ("done", "offline"), (name, p.state, p.last_error)
            if p.state == "done" and p.versions_waiting == 0 and p.attachments_waiting == 0 and not p.rejections:
                quiet.add(name)
        if len(quiet) == len(clients):
            return round_no + 1
    pytest.fail(f"not synced after {max_rounds} rounds: {[(n, c.progress) for n, c in clients.items()]}")


def run_lossy_sync(size: Size, mission: Mission, tablets: dict[str, Tablet], engine: Engine,
                   server: tuple[str, int], seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger()
    blobs = [rng.randbytes(rng.randint(*size.attachment_bytes)) for _ in range(size.attachments)]
    per_tablet = [blobs[i::3] for i in range(3)]
    shares = [size.reports * 35 // 100, size.reports * 33 // 100]
    shares.append(size.reports - sum(shares))
    names = list(TABLETS)
    first_wave = {n: (shares[i] * 6 // 10, shares[i] - shares[i] * 6 // 10) for i, n in enumerate(names)}

    # The report both ALPHA tablets will edit offline.
    a1, a2 = tablets["patrol_a"], tablets["commander_a"]
    shared = report_body(contingent="ALPHA", author="patrol_a", confidentiality="mission", title="shared report")
    ledger.versions[a1.file(shared)] = ("ALPHA", "mission", "patrol_a", "patrol_a")
    ledger.conflict_report = shared["id"]

    for i, name in enumerate(names):
        file_reports(tablets[name], ledger, rng, first_wave[name][0], size.edit_share,
                     per_tablet[i][: len(per_tablet[i]) // 2])

    with LossyProxy(server, seed=seed, every_fault_early=True) as proxy:
        sessions = {n: requests.Session() for n in names}
        clients = {n: tablets[n].client(sessions[n], proxy.url, backoff_base=0.02, backoff_cap=0.3,
                                        max_failures=25, rng=random.Random(seed + i))
                   for i, n in enumerate(names)}
        sync_until_quiet(clients, size.max_rounds)
        assert a2.reports.get(shared["id"]).title == "shared report"  # pulled before editing offline

        # Wave 2, offline: the rest of the reports, and both ALPHA tablets edit the shared report.
        for i, name in enumerate(names):
            file_reports(tablets[name], ledger, rng, first_wave[name][1], size.edit_share,
                         per_tablet[i][len(per_tablet[i]) // 2:])
        for tablet, casualties in ((a1, 3), (a2, 5)):
            draft = tablet.reports.start_edit(shared["id"])
            fields = dict(draft.fields)
            fields["casualties"] = dict(fields["casualties"], killed=casualties)
            tablet.drafts.save_draft(shared["id"], draft.kind, fields)
            result = tablet.reports.finalise(shared["id"])
            assert result.version_id is not None
            ledger.versions[result.version_id] = ("ALPHA", "mission", "patrol_a", tablet.username)

        sync_until_quiet(clients, size.max_rounds)
        # A last round so every tablet pulls what the others pushed after its own last pull.
        for c in clients.values():
            c.run()
        sync_until_quiet(clients, size.max_rounds)
        for s in sessions.values():
            s.close()
        stats = proxy.stats

    # The link really was bad.
    assert stats.refused > 0 and stats.cut > 0 and stats.stalled > 0, stats

    # Server: every version exactly once, in the versions table and in the feed.
    with engine.connect() as conn:
        server_ids = list(conn.execute(select(versions.c.version_id)).scalars())
        feed_versions = conn.execute(select(func.count()).select_from(changes).where(changes.c.kind == "version")
                                     ).scalar_one()
        committed = conn.execute(select(func.count()).select_from(attachments)).scalar_one()
    assert len(server_ids) == len(set(server_ids)) == len(ledger.versions) == feed_versions
    assert set(server_ids) == set(ledger.versions)
    assert len(ledger.versions) > size.reports  # edits made versions outnumber reports

    # Attachments byte-identical.
    assert committed == len(ledger.files) == size.attachments
    client = mission.client
    for sha, (data, uploader) in ledger.files.items():
        got = client.get(f"/api/v1/attachments/{sha}", headers=mission.device_headers(uploader))
        assert got.status_code == 200, got.text
        assert got.content == data and hashlib.sha256(got.content).hexdigest() == sha

    # The conflict is kept and listed.
    listed = client.get("/api/v1/conflicts", headers=mission.headers("analyst"))
    assert listed.status_code == 200, listed.text
    items = {item["report_id"]: item for item in listed.json()["items"]}
    assert set(items) == {ledger.conflict_report}
    assert len(items[ledger.conflict_report]["heads"]) == 2
    killed = [f for f in items[ledger.conflict_report]["fields"] if f["field"] == "casualties.killed"]
    assert killed and sorted(killed[0]["values"].values()) == [3, 5]
    for tablet in (a1, a2):
        assert tablet.reports.in_conflict(ledger.conflict_report)

    # Every tablet pulled exactly what its user may see, each version once.
    for name, tablet in tablets.items():
        own = set(tablet.version_ids(origin="local"))
        remote = tablet.version_ids(origin="remote")
        assert len(remote) == len(set(remote))
        assert set(remote) == ledger.visible_to(name), name
        assert own == {v for v, meta in ledger.versions.items() if meta[3] == name}
        assert tablet.local.waiting().versions == 0 and tablet.local.pending_attachments() == []


@pytest.fixture
def server(settings: Settings, engine: Engine, mission: Mission) -> Iterator[tuple[str, int]]:
    with live_server(settings, engine) as address:
        yield address


@pytest.fixture
def two_workers(settings: Settings, mission: Mission) -> Iterator[tuple[str, int]]:
    """``peacewatch server --workers 2`` on the mission's database and data dir, as a process of its own."""
    srv = ServerProcess(settings.data_dir, settings.database_url, workers=2)
    srv.start(timeout=90)
    try:
        yield "127.0.0.1", srv.port
    finally:
        srv.stop()


def test_lossy_link_small(mission: Mission, tablets: dict[str, Tablet], engine: Engine,
                          server: tuple[str, int]) -> None:
    run_lossy_sync(SMALL, mission, tablets, engine, server, seed=11)


def test_lossy_link_small_with_two_server_processes(mission: Mission, tablets: dict[str, Tablet], engine: Engine,
                                                    two_workers: tuple[str, int]) -> None:
    run_lossy_sync(SMALL, mission, tablets, engine, two_workers, seed=12)


@pytest.mark.slow
def test_lossy_link_full(mission: Mission, tablets: dict[str, Tablet], engine: Engine,
                         server: tuple[str, int]) -> None:
    run_lossy_sync(FULL, mission, tablets, engine, server, seed=2026)
