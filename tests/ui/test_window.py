"""The real app in a real window (Xvfb + Mesa), driven as a user would, against a real server.

One journey: set a PIN, enrol with a one-time code, start an incident with an MGRS location, get
killed (SIGKILL) mid-typing, restart, unlock, find the draft with every keystroke, finish it, sync
it to the live server, see HQ's review decision arrive. Then every screen is captured in English,
French and Arabic into ``docs/img/app-<screen>-<lang>.png`` (language switched without restart),
and the form is checked at the portrait tablet size.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from e2e.live_server import live_server
from fastapi.testclient import TestClient
from PIL import Image
from ui.driver import ROOT, AppProcess

from factories import Mission, build_mission
from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.devices.service import issue_code

pytestmark = [
    pytest.mark.window,
    pytest.mark.xdist_group("test_window"),  # one app per module, its tests in order on one worker
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (scripts/system-deps.sh)"),
]

PIN = "4711"
IMG = ROOT / "docs" / "img"
SCREENS = ("pin", "home", "new", "form", "detail", "sync", "settings")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Mission]]:
    settings = Settings(data_dir=tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server.db'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with TestClient(create_app(settings, engine)) as client:
        mission = build_mission(client, engine, enrol_for=())
        with live_server(settings, engine) as (host, port):
            yield f"http://{host}:{port}", mission
    engine.dispose()


def start(display: str, tmp_path: Path, size: str = "1280x800", via_cli: bool = False) -> AppProcess:
    return AppProcess(display, tmp_path / "tablet", tmp_path / f"control-{os.urandom(3).hex()}", size=size,
                      via_cli=via_cli)


def shot(app: AppProcess, screen: str, lang: str) -> None:
    path = app.screenshot(IMG / f"app-{screen}-{lang}.png")
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    # A usable screen has text and controls on it, not one flat colour.
    assert colours is not None and len(colours) > 20, f"{path} looks empty"


def test_field_journey_kill_restart_sync_review(server: tuple[str, Mission], display: str, tmp_path: Path) -> None:
    url, mission = server
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]

    app = start(display, tmp_path)
    try:
        assert app.state()["screen"] == "pin"
        app.type("pin", PIN)
        app.type("pin_confirm", PIN)
        app.tap("pin_ok")
        assert app.state()["screen"] == "home"

        app.tap("go_settings")
        app.type("server", url)
        app.type("enrol_code", code)
        app.tap("enrol")
        app.wait_for(lambda s: "patrol_a" in s["texts"]["enrolled_as"], what="enrolment")
        # The server says which contingent the user belongs to; a patrol cannot change it.
        assert app.text("contingent") == "ALPHA"
        with pytest.raises(AssertionError, match="no enabled widget"):
            app.tap("save_contingent")
        app.tap("settings_back")

        app.tap("new_report")
        app.tap("kind_incident")
        assert app.state()["screen"] == "form"
        app.tap("pick:category")
        app.tap("choice:category=attack_on_civilians")
        app.type("field:title", "Market attacked")
        app.type("field:location", "36N UL 4475 3624")
        shown = app.text("display:location")
        assert "36NUL44753624" in shown and "4.8" in shown and "31.6" in shown  # both forms
        app.type("field:location", "9")  # "...36249" is an odd number of digits: not a grid reference
        assert app.text("error:location")  # the problem is shown next to the field, live
        app.call("clear", id="field:location")
        app.type("field:location", "36N UL 44753 36243")
        assert app.text("error:location") == ""
        app.tap("severity=3")
        app.type("field:description", "Armed men fired on the mar")
        app.kill()  # mid-sentence: no chance to save anything more
    finally:
        app.stop()

    app = start(display, tmp_path, via_cli=True)  # the restart goes through `peacewatch app`
    try:
        app.type("pin", "0000")
        app.tap("pin_ok")
        assert app.text("pin_message").startswith("Wrong PIN. 9 attempts left")
        app.type("pin", PIN)
        app.tap("pin_ok")
        if app.state()["screen"] == "pin":  # still inside the back-off after the wrong PIN
            assert app.text("pin_message").startswith("Too many wrong PINs. Try again in")
            time.sleep(1.2)
            app.type("pin", PIN)
            app.tap("pin_ok")
        state = app.wait_for(lambda s: s["screen"] == "home", what="unlock")
        assert state["texts"]["tab_drafts"].endswith("(1)")
        app.tap("row_0")
        texts = app.state()["texts"]
        assert texts["field:title"] == "Market attacked"
        assert texts["field:description"] == "Armed men fired on the mar"
        assert texts["pick:category"] == "Attack on civilians"
        assert "36NUL4475336243" in texts["display:location"]
        app.type("field:description", "ket.")
        app.tap("form_finish")
        state = app.state()
        assert state["screen"] == "home", state["texts"]
        # Finishing starts a background sync; the UI thread keeps answering meanwhile.
        app.tap("go_sync")
        app.wait_for(lambda s: s["texts"]["sync_state"] == "Synchronised.", timeout=60, what="sync")
        assert "0 reports" in app.text("sync_waiting")

        report_id = _only_report(mission)
        analyst = mission.headers("analyst")
        r = mission.client.post(f"/api/v1/reports/{report_id}/review",
                                json={"status": "verified", "comment": "Confirmed by UNPOL."}, headers=analyst)
        assert r.status_code == 201, r.text
        app.tap("sync_now")
        app.wait_for(lambda s: s["texts"]["sync_state"] == "Synchronised.", timeout=60, what="second sync")
        app.tap("sync_back")
        state = app.wait_for(lambda s: s["texts"]["tab_updated"].endswith("(1)"), what="HQ update")
        app.tap("tab_updated")
        app.tap("row_0")
        texts = app.state()["texts"]
        assert "verified by HQ" in texts["review_0"]
        assert "Confirmed by UNPOL." in texts["review_0"] + texts.get("comment_0", "")

        capture_every_screen(app)
        portrait(app)
        change_pin(app)
    finally:
        app.stop()


def _only_report(mission: Mission) -> str:
    r = mission.client.get("/api/v1/reports", headers=mission.headers("analyst"))
    assert r.status_code == 200, r.text
    data = r.json()
    items = data["items"] if isinstance(data, dict) else data
    assert len(items) == 1, items
    return items[0]["id"] if "id" in items[0] else items[0]["report_id"]


def capture_every_screen(app: AppProcess) -> None:
    """Every screen in en, fr and ar; the language changes in place (no restart)."""
    app.tap("detail_back")
    app.tap("new_report")
    app.tap("kind_hr_concern")
    app.tap("pick:category")
    app.tap("choice:category=conflict_related_sexual_violence")
    # Restricted categories start restricted.
    assert "confidentiality=restricted" in app.state()["down"]
    app.tap("add:victims")
    app.tap("form_back")
    for lang, drafts in (("en", "Drafts"), ("fr", "Brouillons"), ("ar", None)):
        app.tap("go_settings")
        app.tap(f"lang_{lang}")
        shot(app, "settings", lang)
        app.tap("settings_back")
        if drafts:
            assert app.text("tab_drafts").startswith(drafts)
        app.tap("tab_drafts")
        shot(app, "home", lang)
        app.tap("row_0")
        shot(app, "form", lang)
        app.tap("form_back")
        app.tap("tab_updated")
        app.tap("tab_sent")
        app.tap("row_0")
        shot(app, "detail", lang)
        app.tap("detail_back")
        app.tap("new_report")
        shot(app, "new", lang)
        app.tap("back")
        app.tap("go_sync")
        shot(app, "sync", lang)
        app.tap("sync_back")
        app.tap("lock")
        shot(app, "pin", lang)
        app.type("pin", PIN)
        app.tap("pin_ok")
    assert all((IMG / f"app-{s}-{lang}.png").exists() for s in SCREENS for lang in ("en", "fr", "ar"))
    app.tap("go_settings")
    app.tap("lang_en")
    app.tap("settings_back")


def portrait(app: AppProcess) -> None:
    """800x1280 (portrait tablet): the form still lays out and answers."""
    assert app.call("size", width=800, height=1280) == [800, 1280]
    app.tap("tab_drafts")
    app.tap("row_0")
    shot(app, "form-portrait", "en")
    app.type("field:title", "Woman assaulted near the well")
    assert app.text("form_status") == "Saved"
    app.tap("attach:photo")  # no camera on this desktop: the glove-sized file picker opens instead
    assert "file_up" in app.state()["texts"]
    app.tap("file_cancel")
    assert "file_up" not in app.wait_for(lambda s: "file_up" not in s["texts"], what="picker closed")["texts"]


def change_pin(app: AppProcess) -> None:
    app.call("size", width=1280, height=800)
    app.tap("form_back")
    app.tap("go_settings")
    app.type("old_pin", PIN)
    app.type("new_pin", "2580")
    app.type("new_pin2", "2580")
    app.tap("change_pin")
    assert app.text("settings_message") == "PIN changed."
    app.tap("settings_back")
    app.tap("lock")
    app.type("pin", "2580")
    app.tap("pin_ok")
    assert app.state()["screen"] == "home"
