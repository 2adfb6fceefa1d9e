"""Tests for peacewatch.mobile.core.sync_client: the real store against the real server, in-process.

The server runs inside the test through Starlette's TestClient (an httpx client), handed to the
sync client in place of a ``requests.Session``. Link trouble is simulated by wrapping that
session (:class:`FlakySession`) so failures land exactly where a test wants them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from e2e.memory_store import MemoryStore
from e2e.tablets import PIN, Tablet
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from factories import Mission, build_mission, report_body
from peacewatch.common.sync_protocol import PushEntry
from peacewatch.common.versioning import version_id
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.enrolment import enrol
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.reference import Reference
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.sync_client import SyncClient
from peacewatch.mobile.core.sync_pacing import LinkTuner
from peacewatch.mobile.core.sync_progress import SyncProgress
from peacewatch.mobile.core.sync_store import LocalStore
from peacewatch.mobile.ui.session import Session
from peacewatch.server.db.tables import changes, reports, versions

BASE = "http://testserver"
# Client-side behaviour (backoff, link trouble, certificates) does not depend on the server's
# database; these tests run on SQLite only to keep the suite fast.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def mission(client: TestClient, engine: Engine) -> Mission:
    return build_mission(client, engine, enrol_for=("patrol_a", "commander_a", "patrol_b"))


def tablet(tmp_path: Path, mission: Mission, username: str) -> Tablet:
    device_id, credential = mission.devices[username]
    return Tablet(tmp_path / username, username=username, device_id=device_id, credential=credential)


@pytest.fixture
def alpha(tmp_path: Path, mission: Mission) -> Iterator[Tablet]:
    t = tablet(tmp_path, mission, "patrol_a")
    yield t
    t.close()


@pytest.fixture
def alpha2(tmp_path: Path, mission: Mission) -> Iterator[Tablet]:
    t = tablet(tmp_path, mission, "commander_a")
    yield t
    t.close()


class FlakySession(httpx.Client):
    """An httpx client that forwards to the TestClient; ``fail(method, path, n)`` decides per request
    whether the link drops before the request ("before"), after the server answered ("after"), or
    whether a canned response comes back instead."""

    def __init__(self, inner: TestClient, fail: Any = None) -> None:
        super().__init__()
        self.inner = inner
        self.fail = fail or (lambda method, path, n: None)
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        path = httpx.URL(str(url)).path
        self.calls.append((method, path))
        action = self.fail(method, path, len(self.calls))
        if action == "before":
            raise httpx.ConnectError("link down")
        if isinstance(action, httpx.Response):
            return action
        kwargs.pop("timeout", None)  # the in-process TestClient has no link to time out
        response = self.inner.request(method, url, **kwargs)
        if action == "after":  # the server committed; the answer is lost on the way back
            raise httpx.ReadError("link dropped during the answer")
        return response


def flaky(inner: TestClient, fail: Any = None) -> FlakySession:
    return FlakySession(inner, fail)


def count(engine: Engine, stmt: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def server_versions(engine: Engine) -> int:
    return count(engine, select(func.count()).select_from(versions))


def no_sleep(_: float) -> None:
    return None


# ----- push and pull ---------------------------------------------------------------------------
def test_push_then_pull_moves_every_version_once(client: TestClient, engine: Engine, alpha: Tablet,
                                                 alpha2: Tablet) -> None:
    bodies = [report_body(title=f"report {i}") for i in range(3)]
    own = [alpha.file(b) for b in bodies]
    own.append(alpha.edit(bodies[0]["id"], title="report 0, corrected"))
    seen: list[SyncProgress] = []
    result = alpha.client(client, BASE, on_progress=seen.append, sleep=no_sleep).run()
    assert result.state == "done", result.last_error
    assert result.versions_sent == 4 and result.versions_waiting == 0 and result.reports_waiting == 0
    assert result.last_success_at is not None and result.last_error is None
    assert server_versions(engine) == 4
    assert [p.state for p in seen][0] == "pushing" and seen[-1].state == "done"
    assert max(p.items_done for p in seen) == 4 and seen[-1].items_total == 4

    pulled = alpha2.client(client, BASE, sleep=no_sleep).run()
    assert pulled.state == "done"
    assert sorted(alpha2.version_ids(origin="remote")) == sorted(own)
    # The edit is the newest head on the other tablet too.
    assert alpha2.reports.get(bodies[0]["id"]).title == "report 0, corrected"

    again = alpha.client(client, BASE, sleep=no_sleep).run()
    assert again.versions_sent == 0 and again.state == "done"
    assert server_versions(engine) == 4
    # The pushing tablet's own versions are not echoed back to it.
    assert alpha.version_ids(origin="remote") == []


def test_the_store_applies_the_feed_as_the_server_words_it(client: TestClient, mission: Mission,
                                                             alpha: Tablet) -> None:
    """Reviews, comments, a web edit (no device) and a place reach the tablet with nothing renamed."""
    body = report_body(title="market attacked")
    first = alpha.file(body)
    assert alpha.client(client, BASE, sleep=no_sleep).run().state == "done"
    r = client.post(f"/api/v1/reports/{body['id']}/review", headers=mission.headers("analyst"),
                    json={"status": "verified", "comment": "confirmed by JMAC"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/reports/{body['id']}/comments", headers=mission.headers("commander_a"),
                    json={"text": "which market?"})
    assert r.status_code == 201, r.text
    edited = body | {"title": "market attacked, two injured"}
    web_edit = version_id(edited, [first], "user:analyst")  # a bearer client's device key
    r = client.post("/api/v1/sync/push", headers=mission.headers("analyst"), json={"versions": [
        {"report_id": body["id"], "version_id": web_edit, "parents": [first], "body": edited}]})
    assert r.json()["results"][0]["status"] == "stored", r.text
    r = client.put("/api/v1/admin/reference/juba", headers=mission.headers("admin"), json={
        "kind": "place", "names": {"en": "Juba", "ar": "جوبا"}, "geometry": {"type": "Point", "coordinates": [31.6, 4.85]}})
    assert r.status_code == 201, r.text

    result = alpha.client(client, BASE, sleep=no_sleep).run()
    assert result.state == "done", result.last_error
    [review] = alpha.reports.reviews(body["id"])
    assert (review["status"], review["by"], review["comment"]) == ("verified", "analyst", "confirmed by JMAC")
    [comment] = alpha.reports.comments(body["id"])
    assert (comment["by"], comment["text"]) == ("commander_a", "which market?") and comment["seq"] > review["seq"]
    [head] = alpha.reports.heads(body["id"])
    assert head.version_id == web_edit and head.device_id == "user:analyst"
    assert alpha.reports.get(body["id"]).title == "market attacked, two injured"
    [juba] = Reference(alpha.store).search("jub")
    assert (juba.place_id, juba.lat, juba.lon, juba.name("ar")) == ("juba", 4.85, 31.6, "جوبا")


def test_answer_lost_after_commit_is_resent_and_stored_once(client: TestClient, engine: Engine,
                                                            alpha: Tablet) -> None:
    for i in range(5):
        alpha.file(report_body(title=f"r{i}"))
    session = flaky(client, lambda m, p, n: "after" if p.endswith("/sync/push") and n == 1 else None)
    result = alpha.client(session, BASE, sleep=no_sleep, rng=random.Random(1)).run()
    assert result.state == "done", result.last_error
    assert result.failures == 1 and result.versions_waiting == 0
    assert server_versions(engine) == 5
    assert count(engine, select(func.count()).select_from(changes).where(changes.c.kind == "version")) == 5
    assert [c for c in session.calls if c[1].endswith("/sync/push")].__len__() >= 2


def test_rejection_is_recorded_with_its_reason_and_not_resent(client: TestClient, engine: Engine,
                                                              alpha: Tablet) -> None:
    good = report_body()
    bad = report_body(contingent="BRAVO", title="filed for another contingent")
    alpha.file(good)
    bad_vid = alpha.file(bad)
    result = alpha.client(client, BASE, sleep=no_sleep).run()
    assert result.state == "done"
    assert [(r.version_id, r.code, r.field) for r in result.rejections] == [(bad_vid, "forbidden", "body.contingent")]
    local = alpha.reports.versions(bad["id"])[0]
    assert local.state == "rejected" and "own contingent" in (local.reject_reason or "")
    assert alpha.reports.get(bad["id"]).status == "rejected"
    assert server_versions(engine) == 1
    session = flaky(client)
    alpha.client(session, BASE, sleep=no_sleep).run()
    assert not any(p.endswith("/sync/push") for _, p in session.calls)


def entry(body: dict[str, Any], parents: list[str], device: str) -> PushEntry:
    """A push entry built without validation, as a store could hold it (even a malformed one)."""
    return PushEntry.model_construct(report_id=body["id"], version_id=version_id(body, parents, device),
                                     parents=parents, body=body, device_id=device,
                                     device_time=datetime(2026, 11, 24, 15, 31, 2, tzinfo=UTC))


def test_missing_parent_is_held_pending_not_rejected(client: TestClient, mission: Mission) -> None:
    device = mission.device_id("patrol_a")
    ghost = "0" * 64  # a parent that never reached the server
    orphan = entry(report_body(), [ghost], device)
    fine = entry(report_body(), [], device)
    memory = MemoryStore([orphan, fine])
    result = SyncClient(client, BASE, mission.devices["patrol_a"][1], memory, sleep=no_sleep).run()
    assert result.state == "done"
    assert memory.sent == [fine.version_id]
    assert memory.rejected == {}
    assert result.versions_held == 1 and result.versions_waiting == 1


def test_malformed_entry_is_rejected_alone_and_the_rest_goes_through(client: TestClient, mission: Mission) -> None:
    device = mission.device_id("patrol_a")
    bad = entry(report_body(), ["not-a-hash"], device)
    good = entry(report_body(), [], device)
    memory = MemoryStore([bad, good])
    result = SyncClient(client, BASE, mission.devices["patrol_a"][1], memory, sleep=no_sleep).run()
    assert result.state == "done"
    assert memory.sent == [good.version_id]
    assert list(memory.rejected) == [bad.version_id] and "parents.0" in memory.rejected[bad.version_id]
    assert [(r.code, r.field) for r in result.rejections] == [("invalid_input", "parents.0")]


def test_revoked_device_stops_with_a_clear_state(client: TestClient, mission: Mission, alpha: Tablet) -> None:
    alpha.file(report_body())
    r = client.post(f"/api/v1/admin/devices/{alpha.device_id}/revoke", headers=mission.headers("admin"))
    assert r.status_code == 204
    session = flaky(client)
    sync = alpha.client(session, BASE, sleep=no_sleep)
    result = sync.run()
    assert result.state == "revoked"
    assert "revoked" in (result.last_error or "") and "1 report waiting" in (result.last_error or "")
    assert len(session.calls) == 1
    # Later runs do not even try.
    assert sync.run().state == "revoked" and len(session.calls) == 1
    assert alpha.reports.counts().waiting == 1


@SQLITE_ONLY
def test_link_failures_back_off_then_give_up_with_plain_words(client: TestClient, alpha: Tablet) -> None:
    for i in range(12):
        alpha.file(report_body(title=f"r{i}"))
    delays: list[float] = []
    session = flaky(client, lambda m, p, n: "before")
    tuner = LinkTuner(batch=8)
    result = alpha.client(session, BASE, sleep=delays.append, max_failures=5, tuner=tuner,
                          backoff_base=1.0, backoff_cap=4.0, rng=random.Random(7)).run()
    assert result.state == "offline"
    assert result.last_error == "no connection — 12 reports waiting"
    assert len(session.calls) == 5 and len(delays) == 4
    # Full jitter under an exponential ceiling: 1, 2, 4, 4 seconds.
    assert all(0 <= d <= c for d, c in zip(delays, [1, 2, 4, 4], strict=True))
    assert tuner.batch == 1  # halved on every failure


@SQLITE_ONLY
def test_intermittent_link_still_delivers_everything(client: TestClient, engine: Engine, alpha: Tablet) -> None:
    for i in range(40):
        alpha.file(report_body(title=f"r{i}"))
    rng = random.Random(3)
    session = flaky(client, lambda m, p, n: rng.choice(["before", "after", None, None]))
    sync = alpha.client(session, BASE, sleep=no_sleep, rng=random.Random(1), max_failures=50)
    for _ in range(20):
        if sync.run().state == "done":
            break
    assert sync.progress.state == "done"
    assert server_versions(engine) == 40
    assert alpha.reports.counts().waiting == 0


@SQLITE_ONLY
def test_busy_server_retry_after_is_respected(client: TestClient, alpha: Tablet) -> None:
    alpha.file(report_body())
    busy = httpx.Response(503, json={"error": "database_unavailable"}, headers={"Retry-After": "3"})
    delays: list[float] = []
    session = flaky(client, lambda m, p, n: busy if n == 1 else None)
    result = alpha.client(session, BASE, sleep=delays.append, backoff_base=0.1, backoff_cap=10).run()
    assert result.state == "done"
    assert delays == [3.0]


def test_pull_applies_pages_with_their_cursor(client: TestClient, engine: Engine, alpha: Tablet,
                                              alpha2: Tablet) -> None:
    for i in range(25):
        alpha.file(report_body(title=f"r{i}"))
    assert alpha.client(client, BASE, sleep=no_sleep).run().state == "done"
    tuner = LinkTuner(page=20, min_page=20, max_page=20)
    pages: list[int] = []
    result = alpha2.client(client, BASE, sleep=no_sleep, tuner=tuner,
                           on_progress=lambda p: pages.append(p.changes_pulled)).run()
    assert result.changes_pulled == 25 and len(alpha2.version_ids(origin="remote")) == 25
    assert 20 in pages  # the first page was applied (and reported) before the second was asked for
    cursor = alpha2.local.get_cursor()
    last = count(engine, select(func.max(changes.c.seq)))
    assert cursor == str(last)


# ----- attachments -----------------------------------------------------------------------------
def test_attachment_uploads_in_chunks_and_resumes(client: TestClient, mission: Mission, alpha: Tablet) -> None:
    data = random.Random(5).randbytes(700 * 1024)  # three chunks of 256 KiB, the last one short
    ref = alpha.attach(data, "photo.jpg")
    alpha.file(report_body(attachments=[ref.as_body()]))
    puts = 0

    def drop_second_chunk(method: str, path: str, n: int) -> str | None:
        nonlocal puts
        if method == "PUT":
            puts += 1
            if puts == 2:
                return "before"
        return None

    session = flaky(client, drop_second_chunk)
    result = alpha.client(session, BASE, sleep=no_sleep).run()
    assert result.state == "done", result.last_error
    assert result.attachments_waiting == 0 and result.bytes_done == len(data) == result.bytes_total
    chunk_puts = [p for m, p in session.calls if m == "PUT"]
    # 3 chunks + 1 lost attempt; after the drop only the chunks the server lacked were sent again.
    assert len(chunk_puts) == 4 and len(set(chunk_puts)) == 3
    got = client.get(f"/api/v1/attachments/{ref.sha256}", headers=mission.device_headers("patrol_a"))
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == ref.sha256
    assert alpha.local.pending_attachments() == []


@SQLITE_ONLY
def test_enrol_trades_a_code_for_a_credential(client: TestClient, mission: Mission) -> None:
    r = client.post("/api/v1/admin/devices/codes", json={"username": "patrol_b"}, headers=mission.headers("admin"))
    assert r.status_code == 201, r.text
    result = enrol(client, BASE, code=r.json()["code"], label="tablet 7")
    assert result.username == "patrol_b" and result.device_id and result.credential
    with pytest.raises(InvalidInput) as err:
        enrol(client, BASE, code=r.json()["code"])  # one-time
    assert err.value.field == "code"


def test_reports_finalised_before_enrolment_sync_after_it(client: TestClient, engine: Engine, mission: Mission,
                                                          tmp_path: Path) -> None:
    """A patrol files (and edits) reports on a fresh tablet, then enrols it: nothing is refused."""
    session = Session(tmp_path / "app")
    session.store = Store.create(session.store_path, PIN, kdf=TEST_KDF)
    tab = Tablet.__new__(Tablet)  # the helpers, over a store that was never given a device id
    tab.store, tab.drafts, tab.reports = session.store, Drafts(session.store), Reports(session.store)
    before = session.store.device_id
    bodies = [report_body(title=f"filed offline {i}") for i in range(3)]
    first = [tab.file(b) for b in bodies]
    tab.edit(bodies[0]["id"], title="filed offline 0, corrected")  # a child of an unsent version
    tab.reports.start_edit(bodies[1]["id"])  # an edit begun before enrolment, finalised after it
    r = client.post("/api/v1/admin/devices/codes", json={"username": "patrol_a"}, headers=mission.headers("admin"))
    result = enrol(client, BASE, code=r.json()["code"], label="tablet 9")
    session.enrolled(result, BASE)
    assert session.store.device_id == result.device_id != before
    local = LocalStore(session.store)
    assert not set(first) & {v.version_id for v in local.pending_versions(100)}  # every unsent id re-derived
    edited = tab.reports.finalise(bodies[1]["id"])
    assert edited.ok
    run = SyncClient(client, BASE, result.credential, local, sleep=no_sleep).run()
    assert run.state == "done", run.last_error
    assert run.versions_sent == 5 and run.versions_waiting == 0
    assert server_versions(engine) == 5
    with engine.connect() as conn:
        heads_of = {r.report_id: r.heads_count for r in conn.execute(select(reports.c.id.label("report_id"),
                                                                             reports.c.heads_count))}
        titles = dict(conn.execute(select(reports.c.id, reports.c.title)).all())
    assert all(heads_of[b["id"]] == 1 for b in bodies)  # the chains arrived whole: no orphan, no conflict
    assert titles[bodies[0]["id"]] == "filed offline 0, corrected"
    session.lock()


@SQLITE_ONLY
def test_unverifiable_certificate_fails_the_run_in_plain_words(alpha: Tablet) -> None:
    class BadCertificate(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            raise requests.exceptions.SSLError("certificate verify failed: self-signed certificate")

    alpha.file(report_body())
    result = alpha.client(BadCertificate(), "https://hq.example", sleep=no_sleep).run()
    assert result.state == "failed" and result.failures == 0
    assert "certificate was not accepted" in (result.last_error or "")
    assert alpha.reports.counts().waiting == 1


# ----- units -----------------------------------------------------------------------------------
@SQLITE_ONLY
def test_certificate_verification_cannot_be_turned_off(alpha: Tablet) -> None:
    with pytest.raises(InvalidInput) as err:
        alpha.client(object(), "https://hq.example", verify=False)
    assert err.value.field == "verify"
    with pytest.raises(InvalidInput) as err:
        alpha.client(object(), "https://hq.example", verify="/no/such/ca.pem")
    assert err.value.field == "verify"


def test_tuner_shrinks_on_failure_and_grows_on_success() -> None:
    t = LinkTuner(batch=40, timeout=10)
    t.failure(timed_out=True)
    assert t.batch == 20 and t.timeout == 15
    for _ in range(30):
        t.success(elapsed=0.05, nbytes=1000, grow_batch=True)
    assert t.batch == 500 and t.timeout == t.min_timeout
    for _ in range(20):
        t.failure(timed_out=False)
    assert t.batch == 1
    assert t.timeout_for(1_000_000) > t.timeout_for(1_000)
    with pytest.raises(InvalidInput):
        LinkTuner(batch=501)
