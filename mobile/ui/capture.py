"""Media capture for the form: GPS fixes, photos, voice notes and files, each through the platform.

- GPS: the app's :class:`~peacewatch.mobile.core.location_provider.LocationProvider` on a worker
  thread; the fix comes back on the Kivy thread, is judged against the user's "better than N m"
  setting and shown with its accuracy, satellites and age — or refused, saying why.
- Photo: plyer's camera (Android); on a desktop Kivy's camera when a camera provider is present,
  else the glove-sized file picker.
- Video: plyer's camera; the file picker where there is none.
- Voice note: plyer's recorder; the file picker where there is none.
- Files: :class:`GlovePicker`, 56 dp rows (Kivy's FileChooser has ~20 px rows: not for gloves).

A photo's EXIF is read on the device: a position in it is offered to the report, and under the
mission's policy (``common.media_metadata``, set at enrolment) the metadata is stripped before
the photo enters the store — so it never leaves the tablet — unless the report is restricted
(read by the protection team only, who verify photos by it).

Results reach the form only through the callbacks given, always on the Kivy thread.
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup
from kivy.uix.scrollview import ScrollView

from peacewatch.common.i18n import N_
from peacewatch.common.media_metadata import DEFAULT_POLICY, keeps_metadata, read_metadata, strip_metadata
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.errors import StorageFull
from peacewatch.mobile.core.location_provider import Fix, LocationProvider, default_provider, judge
from peacewatch.mobile.core.reference import Reference
from peacewatch.mobile.ui.forms import grid_example
from peacewatch.mobile.ui.text import isolate
from peacewatch.mobile.ui.widgets import Btn, Row, Txt

GPS_TIMEOUT_S = 20.0
MAX_PHOTO_IN_MEMORY = 64 * 1024 * 1024  # larger images are stored as they are, streamed
ATTACHED = N_("Attached: {file}.")
STRIPPED = N_("Attached: {file}. Its position, time and camera were removed; they never leave the tablet.")

REFUSED = {
    "too_coarse": N_("GPS fix refused: ± {accuracy} m is not better than {limit} m. Wait for a better fix or type the position."),
    "no_accuracy": N_("GPS fix refused: the device did not say how accurate it is. Type the position."),
    "stale": N_("GPS fix refused: it is {age} s old. Try again."),
}
FIX_TEXT = N_("GPS ± {accuracy} m, {satellites} satellites, {age} s old")
FIX_TEXT_NO_SATS = N_("GPS ± {accuracy} m, {age} s old")


class MediaCapture:
    """GPS, camera, recorder and files for one form screen."""

    def __init__(self, app: Any, *, say: Callable[[str, bool], None], attach: Callable[[str, dict[str, Any]], None],
                 confidentiality: Callable[[], str] = lambda: "mission",
                 offer_position: Callable[[float, float], None] = lambda lat, lon: None,
                 provider: LocationProvider | None = None) -> None:
        self.app = app
        self.say = say  # (text, is_error)
        self.attach = attach  # (field name, attachment body)
        self.confidentiality = confidentiality  # the report's, when the file is attached
        self.offer_position = offer_position  # a photo's EXIF position, for the report
        self.provider = provider or default_provider()
        self._recording = False

    def t(self, msgid: str, **params: object) -> str:
        return self.app.t(msgid, self.app.lang, **params)

    # ----- location --------------------------------------------------------------------------
    def grid_example(self) -> str:
        """An example grid reference inside the mission's area (from its places)."""
        return grid_example(Reference(self.app.session.open_store).centre())

    def gps(self, on_body: Callable[[dict[str, Any]], None]) -> None:
        self.say(self.t("Waiting for a GPS fix…"), False)
        limit = self.app.session.gps_max_accuracy()

        def work() -> None:
            fix = self.provider.fix(GPS_TIMEOUT_S)
            Clock.schedule_once(lambda dt: self._gps_done(fix, limit, on_body))

        threading.Thread(target=work, name="gps", daemon=True).start()

    def _gps_done(self, fix: Fix | None, limit: float, on_body: Callable[[dict[str, Any]], None]) -> None:
        if fix is None:
            self.say(self.t("No GPS here: type the position as MGRS or lat, lon."), True)
            return
        verdict = judge(fix, limit)
        if not verdict.ok:
            self.say(self.t(REFUSED[verdict.reason], accuracy=isolate(f"{fix.accuracy_m or 0:g}"),
                            limit=isolate(f"{limit:g}"), age=isolate(f"{fix.age_s:.0f}")), True)
            return
        body = fix.location.as_body()
        body["mgrs"] = fix.location.mgrs
        on_body(body)
        self.say(self.describe_fix(fix), False)

    def describe_fix(self, fix: Fix) -> str:
        params = {"accuracy": isolate(f"{fix.accuracy_m:g}"), "age": isolate(f"{fix.age_s:.0f}")}
        if fix.satellites is None:
            return self.t(FIX_TEXT_NO_SATS, **params)
        return self.t(FIX_TEXT, satellites=isolate(str(fix.satellites)), **params)

    # ----- files -----------------------------------------------------------------------------
    def describe_attachment(self, item: dict[str, Any]) -> str:
        size = int(item.get("size") or 0)
        shown = f"{size / 1024:.0f} KiB" if size < 10 * 1048576 else f"{size / 1048576:.1f} MiB"
        return self.app.shape(f"• {item.get('name')} ({isolate(shown)})")

    def add_file(self, name: str, path: str, media_type: str | None = None, *, captured: bool = False) -> None:
        """Encrypt a file into the store and attach it; ``captured``: a file the camera or recorder
        wrote for us in plaintext, deleted once it is safely in the store."""
        media = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        attachments = Attachments(self.app.session.open_store)
        stripped = False
        position = None
        try:
            if media.startswith("image/") and Path(path).stat().st_size <= MAX_PHOTO_IN_MEMORY:
                data = Path(path).read_bytes()
                meta = read_metadata(data)
                position = (meta.lat, meta.lon) if meta.has_position else None
                policy = self.app.session.setting("photo_metadata") or DEFAULT_POLICY
                if not keeps_metadata(policy, confidentiality=self.confidentiality()):
                    data, stripped = strip_metadata(data)
                ref = attachments.put_bytes(data, media_type=media, name=Path(path).name)
            else:
                ref = attachments.put_file(path, media_type=media, name=Path(path).name)
        except (OSError, StorageFull) as exc:
            self.say(self.t("Could not attach the file: {reason}", reason=str(exc)), True)
            return
        if captured:
            Path(path).unlink(missing_ok=True)
        self.attach(name, ref.as_body())
        size = self.describe_attachment(ref.as_body())
        self.say(self.t(STRIPPED if stripped else ATTACHED, file=size.lstrip("• ")), False)
        if position is not None:
            self.offer_position(*position)

    def photo(self, name: str) -> None:
        target = str(Path(self.app.user_data_dir) / "photo.jpg")
        try:
            from plyer import camera

            camera.take_picture(filename=target, on_complete=lambda path: Clock.schedule_once(
                lambda dt: self.add_file(name, path, "image/jpeg", captured=True)))
            return
        except NotImplementedError:  # no platform camera (desktop)
            pass
        if not self._desktop_camera(name):
            self.choose_file(name)

    def video(self, name: str) -> None:
        """plyer's video recorder (Android); the file picker where there is none."""
        target = str(Path(self.app.user_data_dir) / "video.mp4")
        try:
            from plyer import camera

            camera.take_video(filename=target, on_complete=lambda path: Clock.schedule_once(
                lambda dt: self.add_file(name, path, "video/mp4", captured=True)))
        except NotImplementedError:
            self.choose_file(name)

    def _desktop_camera(self, name: str) -> bool:
        """Kivy's camera when a provider (OpenCV, GStreamer...) is installed; False if none."""
        from kivy.core.camera import Camera as CoreCamera

        if CoreCamera is None:
            return False
        from kivy.uix.camera import Camera

        try:
            camera = Camera(play=True, resolution=(1280, 720))
        except Exception:  # noqa: BLE001 - a provider without a device behind it: use the picker
            return False
        content = BoxLayout(orientation="vertical", spacing=dp(6))
        content.add_widget(camera)
        row = Row(size_hint_y=None, height=dp(56))
        popup = Popup(title=self.t("Photo"), content=content, size_hint=(0.95, 0.95))

        def take(*_: object) -> None:
            target = Path(self.app.user_data_dir) / "photo.png"
            camera.export_to_png(str(target))
            camera.play = False
            popup.dismiss()
            self.add_file(name, str(target), "image/png", captured=True)

        shoot = Btn(text=self.t("Take photo"), pw_id="camera_take")
        shoot.bind(on_release=take)
        cancel = Btn(text=self.t("Cancel"), pw_id="camera_cancel")
        cancel.bind(on_release=lambda *_: (setattr(camera, "play", False), popup.dismiss()))
        row.add_widget(shoot)
        row.add_widget(cancel)
        content.add_widget(row)
        popup.open()
        return True

    def voice(self, name: str) -> None:
        from plyer import audio

        if self._recording:
            audio.stop()
            self._recording = False
            self.add_file(name, audio.file_path, "audio/3gpp", captured=True)
            return
        try:
            audio.file_path = str(Path(self.app.user_data_dir) / "voice-note.3gp")
            audio.start()
        except NotImplementedError:  # no recorder backend here (desktop): pick a file instead
            self.choose_file(name)
            return
        self._recording = True
        self.say(self.t("Recording… press Voice note again to stop."), False)

    def choose_file(self, name: str) -> None:
        GlovePicker(self.app, start=Path(os.environ.get("PEACEWATCH_FILES") or Path.home()),
                    on_pick=lambda path: self.add_file(name, str(path))).open()


class GlovePicker:
    """A file picker a gloved finger can use: one 56 dp row per folder or file, folders first."""

    MAX_ENTRIES = 300  # a folder of thousands of photos must not freeze the UI thread

    def __init__(self, app: Any, *, start: Path, on_pick: Callable[[Path], None]) -> None:
        self.app = app
        self.on_pick = on_pick
        self.grid = GridLayout(cols=1, size_hint_y=None, spacing=dp(4))
        self.grid.bind(minimum_height=self.grid.setter("height"))
        scroll = ScrollView(bar_width=dp(12), scroll_type=["bars", "content"])
        scroll.add_widget(self.grid)
        content = BoxLayout(orientation="vertical", spacing=dp(6))
        self.where = Txt(pw_id="file_where")
        content.add_widget(self.where)
        content.add_widget(scroll)
        row = Row(size_hint_y=None, height=dp(56))
        up = Btn(text=app.t("Up one folder", app.lang), pw_id="file_up")
        up.bind(on_release=lambda *_: self.show(self.folder.parent))
        cancel = Btn(text=app.t("Cancel", app.lang), pw_id="file_cancel")
        cancel.bind(on_release=lambda *_: self.popup.dismiss())
        row.add_widget(up)
        row.add_widget(cancel)
        content.add_widget(row)
        self.popup = Popup(title=app.t("Choose a file", app.lang), content=content, size_hint=(0.95, 0.95),
                           title_size="22sp")
        self.folder = start
        self.show(start)

    def open(self) -> None:
        self.popup.open()

    def show(self, folder: Path) -> None:
        self.folder = folder
        self.where.text = self.app.shape(isolate(str(folder)))
        self.grid.clear_widgets()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: (not e.is_dir(), e.name.lower()))
        except OSError:
            entries = []
        shown = [e for e in entries if not e.name.startswith(".")][: self.MAX_ENTRIES]
        for entry in shown:
            is_dir = entry.is_dir()
            label = f"[{entry.name}]" if is_dir else f"{entry.name}  ({self._size(entry)})"
            button = Btn(text=label, pw_id=f"file_entry:{entry.name}", halign="left",
                         background_color=(0.15, 0.15, 0.15, 1), color=(1, 1, 1, 1), bold=is_dir)
            target = Path(entry.path)
            button.bind(on_release=lambda *_, p=target, d=is_dir: self.show(p) if d else self._pick(p))
            self.grid.add_widget(button)

    @staticmethod
    def _size(entry: os.DirEntry[str]) -> str:
        try:
            size = entry.stat().st_size
        except OSError:
            return "?"
        return f"{size / 1024:.0f} KiB" if size < 10 * 1048576 else f"{size / 1048576:.1f} MiB"

    def _pick(self, path: Path) -> None:
        self.popup.dismiss()
        self.on_pick(path)
