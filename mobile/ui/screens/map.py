"""The map screen: the offline base map with HQ's layers, own reports, places and the GPS position.

Everything drawn comes from the encrypted store (``core.tiles``, ``core.map_data``); "Update map"
downloads the contingent's tile package and HQ's hot spots and coverage gaps for its area on a
worker thread (resumable: a cut link leaves what arrived and the next press continues). "My
position" asks the GPS on a worker thread and draws the fix with its accuracy circle and age.
A tap shows that point as MGRS and lat/lon; opened from a report form (``prepare(pick_for=...)``)
"Use this location" writes it into the form's location field as a typed MGRS grid reference,
which the form then parses like any typed position. A tap on a report's marker opens the report.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from kivy.app import App
from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from peacewatch.common import coords
from peacewatch.mobile.core import map_data, tasks
from peacewatch.mobile.core.location import Location
from peacewatch.mobile.core.location_provider import default_provider
from peacewatch.mobile.core.tiles import TilePackages
from peacewatch.mobile.core.transport import LinkError
from peacewatch.mobile.ui.mapview import MapView  # noqa: F401 - registers the widget for map.kv
from peacewatch.mobile.ui.text import shape

GPS_TIMEOUT_S = 20.0


class MapScreen(Screen):
    status = StringProperty("")
    pick_text = StringProperty("")
    fix_text = StringProperty("")
    counts_text = StringProperty("")
    pick_for = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.basemap = ""
        self.fix: Location | None = None
        self.fix_at = 0.0
        self.picked: tuple[float, float] | None = None
        self._busy = False
        self._centred_on = ""
        Clock.schedule_interval(self._tick, 1.0)

    # ----- life cycle -----------------------------------------------------------------------
    def prepare(self, pick_for: str = "") -> None:
        self.pick_for = pick_for
        self.picked = None
        self.pick_text = ""
        self.reload()

    def on_language(self) -> None:
        if not self._busy:
            self.status = ""  # a message in the previous language would linger
        self.reload()

    def reload(self) -> None:
        app = App.get_running_app()
        store = app.session.open_store
        view = self.ids.mapview
        tiles = TilePackages(store)
        packages = [p for p in tiles.packages() if p.tiles]
        if packages:
            pkg = packages[0]
            self.basemap = pkg.basemap
            low, high = pkg.minzoom, pkg.maxzoom if pkg.maxzoom is not None else pkg.minzoom
            view.set_source(lambda z, x, y, name=pkg.basemap: tiles.tile(name, z, x, y), low, high)
            if pkg.bounds and self._centred_on != pkg.version:
                west, south, east, north = pkg.bounds  # first view of a package: its middle
                view.centre_on((south + north) / 2, (west + east) / 2, min(high, low + 3))
                self._centred_on = pkg.version
        else:
            view.set_source(None, 0, 18)
        hot, gaps, area = tiles.layer("hotspots"), tiles.layer("coverage_gaps"), tiles.layer("area")
        view.hotspots = (hot or {}).get("features", [])
        view.gaps = (gaps or {}).get("features", [])
        view.area = (area or {}).get("bounds")
        lang = app.lang
        view.places = [(shape(p.name(lang)), p.lat, p.lon, p.sensitive) for p in map_data.places(store)]
        markers = map_data.report_markers(store)
        view.markers = [(m.report_id, m.state, m.lat, m.lon) for m in markers]
        view.tasks = [(task["id"], task["lat"], task["lon"]) for task in tasks.my_tasks(store)
                      if task.get("lat") is not None and task.get("lon") is not None]
        view.on_pick = self._picked
        view.on_marker = self._open
        view.on_task = lambda task_id: app.go("tasks", task_id=task_id)
        view.redraw()
        self.counts_text = app.t(
            "Tiles: {tiles} · reports: {reports} · tasks: {tasks} · hot spots: {hot} · gaps: {gaps} · places: {places}",
            lang, tiles=view.tiles_drawn, reports=len(markers), tasks=len(view.tasks), hot=len(view.hotspots),
            gaps=len(view.gaps), places=len(view.places))
        if not packages and not self._busy:
            self.status = app.t("No offline map yet: press Update map while connected.", lang)

    # ----- update: tile package and HQ's layers -----------------------------------------------
    def update_map(self) -> None:
        app = App.get_running_app()
        url, credential = app.session.setting("server_url"), app.session.setting("credential")
        if not url or not credential:
            self.status = app.t("Enrol this tablet first (Settings).", app.lang)
            return
        if self._busy:
            return
        self._busy = True
        self.status = app.t("Downloading the map…", app.lang)
        verify = app.session.setting("ca_path") or True
        tiles = TilePackages(app.session.open_store)

        def progress(done: int, total: int) -> None:
            Clock.schedule_once(lambda dt: setattr(self, "status", app.t(
                "Downloading the map: {done} of {total} parts", app.lang, done=done, total=total)))

        def work() -> None:
            session = requests.Session()
            try:
                offered = tiles.available(session, url, credential, verify=verify)
                if not offered:
                    result_text = app.t("HQ has no base map yet.", app.lang)
                else:
                    name = offered[0]["name"]
                    result = tiles.download(session, url, credential, name, verify=verify, max_failures=8,
                                            on_progress=progress)
                    tiles.pull_layers(session, url, credential, verify=verify)
                    if result.complete:
                        result_text = app.t("Map up to date: {parts} parts, {new} new.", app.lang,
                                            parts=result.chunks_total, new=result.chunks_fetched)
                    else:
                        result_text = app.t("Map download paused: {reason}", app.lang, reason=result.last_error)
            except LinkError as exc:
                result_text = app.t("Map download paused: {reason}", app.lang, reason=str(exc))
            Clock.schedule_once(lambda dt: self._updated(result_text))

        threading.Thread(target=work, name="map-update", daemon=True).start()

    def _updated(self, text: str) -> None:
        self._busy = False
        self.status = text
        self.reload()

    # ----- GPS ----------------------------------------------------------------------------------
    def locate(self) -> None:
        app = App.get_running_app()
        self.fix_text = app.t("Waiting for a GPS fix…", app.lang)
        provider = default_provider()  # PEACEWATCH_SIMULATED_GPS on a desktop, else the device's GPS

        def work() -> None:
            fix = provider.fix(GPS_TIMEOUT_S)
            located = fix.location if fix is not None else None
            Clock.schedule_once(lambda dt: self._located(located))

        threading.Thread(target=work, name="map-gps", daemon=True).start()

    def _located(self, fix: Location | None) -> None:
        app = App.get_running_app()
        if fix is None:
            self.fix_text = app.t("No GPS here: type the position as MGRS or lat, lon.", app.lang)
            return
        self.fix, self.fix_at = fix, time.monotonic()
        view = self.ids.mapview
        view.position = (fix.lat, fix.lon, fix.precision_m)
        view.centre_on(fix.lat, fix.lon)
        self._tick(0)

    def _tick(self, dt: float) -> None:
        if self.fix is None:
            return
        app = App.get_running_app()
        self.fix_text = app.t("Position ±{metres} m, fix {seconds} s old", app.lang,
                              metres=round(self.fix.precision_m), seconds=int(time.monotonic() - self.fix_at))

    # ----- taps -----------------------------------------------------------------------------------
    def _picked(self, lat: float, lon: float) -> None:
        self.picked = (lat, lon)
        self.pick_text = f"{coords.to_mgrs(lat, lon, 5)}   {lat:.5f}, {lon:.5f}"

    def use_location(self) -> None:
        """Write the picked point into the form's location field (as a typed MGRS) and go back."""
        app = App.get_running_app()
        if not self.picked or not self.pick_for:
            return
        form = app.root.get_screen("form")
        field = form.widgets.texts.get(self.pick_for)
        if field is not None:
            field.text = coords.to_mgrs(*self.picked, 5)
        app.root.current = "form"

    def _open(self, report_id: str) -> None:
        app = App.get_running_app()
        drafts = {d.report_id for d in app.session.drafts.list_drafts()}
        app.go("form" if report_id in drafts else "detail", report_id=report_id)

    def back(self) -> None:
        app = App.get_running_app()
        if self.pick_for:
            app.root.current = "form"
        else:
            app.go("home")

SCREEN = MapScreen
