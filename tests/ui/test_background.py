"""Background sync without a window: a worker thread against the real server (in-process), progress
handed to the UI only through ``post``, plain-words states, and the automatic retry pacing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from factories import Mission, build_mission
from peacewatch.mobile.core.sync_client import EnrolResult, SyncProgress
from peacewatch.mobile.ui.background import BackgroundSync, describe
from peacewatch.mobile.ui.session import Session
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import make_engine
from peacewatch.server.db.migrate import upgrade


@pytest.fixture
def mission(tmp_path: Path) -> Iterator[Mission]:
    settings = Settings(data_dir=tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server.db'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with TestClient(create_app(settings, engine)) as client:
        yield build_mission(client, engine, enrol_for=("patrol_a",))
    engine.dispose()


@pytest.fixture
def session(tmp_path: Path, monkeypatch) -> Iterator[Session]:
    monkeypatch.setenv("PEACEWATCH_KDF", "test")
    s = Session(tmp_path / "tablet")
    s.create("4711", "4711")
    yield s
    s.lock()


def file_report(session: Session) -> str:
    report_id = str(uuid.uuid4())
    session.drafts.save_draft(report_id, "incident", {
        "category": "attack_on_civilians", "title": "Market attacked", "event_time": "2026-11-24T15:30:00Z",
        "location": {"lat": 4.85, "lon": 31.6, "precision_m": 10, "source": "gps"}, "severity": 3,
        "contingent": "ALPHA", "author": "patrol_a",
    })
    assert session.reports.finalise(report_id).ok
    return report_id


class Posted:
    """Stands in for Clock.schedule_once: collects callbacks; the test runs them as the UI thread would."""

    def __init__(self) -> None:
        self.calls: list[Callable[[], None]] = []

    def __call__(self, fn: Callable[[], None]) -> None:
        self.calls.append(fn)

    def run(self) -> None:
        while self.calls:
            self.calls.pop(0)()


def runner(session: Session, posted: Posted, seen: list[SyncProgress], factory) -> BackgroundSync:
    return BackgroundSync(session, post=posted, on_progress=seen.append, session_factory=factory,
                          client_options={"sleep": lambda s: None})


def test_sync_runs_off_the_ui_thread_and_reports_through_post(mission: Mission, session: Session):
    device_id, credential = mission.devices["patrol_a"]
    session.enrolled(EnrolResult(device_id, credential, "patrol_a"), "http://testserver")
    file_report(session)
    posted, seen = Posted(), []
    sync = runner(session, posted, seen, lambda: mission.client)
    assert sync.start()
    sync._thread.join(timeout=30)
    assert not seen  # nothing reached the UI side yet: only through post
    posted.run()
    assert seen[-1].state == "done" and seen[-1].versions_sent == 1
    assert describe(seen[-1], "fr") == "Synchronisée."
    assert session.setting("last_sync_at")  # recorded on the UI thread too
    assert session.reports.counts().sent == 1


def test_not_enrolled_and_no_connection_in_plain_words(mission: Mission, session: Session):
    posted, seen = Posted(), []
    sync = runner(session, posted, seen, lambda: mission.client)
    assert not sync.start()
    posted.run()
    assert seen[-1].state == "not_enrolled"
    assert describe(seen[-1], "en") == "Enrol this tablet in Settings before synchronising."

    session.enrolled(EnrolResult("dev", "cred", "patrol_a"), "http://127.0.0.1:9")  # nothing listens there
    file_report(session)
    sync = runner(session, posted, seen, requests.Session)
    assert sync.start()
    sync._thread.join(timeout=60)
    posted.run()
    assert seen[-1].state == "offline"
    assert describe(seen[-1], "en") == "No connection — 1 reports waiting."
    assert sync.interval == 2 * sync.min_interval  # waits longer before trying again


def test_tick_starts_only_when_due_and_something_waits(session: Session):
    posted, seen = Posted(), []
    sync = runner(session, posted, seen, lambda: None)
    assert not sync.tick(100.0, waiting=0)
    assert not sync.tick(1.0, waiting=3)  # the nothing-waiting tick reset nothing: 101 s accrued...
    sync._since_last = 0.0
    assert not sync.tick(sync.min_interval / 2, waiting=3)
    assert not sync.tick(sync.min_interval, waiting=3)  # due, but not enrolled: no run started
    posted.run()
    assert seen[-1].state == "not_enrolled"
