"""The tablet as a patrol uses it, in a real window (Xvfb) against a live server.

One app, driven in order: a form that guides (contingent from the enrolment and locked; a blocked
finish lists what is missing and brings the first problem into view with the focus on it), GPS
that can be trusted (a simulated fix worse than the user's limit is refused, a good one kept
with its accuracy), and HQ's word first (HQ's request for more information is a to-do with a
badge that the filed edit clears; the contingent's other reports go to their own paged list), and
HQ's tasks (My tasks: accepted, done with a note, back at HQ after the sync). Screenshots of these screens go to ``docs/img/app-<screen>-<lang>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import pytest
from e2e.live_server import live_server
from fastapi.testclient import TestClient
from ui.driver import ROOT, AppProcess, xvfb

from factories import Mission, build_mission, photo_with_exif, report_body, store
from peacewatch.common.i18n import catalog
from peacewatch.mobile.ui.text import tr
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.devices.service import issue_code

pytestmark = [
    pytest.mark.window,
    pytest.mark.xdist_group("test_window_patrol"),  # one app per module, its tests in order on one worker
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (scripts/system-deps.sh)"),
]

PIN = "4711"
IMG = ROOT / "docs" / "img"
# A fix 120 m from good: refused under the default 50 m limit.
SIMULATED_FIX = "4.85,31.6,120,7,3"


class Patrol:
    """The running app, the live server's URL and the mission behind it."""

    def __init__(self, app: AppProcess, url: str, mission: Mission, data_dir: Path) -> None:
        self.app, self.url, self.mission, self.data_dir = app, url, mission, data_dir


@pytest.fixture(scope="module")
def patrol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Patrol]:
    tmp = tmp_path_factory.mktemp("patrol")
    settings = Settings(data_dir=tmp / "server", database_url=f"sqlite:///{tmp / 'server.db'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with TestClient(create_app(settings, engine)) as client:
        mission = build_mission(client, engine, enrol_for=())
        with live_server(settings, engine) as (host, port), xvfb(1280, 1280) as display:
            files = tmp / "files"
            files.mkdir()
            (files / "burnt-house.jpg").write_bytes(photo_with_exif())
            app = AppProcess(display, tmp / "tablet", tmp / f"control-{os.urandom(3).hex()}",
                             env={"PEACEWATCH_SIMULATED_GPS": SIMULATED_FIX, "PEACEWATCH_FILES": str(files)})
            try:
                yield Patrol(app, f"http://{host}:{port}", mission, tmp / "tablet")
            finally:
                app.stop()
    engine.dispose()


def test_a_blocked_finish_lists_what_is_missing_and_shows_the_first_problem(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]
    app.type("pin", PIN)
    app.type("pin_confirm", PIN)
    app.tap("pin_ok")
    app.tap("go_settings")
    app.type("server", patrol.url)
    app.type("enrol_code", code)
    app.tap("enrol")
    app.wait_for(lambda s: "patrol_a" in s["texts"]["enrolled_as"], what="enrolment")
    assert app.text("contingent") == "ALPHA"  # what the server says, not what was typed
    app.tap("settings_back")

    app.tap("new_report")
    app.tap("kind_incident")
    texts = app.state()["texts"]
    assert texts["field:contingent"] == "ALPHA"  # shown, filled, not editable
    with pytest.raises(AssertionError, match="is not a text box"):
        app.type("field:contingent", "BRAVO")
    assert texts["label:title"].endswith("* (Required)")  # marked before any finishing attempt

    app.call("scroll", id="error:", y=0)  # the patrol scrolled down to the bottom
    assert not app.visible("label:category")
    app.tap("form_finish")
    state = app.wait_for(lambda s: "goto:category" in s["texts"], what="summary of missing fields")
    assert state["screen"] == "form"
    assert state["texts"]["form_status"].startswith("This report cannot be sent yet:")
    links = [k for k in state["texts"] if k.startswith("goto:")]
    assert sorted(links) == ["goto:category", "goto:location", "goto:severity", "goto:title"]
    assert "goto:contingent" not in links
    assert state["texts"]["error:title"] == "This field is required."
    app.wait_for(lambda s: app.visible("error:category") and app.visible("label:category"),
                 what="the first problem scrolled into view")
    app.screenshot(IMG / "app-form-blocked-en.png")

    app.tap("pick:category")
    app.tap("choice:category=attack_on_civilians")
    app.call("scroll", id="error:", y=0)
    app.tap("form_finish")
    # The first problem is now the title: in view, and the keyboard's focus is on it.
    state = app.wait_for(lambda s: s["focused"] == "field:title", what="focus on the title")
    assert app.visible("field:title") and "goto:category" not in state["texts"]
    app.tap("goto:severity")  # a link in the summary goes to its field
    app.wait_for(lambda s: app.visible("error:severity"), what="severity in view")
    app.type("field:title", "Checkpoint fired on")
    app.tap("severity=3")
    app.type("field:location", "36N UL 44753 36243")
    app.wait_for(lambda s: "goto:" not in "".join(s["texts"]), what="nothing left blocking")


def test_a_poor_gps_fix_is_refused_and_a_good_enough_one_is_kept_with_its_accuracy(patrol: Patrol) -> None:
    app = patrol.app
    app.call("clear", id="field:location")
    app.tap("gps:location")
    state = app.wait_for(lambda s: "refused" in s["texts"]["form_status"], what="the fix refused")
    assert "± 120 m is not better than 50 m" in state["texts"]["form_status"]
    assert state["texts"]["field:location"] == "" and state["texts"]["display:location"] == ""
    app.screenshot(IMG / "app-gps-refused-en.png")

    app.tap("form_back")
    app.tap("go_settings")
    assert app.text("gps_max") == "50"
    app.call("clear", id="gps_max")
    app.type("gps_max", "150")
    app.tap("save_gps_max")
    app.tap("settings_back")
    app.tap("tab_drafts")
    app.tap("row_0")
    app.tap("gps:location")
    state = app.wait_for(lambda s: "satellites" in s["texts"]["form_status"], what="the fix kept")
    assert state["texts"]["form_status"] == "GPS ± 120 m, 7 satellites, 3 s old"
    assert state["texts"]["display:location"].endswith("(GPS ± 120 m)")
    assert state["texts"]["field:location"] == "4.85, 31.6"
    # Typed coordinates: the grid square, and no accuracy made up from the decimals.
    app.call("clear", id="field:location")
    app.type("field:location", "4.85, 31.6")
    shown = app.text("display:location")
    assert "±" not in shown and shown.endswith("(in grid square 36NUL4436)")


def sync(app: AppProcess, lang: str = "en") -> None:
    """Press "Sync now" once the run that finishing started is over, and wait for the new run."""
    deadline = time.monotonic() + 60
    while True:
        try:
            app.tap("sync_now")
            break
        except AssertionError:  # disabled while a run is going
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    done = tr("Synchronised.", lang)
    app.wait_for(lambda s: s["texts"]["sync_state"] == done, timeout=60, what="sync")


def test_hq_requests_are_a_to_do_and_others_reports_a_separate_paged_list(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    app.tap("form_finish")
    assert app.state()["screen"] == "home"
    # The rest of the contingent reported too; HQ reviewed one of theirs.
    others = [store(mission, "commander_a", report_body(author="commander_a", title=f"Other {i}"))
              for i in range(55)]
    analyst = mission.headers("analyst")
    items = mission.client.get("/api/v1/reports?limit=500", headers=analyst).json()["items"]
    theirs = next(i["id"] for i in items if i["title"] == "Other 0")
    assert mission.client.post(f"/api/v1/reports/{theirs}/review", json={"status": "verified"},
                               headers=analyst).status_code == 201
    app.tap("go_sync")
    sync(app)
    mine = next(i["id"] for i in mission.client.get("/api/v1/reports?limit=500", headers=analyst).json()["items"]
                if i["title"] == "Checkpoint fired on")
    r = mission.client.post(f"/api/v1/reports/{mine}/review",
                            json={"status": "needs_information", "comment": "How many shots? Who fired?"},
                            headers=analyst)
    assert r.status_code == 201, r.text
    sync(app)
    app.tap("sync_back")
    state = app.wait_for(lambda s: s["texts"]["todo_badge"] == "HQ asks about 1 of your reports", what="badge")
    texts = state["texts"]
    assert texts["tab_updated"].endswith("(1)")  # only the user's own report, not the 55 others'
    assert texts["tab_contingent"].endswith(f"({len(others)})")
    assert texts["tab_todo"].endswith("(1)")
    assert app.visible("todo_badge")
    app.screenshot(IMG / "app-home-todo-en.png")

    app.tap("tab_contingent")
    assert app.text("page_label") == "Page 1 of 2"
    app.tap("page_next")
    state = app.state()
    assert state["texts"]["page_label"] == "Page 2 of 2" and "row_4" in state["texts"] and "row_5" not in state["texts"]

    app.tap("todo_badge")
    app.tap("row_0")
    texts = app.state()["texts"]
    assert "HQ needs more information" in texts["review_0"] and "How many shots?" in texts["review_0"]
    app.tap("detail_edit")
    app.type("field:description", "Three shots, from the checkpoint's soldiers.")
    app.tap("form_finish")
    state = app.wait_for(lambda s: s["screen"] == "home", what="the edit filed")
    assert state["texts"]["tab_todo"].endswith("(0)") and state["texts"]["todo_badge"] == ""
    assert not app.visible("todo_badge")


def test_a_photo_offers_its_position_and_leaves_the_tablet_without_its_metadata(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    app.tap("new_report")
    app.tap("kind_incident")
    app.tap("pick:category")
    app.tap("choice:category=attack_on_civilians")
    app.type("field:title", "House burnt")
    app.tap("severity=2")
    app.tap("attach:photo")  # no camera on this desktop: the glove-sized picker
    app.tap("file_entry:burnt-house.jpg")
    state = app.wait_for(lambda s: "photo_position" in s["texts"], what="the photo's position offered")
    assert "36NUL45273637" in state["texts"]["photo_position"]
    assert "were removed; they never leave the tablet" in state["texts"]["form_status"]
    assert state["texts"]["attachment:0"].startswith("• burnt-house.jpg (")
    app.screenshot(IMG / "app-photo-position-en.png")
    app.tap("use_photo_position")
    shown = app.wait_for(lambda s: s["texts"].get("display:location"), what="position used")["texts"]["display:location"]
    assert shown.endswith("(in grid square 36NUL4536)")
    app.tap("form_finish")
    app.tap("go_sync")
    sync(app)
    assert "0 attachments" in app.text("sync_waiting")
    app.tap("sync_back")
    analyst = mission.headers("analyst")
    item = next(i for i in mission.client.get("/api/v1/reports?limit=500", headers=analyst).json()["items"]
                if i["title"] == "House burnt")
    report = mission.client.get(f"/api/v1/reports/{item['id']}", headers=analyst).json()
    sha = report["current"]["attachments"][0]["sha256"]
    photo = mission.client.get(f"/api/v1/attachments/{sha}", headers=analyst)
    assert photo.status_code == 200 and photo.content[:3] == b"\xff\xd8\xff"
    assert b"Rugged" not in photo.content and b"Exif" not in photo.content


def test_my_tasks_come_from_hq_and_go_back_done(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    analyst = mission.headers("analyst")
    made = mission.client.post("/api/v1/tasks", headers=analyst, json={
        "source": {"kind": "coverage_gap", "ref": h3.latlng_to_cell(4.85, 31.6, 8)}, "assignee": {"contingent": "ALPHA"},
        "title": "Patrol the market road", "instructions": "Nobody has been there for two weeks.",
        "priority": "urgent", "window_end": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert made.status_code == 201, made.text
    task_id = made.json()["id"]
    app.tap("go_sync")
    sync(app)
    app.tap("sync_back")
    app.wait_for(lambda s: s["texts"]["go_tasks"].startswith("My tasks (") and s["texts"]["go_tasks"] != "My tasks (0)",
                 what="the task on the home screen")
    app.tap("go_tasks")
    rows = {k: v for k, v in app.state()["texts"].items() if re.fullmatch(r"task_\d+", k)}
    row = next(k for k, v in rows.items() if "Patrol the market road" in v)
    assert rows[row].startswith("Urgent · ") and "— new · due " in rows[row]
    app.tap(row)
    texts = app.state()["texts"]
    assert texts["task_title"] == "Patrol: Patrol the market road"
    assert texts["task_instructions"] == "Nobody has been there for two weeks."
    assert texts["task_place"].startswith("Where: 36N")
    app.tap("task_cannot")  # no reason given: refused, nothing recorded
    assert app.text("tasks_message") == "Say why the task cannot be done."
    app.tap("task_accept")
    state = app.wait_for(lambda s: s["texts"]["task_status"] == "Status: accepted", what="accepted")
    assert state["texts"]["tasks_message"] == "Accepted."
    app.screenshot(IMG / "app-tasks-en.png")
    app.type("task_note", "Road clear, market open")
    app.tap("task_done")
    app.wait_for(lambda s: s["texts"]["tasks_message"] == "Marked done.", what="done")
    texts = app.state()["texts"]
    assert not any("Patrol the market road" in v for k, v in texts.items() if re.fullmatch(r"task_\d+", k))
    assert texts["task_status"] == "Status: done"  # still shown until another is chosen
    app.tap("tasks_back")
    app.tap("go_sync")
    sync(app)
    app.tap("sync_back")
    seen = mission.client.get(f"/api/v1/tasks/{task_id}", headers=analyst).json()
    assert seen["status"] == "done", seen
    assert [(e["status"], e["by"], e["note"]) for e in seen["events"]] == [
        ("accepted", "patrol_a", ""), ("done", "patrol_a", "Road clear, market open")]


def test_quick_delete_behind_the_pin_screen_leaves_a_tablet_that_looks_new(patrol: Patrol) -> None:
    app = patrol.app
    assert (patrol.data_dir / "store" / "header.json").exists()
    app.tap("lock")
    app.tap("quick_delete")
    assert app.text("pin_message").startswith("Tap Quick delete again")
    assert (patrol.data_dir / "store").exists()  # one stray tap erases nothing
    app.screenshot(IMG / "app-pin-quick-delete-en.png")
    app.tap("quick_delete")
    state = app.wait_for(lambda s: s["texts"]["pin_title"].startswith("Choose a PIN"), what="a fresh start")
    assert state["texts"]["pin_message"] == ""  # no trace of what happened
    assert not (patrol.data_dir / "store").exists()


# Latin words an Arabic screen may show: names of things, not words to translate.
NOT_WORDS = {"GPS", "MGRS", "KiB", "MiB", "peacewatch", "English", "Français"}
LATIN_WORD = re.compile(r"\b[A-Za-z][A-Za-z]+\b")  # letters only: grid references, DTGs and ids mix in digits


def uncatalogued(app: AppProcess, typed: set[str]) -> list[str]:
    """Every Latin word on screen that is neither in the Arabic catalog's own texts, a name, nor typed data."""
    in_catalog = {w for m in catalog("ar") if m.id for w in LATIN_WORD.findall(str(m.string))}
    allowed = NOT_WORDS | in_catalog | typed
    return sorted({f"{w!r} in {t!r}" for t in app.call("labels") for w in LATIN_WORD.findall(t) if w not in allowed})


def test_every_screen_in_arabic_shows_only_catalogued_text(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    typed = {"patrol", "ALPHA", "Checkpoint", "fired", "on"}  # the user name, contingent, typed title
    problems: dict[str, list[str]] = {}

    def check(screen: str) -> None:
        found = uncatalogued(app, typed)
        if found:
            problems[screen] = found

    app.tap("lang_en")
    assert "'Choose' in" in " ".join(uncatalogued(app, typed))  # the check sees English when it is there
    app.tap("lang_ar")
    check("pin (create)")
    app.type("pin", PIN)
    app.type("pin_confirm", PIN)
    app.tap("pin_ok")
    for tab in ("drafts", "waiting", "sent", "updated", "todo", "contingent"):
        app.tap(f"tab_{tab}")
        check(f"home {tab}")
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]
    app.tap("go_settings")
    app.type("server", patrol.url)
    app.type("enrol_code", code)
    app.tap("enrol")
    app.wait_for(lambda s: "patrol_a" in s["texts"]["enrolled_as"], what="enrolment")
    check("settings")
    app.tap("settings_back")
    app.tap("new_report")
    check("new")
    for kind in ("patrol", "hr_concern"):
        app.tap(f"kind_{kind}")
        if kind == "hr_concern":
            app.tap("add:victims")
        check(f"form {kind}")
        app.tap("form_back")
        app.tap("new_report")
    app.tap("kind_incident")
    app.tap("form_finish")
    app.wait_for(lambda s: "goto:title" in s["texts"], what="summary")
    check("form blocked")
    app.tap("gps:location")
    app.wait_for(lambda s: s["texts"]["form_status"] != "", what="GPS answer")
    check("form gps refused")
    app.screenshot(IMG / "app-form-blocked-ar.png")
    app.tap("pick:category")
    check("category picker")
    app.tap("choice:category=attack_on_civilians")
    app.type("field:title", "Checkpoint fired on")
    app.tap("severity=3")
    app.type("field:location", "36N UL 44753 36243")
    check("form filled")
    app.tap("form_finish")
    app.wait_for(lambda s: s["screen"] == "home", what="finished")
    app.tap("go_sync")
    sync(app, "ar")
    check("sync")
    app.tap("sync_back")
    app.tap("tab_sent")
    app.tap("row_0")
    check("detail")
    app.screenshot(IMG / "app-detail-own-ar.png")
    app.tap("detail_back")
    assert problems == {}, problems


def test_a_tablet_marked_lost_erases_itself_at_its_next_sync(patrol: Patrol) -> None:
    app, mission = patrol.app, patrol.mission
    admin = mission.headers("admin")
    devices = mission.client.get("/api/v1/admin/devices", headers=admin).json()
    # The tablet re-enrolled in the Arabic test (its first enrolment was quick-deleted: the server
    # does not know, which is the point of a quick delete).
    current = max((d for d in devices if d["username"] == "patrol_a"), key=lambda d: d["enrolled_at"])
    assert mission.client.post(f"/api/v1/admin/devices/{current['id']}/lost", headers=admin).status_code == 204
    assert (patrol.data_dir / "store" / "header.json").exists()
    app.tap("go_sync")
    deadline = time.monotonic() + 60
    while app.state()["screen"] == "sync" and time.monotonic() < deadline:
        try:
            app.tap("sync_now")
        except AssertionError:  # disabled while a run is going
            pass
        time.sleep(0.3)
    state = app.wait_for(lambda s: s["screen"] == "pin", what="the PIN screen after the wipe")
    wiped = "HQ reported this tablet lost and its reports were erased. Choose a new PIN to start again."
    shown = state["texts"]["pin_message"]
    assert sorted(shown.split()) == sorted(tr(wiped, "ar").split())  # the app was left in Arabic
    # Wrapped before reordering: the first line holds the first words, not the sentence's end.
    first_word = tr(wiped, "ar").split()[-1]  # visual order: the first logical word is rightmost
    assert len(shown.split("\n")) > 1 and shown.split("\n")[0].endswith(first_word)
    assert not (patrol.data_dir / "store").exists()
    assert (patrol.data_dir / "wiped.json").exists()
    app.screenshot(IMG / "app-pin-wiped-ar.png")
