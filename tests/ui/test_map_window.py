"""The tablet's map screen in a real window (Xvfb), against a real server with a base map.

The server has the demo base map (rendered by the seed's renderer), ALPHA's area of
responsibility, place names and a sensitive site, and a cluster of reports that makes a hot spot.
The tablet enrols, files a report with a typed position, downloads its map package and HQ's
layers, finds its (fake) GPS position with its accuracy circle, opens its report from the marker,
and picks a report's location by tapping the map. Screenshots: ``docs/img/app-map-<lang>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from e2e.live_server import live_server
from fastapi.testclient import TestClient
from PIL import Image
from ui.driver import ROOT, AppProcess

from factories import Mission, build_mission, report_body, store
from peacewatch.server.app import create_app
from peacewatch.server.basemaps.demo_render import seed_demo_basemap
from peacewatch.server.config import Settings
from peacewatch.server.db.engine import WRITE, make_engine
from peacewatch.server.db.migrate import upgrade
from peacewatch.server.devices.service import issue_code

pytestmark = [
    pytest.mark.window,
    pytest.mark.xdist_group("test_map_window"),  # one app per module, its tests in order on one worker
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (scripts/system-deps.sh)"),
]

PIN = "4711"
IMG = ROOT / "docs" / "img"
REPORT_AT = (1.58, 30.26)
HOT = (1.60, 30.30)
AREA = {"bounds": [30.1, 1.45, 30.45, 1.7], "minzoom": 9, "maxzoom": 13, "max_mb": 50}
LAND = (242, 239, 228)  # the demo base map's land colour (server/basemaps/demo_render.py)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Mission]]:
    settings = Settings(data_dir=tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server.db'}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with TestClient(create_app(settings, engine)) as client:
        mission = build_mission(client, engine, enrol_for=())
        seed_demo_basemap(engine, settings, zooms=range(9, 14))
        admin = mission.headers("admin")
        assert client.put("/api/v1/admin/areas/ALPHA", headers=admin, json=AREA).status_code == 200
        for item_id, kind, names, lon, lat in (
                ("bunia", "place", {"en": "Bunia", "ar": "بونيا"}, 30.2526, 1.5593),
                ("site1", "sensitive_site", {"en": "Bunia IDP site", "ar": "موقع نازحي بونيا"}, 30.33, 1.62)):
            r = client.put(f"/api/v1/admin/reference/{item_id}", headers=admin,
                           json={"kind": kind, "names": names, "geometry": {"type": "Point", "coordinates": [lon, lat]}})
            assert r.status_code == 201, r.text
        rng = np.random.default_rng(4)
        recent = datetime.now(UTC) - timedelta(days=2)
        for i in range(40):
            spread = 0.0015 if i < 20 else 0.2
            store(mission, "patrol_b" if i % 5 == 0 else "commander_a",
                  report_body(lat=HOT[0] + rng.uniform(-spread, spread), lon=HOT[1] + rng.uniform(-spread, spread),
                              contingent="BRAVO" if i % 5 == 0 else "ALPHA", confidentiality="public" if i % 5 == 0
                              else "mission", author="patrol_b" if i % 5 == 0 else "commander_a", event_time=recent))
        with live_server(settings, engine) as (host, port):
            yield f"http://{host}:{port}", mission
    engine.dispose()


def counts(app: AppProcess) -> dict[str, int]:
    text = app.text("map_counts")
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    assert len(numbers) == 6, text
    return dict(zip(("tiles", "reports", "tasks", "hot", "gaps", "places"), numbers, strict=True))


def shot(app: AppProcess, lang: str) -> Path:
    path = app.screenshot(IMG / f"app-map-{lang}.png")
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        colours = dict((c, n) for n, c in rgb.getcolors(maxcolors=1 << 20))
    assert colours.get(LAND, 0) > 20_000, "the base map's land is not on screen"
    return path


def test_map_screen_offline_tiles_position_layers_and_picking(server: tuple[str, Mission], display: str,
                                                              tmp_path: Path) -> None:
    url, mission = server
    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="patrol_a", ttl=timedelta(hours=1))["code"]
    os.environ["PEACEWATCH_SIMULATED_GPS"] = f"{REPORT_AT[0]},{REPORT_AT[1]},600"
    try:
        app = AppProcess(display, tmp_path / "tablet", tmp_path / "control", size="1280x800")
    finally:
        del os.environ["PEACEWATCH_SIMULATED_GPS"]
    try:
        app.type("pin", PIN)
        app.type("pin_confirm", PIN)
        app.tap("pin_ok")
        app.tap("go_settings")
        app.type("server", url)
        app.type("enrol_code", code)
        app.tap("enrol")
        app.wait_for(lambda s: "patrol_a" in s["texts"]["enrolled_as"], what="enrolment")
        assert app.text("contingent") == "ALPHA"  # set by the enrolment
        app.tap("settings_back")

        # Before any download the map says how to get one.
        app.tap("go_map")
        assert app.state()["screen"] == "map"
        assert "Update map" in app.text("map_status")
        app.tap("map_back")

        app.tap("new_report")
        app.tap("kind_incident")
        app.tap("pick:category")
        app.tap("choice:category=attack_on_civilians")
        app.type("field:title", "Shots near the market")
        app.type("field:location", f"{REPORT_AT[0]}, {REPORT_AT[1]}")
        app.tap("severity=3")
        app.tap("form_finish")
        assert app.state()["screen"] == "home"
        app.tap("go_sync")
        app.wait_for(lambda s: s["texts"]["sync_state"] == "Synchronised.", timeout=60, what="sync")
        app.tap("sync_back")

        app.tap("go_map")
        app.tap("map_update")
        app.wait_for(lambda s: s["texts"]["map_status"].startswith("Map up to date"), timeout=90, what="map download")
        seen = counts(app)
        layers = mission.client.get("/api/v1/basemaps/layers", headers=mission.headers("patrol_a")).json()
        assert layers["hotspots"]["features"], layers
        assert seen["tiles"] >= 6 and seen["reports"] == 1 and seen["places"] >= 2, seen
        assert seen["hot"] >= 1, seen  # HQ's hot spot for ALPHA's area, computed over what patrol_a may read

        app.tap("map_locate")
        app.wait_for(lambda s: "±600 m" in s["texts"]["map_fix"], what="GPS fix")
        assert re.search(r"fix \d+ s old", app.text("map_fix"))
        app.tap("map_zoom_in")
        shot(app, "en")

        # The report's marker sits where the fix centred the map: a tap opens the report.
        app.call("touch", id="map_view", fx=0.5, fy=0.5)
        assert app.state()["screen"] == "detail"
        app.tap("detail_back")

        # Panning moves the map (and keeps drawing tiles); a tap elsewhere reads the point.
        app.tap("go_map")
        app.call("touch", id="map_view", fx=0.5, fy=0.5, to=[0.35, 0.6])
        app.call("touch", id="map_view", fx=0.7, fy=0.3)
        picked = app.text("map_pick")
        assert re.search(r"36N[A-Z]{2}\d{10}", picked) and re.search(r"1\.\d{5}, 30\.\d{5}", picked), picked
        assert counts(app)["tiles"] >= 6
        app.tap("map_back")

        # From a report form: tap the map, use the point, and the form shows it as MGRS and lat/lon.
        app.tap("new_report")
        app.tap("kind_incident")
        app.tap("map:location")
        assert app.state()["screen"] == "map"
        app.call("touch", id="map_view", fx=0.3, fy=0.35)
        chosen = app.text("map_pick").split()[0]
        app.tap("map_use")
        state = app.state()
        assert state["screen"] == "form"
        shown = state["texts"]["display:location"]
        assert chosen in shown.replace(" ", "") and re.search(r"1\.\d+", shown) and "30." in shown, shown
        app.tap("form_back")

        app.tap("go_settings")
        app.tap("lang_ar")
        app.tap("settings_back")
        app.tap("go_map")
        assert counts(app)["places"] >= 2
        shot(app, "ar")
        app.tap("map_back")
        app.tap("go_settings")
        app.tap("lang_en")
        app.tap("settings_back")
    finally:
        app.stop()
