"""A lost tablet gives nothing away: remote wipe, quick delete, and PIN recovery with the mission key.

The server runs in-process on SQLite and PostgreSQL; the tablet is the real encrypted store. Each
test reads the tablet's data folder as someone holding the device would, byte by byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from factories import Mission, report_body
from peacewatch.mobile.core import recovery, remote_wipe
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.keys import TEST_KDF
from peacewatch.mobile.core.reports import Reports
from peacewatch.mobile.core.store import Store
from peacewatch.mobile.core.sync_client import LocalStore, SyncClient, enrol
from peacewatch.mobile.ui.session import Session
from peacewatch.server.cli import main as peacewatch
from peacewatch.server.devices.service import issue_code

BASE = "http://testserver"
PIN = "4711"
SECRET = "Witness Secretname at the well"
PHOTO = b"\xff\xd8\xff\xe0 JPEG of the burnt house"


def every_file(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def enrolled_session(tmp_path: Path, client: TestClient, mission: Mission) -> Session:
    """A tablet set up as in the app: PIN, enrolment (role, contingent, recovery key), one unsent report."""
    from datetime import timedelta

    from peacewatch.server.db.engine import WRITE

    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]
    session = Session(tmp_path / "tablet")
    session.store = Store.create(session.store_path, PIN, kdf=TEST_KDF)
    result = enrol(client, BASE, code=code, label="test tablet")
    session.enrolled(result, BASE)
    body = report_body(description=SECRET, author="patrol_a", contingent="ALPHA")
    Drafts(session.open_store).save_draft(body["id"], "incident",
                                          {k: v for k, v in body.items() if k not in ("id", "kind")})
    assert Reports(session.open_store).finalise(body["id"]).ok
    Attachments(session.open_store).put_bytes(PHOTO, media_type="image/jpeg", name="house.jpg")
    (session.data_dir / "photo.jpg").write_bytes(PHOTO)  # the camera's file before encryption
    session.report_id = body["id"]  # type: ignore[attr-defined]
    return session


def test_a_tablet_marked_lost_erases_itself_at_its_next_contact(tmp_path, client, mission, settings) -> None:
    session = enrolled_session(tmp_path, client, mission)
    device_id, credential = session.open_store.device_id, session.setting("credential")
    r = client.post(f"/api/v1/admin/devices/{device_id}/lost", headers=mission.headers("admin"))
    assert r.status_code == 204, r.text
    listed = {d["id"]: d for d in client.get("/api/v1/admin/devices", headers=mission.headers("admin")).json()}
    assert listed[device_id]["lost"] and listed[device_id]["revoked"]

    sync = SyncClient(client, BASE, session.setting("credential"), LocalStore(session.open_store), max_failures=1)
    final = sync.run()
    assert final.state == "wiped" and final.finished
    remote_wipe.destroy(session.data_dir, session.store_path, session.store, reason="remote")
    session.store = None

    left = every_file(session.data_dir)
    assert set(left) == {remote_wipe.MARKER_NAME}  # only "this tablet was wiped", for the PIN screen
    for data in left.values():
        assert SECRET.encode() not in data and b"JPEG" not in data and b"BEGIN" not in data
    assert not session.has_store() and remote_wipe.was_wiped_remotely(session.data_dir)
    r = client.get("/api/v1/sync/pull", headers={"Authorization": f"Device {credential}"})
    assert r.status_code == 401 and r.json()["error"] == "device_wiped"  # for as long as it asks


def test_mark_lost_by_command_line_and_an_unknown_device(tmp_path, client, mission, settings, capsys) -> None:
    device_id = mission.device_id("patrol_b")
    args = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    assert peacewatch(["admin", "mark-lost", device_id, *args]) == 0
    r = client.get("/api/v1/sync/pull", headers=mission.device_headers("patrol_b"))
    assert r.status_code == 401 and r.json()["error"] == "device_wiped"
    r = client.post("/api/v1/admin/devices/no-such-device/lost", headers=mission.headers("admin"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_quick_delete_leaves_a_tablet_that_looks_new(tmp_path, client, mission) -> None:
    session = enrolled_session(tmp_path, client, mission)
    session.set_language("ar")
    remote_wipe.destroy(session.data_dir, session.store_path, session.store, reason="quick_delete")
    session.store = None
    assert set(every_file(session.data_dir)) == {"app.json"}  # the language only
    assert not session.has_store() and not remote_wipe.was_wiped_remotely(session.data_dir)


def test_a_forgotten_pin_costs_no_report_with_the_mission_recovery_key(tmp_path, client, mission, settings) -> None:
    args = ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    private = tmp_path / "offline" / "mission-recovery.pem"
    assert peacewatch(["admin", "recovery-key", "--out", str(private), *args]) == 0
    assert peacewatch(["admin", "recovery-key", "--out", str(private), *args]) == 2  # never overwritten
    session = enrolled_session(tmp_path, client, mission)
    store_dir = session.store_path
    sealed = (store_dir / recovery.RECOVERY_NAME).read_bytes()
    assert SECRET.encode() not in sealed
    # The PIN changes after enrolment: the sealed copy follows the new keys.
    session.open_store.change_pin(PIN, "8642", kdf=TEST_KDF)
    assert (store_dir / recovery.RECOVERY_NAME).read_bytes() != sealed
    session.lock()  # ...and then the patrol forgets it.

    other = tmp_path / "other.pem"
    assert peacewatch(["admin", "recovery-key", "--out", str(other), "--data-dir", str(tmp_path / "elsewhere")]) == 0
    with pytest.raises(InvalidInput, match="another mission recovery key"):
        recovery.open_with_private_key(store_dir, other.read_bytes())

    assert peacewatch(["admin", "recover-tablet", "--store", str(store_dir), "--private-key", str(private), *args]) == 0
    r = client.get(f"/api/v1/reports/{session.report_id}", headers=mission.headers("commander_a"))  # type: ignore[attr-defined]
    assert r.status_code == 200 and SECRET in r.text
    with recovery.open_with_private_key(store_dir, private.read_bytes()) as tablet:
        assert Reports(tablet).counts().waiting == 0  # marked sent: a second run re-sends nothing
